"""python_env with the conda manager, against the STAND-IN installer and channel.

The installer, the channel and the `conda` command in it are a STAND-IN built by tests/standins/conda
(no conda channel is reachable where these tests run): a python 3.11 conda package made from Debian's
Python, and a `conda` that only implements `conda create` (solved and installed by py-rattler). What is
tested is the role: download with checksum, `-b -p PREFIX`, `conda create` with the configured
channels, pip install of the pinned MLflow into the environment, the published environment path.
"""

import os

from conda_checks import (
    CONDA_PREFIX,
    INSTALLER_DOWNLOAD,
    check_environment,
    check_mlflow_in_environment,
    env_dir,
    role_run,
)
from mlflow_checks import group_names

testinfra_hosts = group_names("mlflow_server")

CHANNEL = "http://127.0.0.1:8471/channel"
STANDIN_SHA256 = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", ".cache", "conda-standin", "Miniforge3-standin-Linux-x86_64.sh.sha256"
)


def test_installer_installed_conda_at_the_prefix(host):
    conda = host.file(CONDA_PREFIX + "/bin/conda")
    assert conda.is_file and conda.mode & 0o111
    assert "STAND-IN" in conda.content_string  # this scenario runs the stand-in, not conda
    assert host.file(CONDA_PREFIX + "/conda-meta").is_directory
    assert not host.file(INSTALLER_DOWNLOAD).exists  # the installer was cleaned up


def test_environment_has_python_311_from_the_configured_channel(host):
    records = check_environment(host)
    python = [r for r in records if r["name"] == "python"]
    assert python and python[0]["url"].startswith(CHANNEL + "/linux-64/"), records


def test_pinned_mlflow_and_drivers_in_the_environment(host):
    check_mlflow_in_environment(host)


def test_role_publishes_the_environment_dir(host):
    result = role_run(host, checksum_from=STANDIN_SHA256)
    assert result.rc == 0, result.output
    assert result.published_dir == env_dir(host), result.output
    assert result.changed == 0, result.output


def test_environments_of_other_versions_are_removed_and_others_kept(host):
    """No server runs an environment here (no current link): the role keeps its own and removes the environments of
    other MLflow versions with their constraints files; environments not named <env name>-<version> stay."""
    envs = CONDA_PREFIX + "/envs/"
    old, others = envs + "mlflow-2.20.3", [envs + "mlflow-tools", envs + "analytics-1.0"]
    for path in [old, *others]:
        host.run_expect([0], "mkdir -p %s/bin && touch %s/bin/python", path, path)
    host.run_expect([0], "touch %s.constraints.txt", old)
    result = role_run(host, checksum_from=STANDIN_SHA256)
    assert result.rc == 0, result.output
    assert result.changed == 1, result.output  # the removal loop, one task
    assert not host.file(old).exists and not host.file(old + ".constraints.txt").exists
    assert all(host.file(path + "/bin/python").exists for path in others), result.output
    check_mlflow_in_environment(host)  # this version's environment is untouched
    host.run_expect([0], "rm -rf %s %s", *others)


def test_an_environment_a_running_process_uses_stays_until_it_ends(host):
    """A server a roll has not restarted yet runs from its old environment (here a process started from the directory
    of an older environment, no link pointing at it): the cleanup keeps that environment while the process runs, and
    removes it at the next run once the process is gone."""
    used = CONDA_PREFIX + "/envs/mlflow-2.20.3-0123abcd"
    host.run_expect([0], "mkdir -p %s/bin && cp /bin/sleep %s/bin/python", used, used)
    host.run_expect([0], "systemd-run --unit=conda-env-user --collect %s/bin/python 600", used)
    try:
        result = role_run(host, checksum_from=STANDIN_SHA256)
        assert result.rc == 0, result.output
        assert host.file(used + "/bin/python").exists, result.output
    finally:
        host.run("systemctl stop conda-env-user")
    result = role_run(host, checksum_from=STANDIN_SHA256)
    assert result.rc == 0, result.output
    assert not host.file(used).exists, result.output
    check_mlflow_in_environment(host)


def test_wrong_installer_checksum_fails_before_running_it(host):
    prefix = "/opt/conda-wrong-checksum"
    result = role_run(host, checksum="sha256:" + "0" * 64, prefix=prefix)
    assert result.rc != 0
    assert "did not match " + "0" * 64 in result.output, result.output
    assert not host.file(prefix).exists
    assert not host.file(INSTALLER_DOWNLOAD).exists


def test_missing_checksum_is_refused_naming_the_variable(host):
    prefix = "/opt/conda-no-checksum"
    result = role_run(host, checksum="", prefix=prefix)
    assert result.rc != 0
    assert "mlflow_python_env_conda_installer_checksum" in result.output, result.output
    assert "sha256:<64 hex digits>" in result.output, result.output
    assert not host.file(prefix).exists
