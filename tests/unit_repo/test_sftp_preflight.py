"""Bad SFTP input stops the site playbook in its first play, with a message naming the variable."""

from pathlib import Path

import pytest
import yaml
from mlflow_checks import run_playbook

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = """
mlflow_db:
  hosts: {server1: }
mlflow_server:
  hosts: {server1: }
mlflow_artifacts:
  hosts: {store1: }
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    mlflow_artifact_store: sftp
    mlflow_db_password: preflight-test-pw-Xq81
    mlflow_crypto_kek_passphrase: preflight-test-kek-0123456789abcdef0123456789
    mlflow_server_allow_unauthenticated: true
"""


def site(tmp_path, **extra):
    return run_playbook(
        ROOT / "playbooks" / "site.yml",
        yaml.safe_load(INVENTORY),
        extra_vars=extra,
        env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        timeout=300,
    )


@pytest.mark.parametrize(
    ("variable", "value", "shown"),
    [
        ("mlflow_sftp_path", "~/mlflow/mlruns", "sftp://mlflow-sftp@store1/artifacts"),
        ("mlflow_sftp_path", "mlflow/mlruns", "sftp://mlflow-sftp@store1/artifacts"),
        (
            "mlflow_server_artifacts_destination",
            "sftp://user@host:~/mlflow/mlruns",
            "sftp://mlflow-sftp@store.example.com/srv/mlflow/artifacts",
        ),
    ],
)
def test_bad_sftp_path_fails_before_any_change(tmp_path, variable, value, shown):
    result = site(tmp_path, **{variable: value})
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "%s ('%s')" % (variable, value) in out, out
    assert shown in out, out
    assert "PLAY [PostgreSQL backend store]" not in out, out
    assert "changed=0" in out and "changed=1" not in out, out
