"""Every role's defaults/main.yml and meta/argument_specs.yml describe the same variables."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


def load(path):
    return yaml.safe_load(path.read_text()) or {}


def test_every_role_has_specs_and_defaults():
    for role in (ROOT / "roles").iterdir():
        assert (role / "meta" / "argument_specs.yml").exists(), role.name
        assert (role / "defaults" / "main.yml").exists(), role.name


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_specs_agree(role):
    defaults = load(ROOT / "roles" / role / "defaults" / "main.yml")
    specs = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    options = specs["main"]["options"]
    undocumented = sorted(set(defaults) - set(options))
    assert not undocumented, "defaults without a spec entry: %s" % undocumented
    # secrets (no_log) may be conditionally required: the role's preflight checks them
    missing = sorted(
        name
        for name, spec in options.items()
        if name not in defaults and not spec.get("required") and not spec.get("no_log")
    )
    assert not missing, "spec options that are neither required nor defaulted: %s" % missing
    for entry, spec in specs.items():
        assert spec["options"] == options, "entry point %s differs from main" % entry


@pytest.mark.parametrize("role", ROLES)
def test_secrets_have_no_default(role):
    defaults = load(ROOT / "roles" / role / "defaults" / "main.yml")
    options = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        if spec.get("no_log"):
            assert not defaults.get(name), "%s is a secret and must have no default" % name


@pytest.mark.parametrize("role", ROLES)
def test_public_variables_are_prefixed(role):
    defaults = load(ROOT / "roles" / role / "defaults" / "main.yml")
    assert all(name.startswith("mlflow_") for name in defaults), sorted(defaults)
    for vars_file in (ROOT / "roles" / role / "vars").glob("*.yml"):
        assert all(name.startswith("_mlflow_") for name in load(vars_file)), vars_file
