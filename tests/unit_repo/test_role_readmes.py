"""Every role's README.md is the one scripts/lib/role-readmes.py renders from its argument spec and defaults."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location("role_readmes", ROOT / "scripts" / "lib" / "role-readmes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()
ROLES = [p.name for p in GENERATOR.roles(ROOT)]


def test_every_role_with_a_spec_is_rendered():
    with_spec = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
    assert with_spec == ROLES
    assert ROLES, "no role found"


@pytest.mark.parametrize("role", ROLES)
def test_role_readme_is_current(role):
    readme = ROOT / "roles" / role / "README.md"
    name = readme.relative_to(ROOT)
    assert readme.is_file(), "%s is missing: run scripts/lib/role-readmes.py --write" % name
    expected = GENERATOR.render(ROOT / "roles" / role, GENERATOR.collection_name(ROOT))
    assert readme.read_text() == expected, "%s is stale: run scripts/lib/role-readmes.py --write" % name


@pytest.mark.parametrize("role", ROLES)
def test_role_readme_lists_every_option(role):
    specs = GENERATOR.load_yaml(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    readme = (ROOT / "roles" / role / "README.md").read_text()
    for name, spec in specs["main"]["options"].items():
        row = next((line for line in readme.splitlines() if line.startswith("| `%s`" % name)), None)
        assert row is not None, "%s missing from roles/%s/README.md" % (name, role)
        assert ("(secret, `no_log`)" in row) == bool(spec.get("no_log")), row


def test_check_passes_on_the_repository():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lib" / "role-readmes.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_a_new_internal_role_without_defaults(tmp_path):
    """A role added later (an internal _common, defaults only in the spec) renders, and --check names it."""
    role = tmp_path / "roles" / "_common"
    (role / "meta").mkdir(parents=True)
    (tmp_path / "galaxy.yml").write_text("namespace: acme\nname: demo\n")
    (role / "meta" / "argument_specs.yml").write_text(
        """
argument_specs:
  main:
    short_description: Collection-wide variables
    description:
      - Owns the variables every role reads, such as C(demo_version).
    options:
      demo_version: {type: str, default: "3.10", description: "Release of I(demo)."}
      demo_token: {type: str, required: true, no_log: true, description: Token.}
      demo_mode: {type: str, choices: [a, b], default: a, description: "A | B."}
      demo_opts:
        type: dict
        description: Options.
        options:
          level: {type: int, default: 2, description: Level.}
"""
    )
    assert [p.name for p in GENERATOR.roles(tmp_path)] == ["_common"]
    assert list(GENERATOR.stale(tmp_path)) == [role / "README.md"]
    text = GENERATOR.render(role)
    assert "# acme.demo._common" in text
    assert "Owns the variables every role reads, such as `demo_version`." in text
    assert '| `demo_version` | str | `"3.10"` |  |  | Release of *demo*. |' in text
    assert "| `demo_token` (secret, `no_log`) | str |  | yes |  | Token. |" in text
    assert "| `demo_mode` | str | `a` |  | `a`, `b` | A \\| B. |" in text
    assert "| `demo_opts.level` | int | `2` |" in text
    (role / "README.md").write_text(text)
    assert GENERATOR.stale(tmp_path) == {}
