"""playbooks/restore.yml refuses a --limit that leaves out an MLflow server or the database host, before it changes
anything: it would replace the databases under a server that keeps running."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mlflow_checks import run_playbook

ROOT = Path(__file__).resolve().parents[2]
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
INVENTORY = {
    "all": {
        "hosts": dict.fromkeys(["db-1", "srv-1", "srv-2"], LOCAL),
        "children": {
            "mlflow_db": {"hosts": {"db-1": {}}},
            "mlflow_server": {"hosts": {"srv-1": {}, "srv-2": {}}},
        },
    }
}
REFUSAL = "--limit leaves out"


def restore(limit):
    # No dump variables: a run that gets past the --limit check stops at the next check, which names them.
    result = run_playbook(
        ROOT / "playbooks" / "restore.yml",
        INVENTORY,
        extra_vars={"mlflow_db_password": "a-valid-db-password-123"},
        env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        limit=limit,
        timeout=300,
    )
    return result.returncode, " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("limit", "left_out"),
    [("db-1,srv-1", "srv-2"), ("mlflow_server", "db-1"), ("srv-2", "srv-1, db-1")],
    ids=["a server left out", "the database host left out", "only one server"],
)
def test_a_limit_that_leaves_a_host_out_is_refused_before_any_change(limit, left_out):
    code, output = restore(limit)
    assert code != 0, output[-3000:]
    assert "%s %s:" % (REFUSAL, left_out) in output, output[-3000:]
    # The first task of the next play (the dump checks on the database host) did not run.
    assert "Load the PostgreSQL role's settings" not in output, output[-3000:]


@pytest.mark.parametrize("limit", [None, "db-1,srv-1,srv-2"], ids=["no limit", "a limit with all of them"])
def test_a_run_on_all_of_them_passes_the_limit_check(limit):
    code, output = restore(limit)
    assert REFUSAL not in output, output[-3000:]
    assert code != 0 and "Set mlflow_restore_tracking_dump" in output, output[-3000:]


def restore_with(extra_vars):
    result = run_playbook(
        ROOT / "playbooks" / "restore.yml",
        INVENTORY,
        extra_vars={"mlflow_db_password": "a-valid-db-password-123", **extra_vars},
        env={"ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
        timeout=300,
    )
    return result.returncode, " ".join(result.stdout.split())


ONE_DUMP = {"mlflow_auth_enabled": True, "mlflow_restore_tracking_dump": "/nonexistent/mlflow-scheduled-1.pgc"}


def test_with_authentication_one_dump_alone_is_refused_naming_the_risk():
    """Restoring the tracking database alone resets experiment ids while the grants stay: refused before any change
    unless the operator accepts it by name."""
    code, output = restore_with(ONE_DUMP)
    assert code != 0, output[-3000:]
    assert "mlflow_restore_single_database: true" in output and "mlflow_restore_auth_dump" in output, output[-3000:]
    assert "Check that the dumps exist" not in output, output[-3000:]


def test_one_dump_alone_passes_that_check_when_accepted():
    code, output = restore_with({**ONE_DUMP, "mlflow_restore_single_database": True})
    assert code != 0 and "no such file" in output, output[-3000:]
