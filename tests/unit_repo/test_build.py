"""The built collection holds what users need and nothing of the test harness (galaxy.yml's build_ignore)."""

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What users need: every file under these directories ships, and these files.
SHIPPED_DIRS = ["roles", "plugins", "playbooks", "meta", "docs", "examples", "changelogs"]
SHIPPED_FILES = ["README.md", "COPYING", "CHANGELOG.rst"]
# The test harness and the tools' settings: none of it ships.
HARNESS = [
    "molecule",
    "scripts",
    "tests",
    ".ci",
    ".config",
    ".cache",
    ".venv",
    "ansible.cfg",
    "pyproject.toml",
    "requirements-dev.txt",
]


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    result = subprocess.run(
        ["ansible-galaxy", "collection", "build", "--output-path", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (tarball,) = out.glob("mlops-mlflow-*.tar.gz")
    with tarfile.open(tarball) as tar:
        return {m.name.removeprefix("./") for m in tar.getmembers() if m.isfile()}


def test_harness_is_not_shipped(members):
    assert "tests/wheelhouse-requirements.txt" not in members
    shipped = sorted(m for m in members if m.split("/")[0] in HARNESS)
    assert not shipped, "test harness files in the built collection: %s" % shipped[:20]
    dotfiles = sorted(m for m in members if any(part.startswith(".") for part in m.split("/")))
    assert not dotfiles, "dotfiles in the built collection: %s" % dotfiles


def test_what_users_need_is_shipped(members):
    for name in SHIPPED_FILES:
        assert name in members, name
    for top in SHIPPED_DIRS:
        local = {
            str(Path(dirpath, name).relative_to(ROOT))
            for dirpath, dirnames, filenames in os.walk(ROOT / top)
            if "__pycache__" not in Path(dirpath).parts
            for name in filenames
            if not name.endswith((".pyc", ".retry"))
        }
        assert local, "nothing under %s/" % top
        missing = sorted(local - members)
        assert not missing, "%s/ files missing from the built collection: %s" % (top, missing)
