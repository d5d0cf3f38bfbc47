"""python_env with the conda manager against the REAL Miniforge installer and conda-forge (opt-in).

Opt-in: scripts/test.sh adds this scenario when MLFLOW_TEST_REAL_CONDA=1 (or run
``scripts/test.sh molecule conda-real``). Needs github.com and conda.anaconda.org.
"""

from conda_checks import CONDA_PREFIX, check_environment, check_mlflow_in_environment, env_dir, role_run
from mlflow_checks import group_names

testinfra_hosts = group_names("mlflow_server")


def test_real_conda_at_the_prefix(host):
    version = host.run("%s/bin/conda --version", CONDA_PREFIX)
    assert version.rc == 0 and version.stdout.startswith("conda "), version.stdout + version.stderr
    assert "STAND-IN" not in host.file(CONDA_PREFIX + "/bin/conda").content_string


def test_environment_has_python_311_from_conda_forge(host):
    records = check_environment(host)
    python = [r for r in records if r["name"] == "python"]
    assert "conda-forge" in python[0].get("channel", "") + python[0].get("url", ""), python


def test_pinned_mlflow_and_drivers_in_the_environment(host):
    check_mlflow_in_environment(host)


def test_role_publishes_the_environment_dir(host):
    result = role_run(host)
    assert result.rc == 0, result.output
    assert result.published_dir == env_dir(host), result.output
    assert result.changed == 0, result.output
