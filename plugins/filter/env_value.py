# Copyright: mlops.mlflow contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env_value filter: one value of a systemd EnvironmentFile, quoted so that systemd and a POSIX shell that
sources the file (set -a; . FILE) both read back exactly the original string."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: env_value
author: mlops.mlflow contributors
short_description: Quote a value for a systemd EnvironmentFile (and a shell that sources it)
description:
  - Returns the value in double quotes with C(\\), C("), C($) and C(`) escaped by a backslash. systemd's
    EnvironmentFile parser and a POSIX shell both remove exactly these escapes inside double quotes, so the
    unit's process and a shell that sources the file see the original string (no variable or command expansion).
  - A value with a newline or a carriage return fails (an environment file line cannot hold one).
positional: _input
options:
  _input:
    description: The value; anything else than a string is converted with str().
    type: raw
    required: true
"""

EXAMPLES = r"""
# KEY="value" line of an environment file
- ansible.builtin.copy:
    content: "MINIO_ROOT_PASSWORD={{ mlflow_minio_root_password | mlops.mlflow.env_value }}\n"
    dest: /etc/default/minio
    mode: "0640"
"""

RETURN = r"""
_value:
  description: The double-quoted, escaped value.
  type: str
"""

_ESCAPED = re.compile(r'([\\"$`])')


def env_value(value):
    text = "%s" % (value,)
    if "\n" in text or "\r" in text:
        raise AnsibleFilterError("env_value: an environment file value cannot contain a newline or carriage return")
    return '"%s"' % _ESCAPED.sub(r"\\\1", text)


class FilterModule:
    def filters(self):
        return {"env_value": env_value}
