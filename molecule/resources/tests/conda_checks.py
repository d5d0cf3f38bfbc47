"""Checks shared by the conda scenarios (stand-in and real Miniforge)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import yaml
from mlflow_checks import environment_of, pinned_mlflow_version, run_playbook

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def role_default(name):
    with open(os.path.join(ROOT, "roles", "python_env", "defaults", "main.yml")) as handle:
        return yaml.safe_load(handle)[name]


CONDA_PREFIX = role_default("mlflow_python_env_conda_prefix")
ENV_FAMILY = CONDA_PREFIX + "/envs/" + role_default("mlflow_python_env_conda_env_name")


def env_dir(host):
    """The one environment of the pinned MLflow version on host."""
    return environment_of(host, ENV_FAMILY, pinned_mlflow_version())


# Where the role downloads the installer (roles/python_env/tasks/conda.yml), on the test host.
INSTALLER_DOWNLOAD = "/var/tmp/mlflow-conda-installer.sh"  # noqa: S108 - the role's path, checked, not used


def check_environment(host):
    """The environment is a conda environment at <prefix>/envs/<name> with Python 3.11; returns its records."""
    directory = env_dir(host)
    cmd = host.run("%s/bin/python -c 'import sys; print(sys.prefix); print(sys.version)'", directory)
    assert cmd.rc == 0, cmd.stderr
    prefix, version = cmd.stdout.splitlines()[:2]
    assert prefix == directory
    assert version.startswith("3.11."), version
    meta = host.file(directory + "/conda-meta")
    assert meta.is_directory
    records = [
        json.loads(host.file(directory + "/conda-meta/" + f).content_string)
        for f in meta.listdir()
        if f.endswith(".json")
    ]
    assert [r for r in records if r["name"] == "python"], records
    return records


def check_mlflow_in_environment(host):
    code = "import mlflow, boto3, psycopg2, uvloop, sys\nprint(mlflow.__version__)\nprint(mlflow.__file__)\n"
    directory = env_dir(host)
    cmd = host.run("env -i PATH=/usr/bin:/bin HOME=/tmp %s/bin/python -c %s", directory, code)
    assert cmd.rc == 0, cmd.stderr
    version, path = cmd.stdout.splitlines()[:2]
    assert version == pinned_mlflow_version()
    assert path.startswith(directory + "/lib/python3.11/site-packages/mlflow/"), path
    cli = host.run("%s/bin/mlflow --version", directory)
    assert cli.rc == 0 and pinned_mlflow_version() in cli.stdout, cli.stdout + cli.stderr


@dataclass
class RoleRun:
    rc: int
    output: str
    published_dir: str | None
    changed: int | None


def role_run(host, checksum=None, checksum_from=None, prefix=None):
    """Apply the python_env role (as the scenario configures it) to this host with ansible-playbook (run_playbook);
    report the exit code, the output, the published mlflow_python_env_dir and the changed count."""
    role_vars = {}
    if checksum_from:
        with open(checksum_from) as handle:
            checksum = "sha256:" + handle.read().strip()
    if checksum is not None:
        role_vars["mlflow_python_env_conda_installer_checksum"] = checksum
    if prefix:
        role_vars["mlflow_python_env_conda_prefix"] = prefix
    play = [
        {
            "name": "python_env, run by the test",
            "hosts": host.backend.host,
            "vars": role_vars,
            "roles": ["mlops.mlflow.python_env"],
            "post_tasks": [
                {"name": "Show", "ansible.builtin.debug": {"msg": "PUBLISHED=<{{ mlflow_python_env_dir }}>"}}
            ],
        }
    ]
    proc = run_playbook(play, os.environ["MOLECULE_INVENTORY_FILE"])
    output = proc.stdout + proc.stderr
    published = re.search(r"PUBLISHED=<([^>]*)>", output)
    recap = re.search(r"%s\s*:.*changed=(\d+)" % re.escape(host.backend.host), output)
    return RoleRun(proc.returncode, output, published and published.group(1), recap and int(recap.group(1)))
