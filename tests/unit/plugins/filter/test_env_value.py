# Copyright: mlops.mlflow contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""env_value: what systemd and a POSIX shell read back from KEY=<env_value> is the original string."""

from __future__ import annotations

import subprocess

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.mlops.mlflow.plugins.filter.env_value import env_value

VALUES = [
    "plain-Secret-123",
    'with "double" quotes',
    "back\\slash and trailing \\",
    "dollar $HOME ${PATH} $(id) and `id`",
    "percent %s %d %% and hash # not a comment",
    "  leading and trailing spaces  ",
    "single 'quotes' and ; & | < > * ? [ ] ~ !",
    "",
    12345,
]


@pytest.mark.parametrize("value", VALUES)
def test_a_shell_that_sources_the_line_reads_the_original(value):
    line = "VALUE=%s" % env_value(value)
    out = subprocess.run(
        ["sh", "-c", 'eval "$1"; printf %s "$VALUE"', "sh", line], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == str(value)


def systemd_unquote(quoted):
    """systemd's parse_env_file for a double-quoted value (src/basic/env-file.c): inside double quotes a backslash
    before one of \\ " ` $ is dropped, any other backslash is kept."""
    assert quoted[0] == quoted[-1] == '"'
    out, chars, i = [], quoted[1:-1], 0
    while i < len(chars):
        if chars[i] == "\\" and i + 1 < len(chars):
            if chars[i + 1] not in '"\\`$':
                out.append("\\")
            out.append(chars[i + 1])
            i += 2
            continue
        assert chars[i] != '"', "an unescaped quote ends the value early"
        out.append(chars[i])
        i += 1
    return "".join(out)


@pytest.mark.parametrize("value", VALUES)
def test_systemd_reads_the_original(value):
    assert systemd_unquote(env_value(value)) == str(value)


@pytest.mark.parametrize("value", ["two\nlines", "carriage\rreturn"])
def test_a_newline_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="newline"):
        env_value(value)
