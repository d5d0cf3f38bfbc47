"""The tested platforms are named alike everywhere, and what differs between them lives in vars files only.

One list: the test images and the default scenario's runs (tests/images/platforms.sh), preflight's check
(roles/_common/vars/main.yml), every role's meta/main.yml and galaxy.yml's description.
"""

import re
from pathlib import Path

import pytest
import yaml
from mlflow_checks import platform_table

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent.name for p in ROOT.glob("roles/*/meta/main.yml"))
# Roles whose tasks install or name distribution packages: one vars file per tested platform, one per family.
WITH_VARS = ["postgresql", "proxy", "python_env"]


def releases_of_preflight():
    """{distribution: [release, ...]} of preflight's list (each release maps to its name there)."""
    tested = yaml.safe_load((ROOT / "roles/_common/vars/main.yml").read_text())["_mlflow_common_tested_platforms"]
    return {distribution: list(releases) for distribution, releases in tested.items()}


def test_the_images_and_preflight_name_the_same_releases():
    assert sorted(p["suite"] for p in platform_table().values()) == sorted(
        r for rs in releases_of_preflight().values() for r in rs
    )
    assert len(platform_table()) == 3


@pytest.mark.parametrize("role", ROLES)
def test_every_role_lists_exactly_the_tested_platforms(role):
    meta = yaml.safe_load((ROOT / "roles" / role / "meta/main.yml").read_text())
    listed = {p["name"]: p["versions"] for p in meta["galaxy_info"]["platforms"]}
    assert listed == releases_of_preflight()


@pytest.mark.parametrize("role", WITH_VARS)
def test_each_platform_has_its_vars_file_with_the_same_names(role):
    stems = [p["vars"] for p in platform_table().values()] + ["Debian"]
    files = {stem: yaml.safe_load((ROOT / "roles" / role / "vars" / (stem + ".yml")).read_text()) for stem in stems}
    names = {stem: sorted(content) for stem, content in files.items()}
    assert len({tuple(n) for n in names.values()}) == 1, names


# Release-specific names: a package or path of one release only. They belong in vars/<distribution>-<major>.yml.
RELEASE_SPECIFIC = re.compile(r"nginx-light|postgresql-\d|postgresql@\d|python3\.\d|bookworm|trixie|noble|/\d\d/main")


@pytest.mark.parametrize("role", ROLES)
def test_no_release_specific_name_in_tasks_templates_or_defaults(role):
    offending = []
    for path in sorted((ROOT / "roles" / role).rglob("*")):
        if path.is_file() and path.parent.name in ("tasks", "templates", "defaults", "handlers"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if RELEASE_SPECIFIC.search(line) and not line.lstrip().startswith("#"):
                    offending.append("%s:%d: %s" % (path.relative_to(ROOT), number, line.strip()))
    assert not offending, offending


def test_galaxy_description_names_the_tested_platforms():
    description = " ".join(yaml.safe_load((ROOT / "galaxy.yml").read_text())["description"].split())
    assert "Debian 12, Debian 13 and Ubuntu 24.04 LTS" in description
