"""Every role's defaults/main.yml and meta/argument_specs.yml describe the same variables.

The collection-wide variables (read by several roles, often on different hosts) have one owner, the
internal role _common: only it declares and specifies them, every role that reads one depends on it.
Values one role needs from another role's hosts are published (set_fact) by the owner and read from
hostvars: no role reads another role's defaults or private variables.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
COMMON = "_common"
OTHER_ROLES = [role for role in ROLES if role != COMMON]
# Required in each role that uses it: an argument spec cannot require it only where it is used.
SHARED_REQUIRED = {"mlflow_db_password"}
# Task keywords whose value is a bare Jinja expression (no braces).
BARE_EXPRESSIONS = {"when", "that", "failed_when", "changed_when", "until"}
JINJA = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
VARIABLE = re.compile(r"(?<![A-Za-z0-9_])_{0,2}mlflow_[a-z0-9_]+")
GROUPS = {"mlflow_db", "mlflow_artifacts", "mlflow_server", "mlflow_proxy"}


def load(path):
    return yaml.safe_load(path.read_text()) or {}


def options(role):
    return load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]


def defaults(role):
    return load(ROOT / "roles" / role / "defaults" / "main.yml")


def description(role):
    spec = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]
    return " ".join(spec.get("description", []))


def dependencies(role):
    meta = load(ROOT / "roles" / role / "meta" / "main.yml")
    return [d["role"] if isinstance(d, dict) else d for d in meta.get("dependencies") or []]


def declared(role):
    return set(defaults(role)) | set(options(role))


def _strings(node, key=None):
    """Every string in a YAML document, with the key it is the value of (list items keep their key)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, key)
    elif isinstance(node, str):
        yield key, node


def _expressions(text, bare=False):
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    found = ["".join(m) for m in JINJA.findall(text)]
    return found + ([text] if bare and not found else [])


def variables_read(role):
    """The mlflow_* names a role's tasks, handlers, vars, defaults and templates use in Jinja."""
    names = set()
    base = ROOT / "roles" / role
    for path in sorted(base.rglob("*")):
        if not path.is_file() or path.parts[len(base.parts)] == "meta":
            continue
        if path.suffix in (".yml", ".yaml"):
            exprs = [e for key, s in _strings(load(path)) for e in _expressions(s, bare=key in BARE_EXPRESSIONS)]
        else:
            exprs = _expressions(path.read_text())
        names |= {m for e in exprs for m in VARIABLE.findall(e)}
    return names - GROUPS


def _tasks(tasks):
    for task in tasks or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def published(role):
    """The facts a role publishes: the keys of its set_fact tasks."""
    facts = set()
    for path in (ROOT / "roles" / role / "tasks").glob("*.yml"):
        for task in _tasks(load(path)):
            for name in ("ansible.builtin.set_fact", "set_fact"):
                if isinstance(task.get(name), dict):
                    facts |= {k for k in task[name] if k != "cacheable"}
    return facts


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


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_no_role_redeclares_a_common_variable(role):
    """A collection-wide variable has one default and one spec entry, in _common."""
    common = set(options(COMMON))
    assert not sorted(set(defaults(role)) & common), "defaults re-declare _common variables"
    assert not sorted(set(options(role)) & common), "argument spec re-specifies _common variables"


def test_a_variable_two_roles_specify_belongs_to_common():
    owners = {}
    for role in OTHER_ROLES:
        for name in options(role):
            owners.setdefault(name, []).append(role)
    shared = {name: roles for name, roles in owners.items() if len(roles) > 1 and name not in SHARED_REQUIRED}
    assert not shared, "specified in several roles, move to roles/_common: %s" % shared
    for name in SHARED_REQUIRED:
        assert all(options(role)[name].get("required") for role in owners[name]), name


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_roles_that_read_common_variables_depend_on_common(role):
    reads = variables_read(role)
    if reads & set(options(COMMON)) or any(name.startswith("_mlflow_common_") for name in reads):
        assert "mlops.mlflow._common" in dependencies(role)


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_spec_description_names_the_common_variables_it_reads(role):
    """The role's generated README says which collection-wide variables it reads (documented in _common)."""
    missing = sorted(name for name in variables_read(role) & set(options(COMMON)) if name not in description(role))
    assert not missing, "%s reads these _common variables; name them in its spec description" % missing


@pytest.mark.parametrize("role", ROLES)
def test_published_facts_are_documented_and_no_setting(role):
    facts = published(role)
    everyone = set().union(*(declared(r) for r in ROLES))
    assert not sorted(facts & everyone), "a published fact must not shadow a variable users set"
    assert all(fact.startswith("mlflow_%s_" % role.lstrip("_")) for fact in facts), sorted(facts)
    missing = sorted(fact for fact in facts if fact not in description(role))
    assert not missing, "published facts not named in the spec description: %s" % missing


# Collection-wide variables that are gone: _common's preflight reads them only to refuse them, naming the new one.
REMOVED_COMMON = {"mlflow_minio_enabled"}


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reads_another_roles_defaults_or_private_variables(role):
    """A role reads its own variables, _common's, and what other roles publish, nothing else of theirs."""
    allowed = declared(role) | set().union(*(published(r) for r in ROLES))
    if role == COMMON:
        allowed |= REMOVED_COMMON
    else:
        allowed |= declared(COMMON)
    own = tuple(prefix % role.lstrip("_") for prefix in ("mlflow_%s_", "_mlflow_%s_", "__mlflow_%s_"))
    shared = ("_mlflow_common_",) if "mlops.mlflow._common" in dependencies(role) else ()
    foreign = sorted(name for name in variables_read(role) if not name.startswith(own + shared) and name not in allowed)
    assert not foreign, "%s reads %s: another role's default or private variable" % (role, foreign)
