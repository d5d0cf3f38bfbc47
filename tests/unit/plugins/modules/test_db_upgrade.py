# Unit tests of how db_upgrade hands the helper program and the request to the MLflow interpreter.
from __future__ import annotations

import json

from ansible_collections.mlops.mlflow.plugins.module_utils import mlflow_db
from ansible_collections.mlops.mlflow.plugins.modules import db_upgrade


class FakeModule:
    """What run_helper uses of AnsibleModule: params and run_command (recorded, answered with a canned reply)."""

    def __init__(self, **params):
        self.params = dict(python="/opt/mlflow/venv/bin/python", schema="tracking", dropped_permissions="refuse")
        self.params.update(params)
        self.calls = []

    def run_command(self, cmd, **kwargs):
        self.calls.append((cmd, kwargs))
        return 0, 'noise\n{"mlflow_version": "3.17.2", "heads": ["ccc"]}\n', ""


def test_module_runs_the_helper_with_the_uri_on_stdin_only():
    uri = "postgresql+psycopg2://mlflow:s3cret-pw@db:5432/mlflow"
    module = FakeModule(backend_store_uri=uri)
    assert db_upgrade.run_helper(module, apply=True) == {"mlflow_version": "3.17.2", "heads": ["ccc"]}
    [(cmd, kwargs)] = module.calls
    assert cmd == ["/opt/mlflow/venv/bin/python", "-c", mlflow_db.helper_source()]
    assert not [arg for arg in cmd if "s3cret-pw" in arg]
    assert json.loads(kwargs["data"]) == {
        "uri": uri,
        "apply": True,
        "schema": "tracking",
        "dropped_permissions": "refuse",
    }


def test_module_hands_the_dropped_permissions_choice_to_the_helper():
    module = FakeModule(backend_store_uri="sqlite:///auth.db", schema="auth", dropped_permissions="drop")
    db_upgrade.run_helper(module, apply=False)
    [(_cmd, kwargs)] = module.calls
    assert json.loads(kwargs["data"])["dropped_permissions"] == "drop"
    assert json.loads(kwargs["data"])["schema"] == "auth"
