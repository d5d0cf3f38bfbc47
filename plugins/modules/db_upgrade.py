#!/usr/bin/python
# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: db_upgrade
short_description: Bring an MLflow database schema (tracking or basic-auth) to the installed MLflow's head revision
version_added: 0.1.0
description:
  - Inspects the Alembic revision of an MLflow tracking (backend store) database and, when migrations
    are pending, applies them with the MLflow installed in O(python)'s environment, as C(mlflow db upgrade) does.
  - An empty database is initialised (tables created, then migrated to head).
  - When nothing is pending the module reads the revision files without importing MLflow, so a no-op
    run takes well under a second instead of the several seconds of C(mlflow db upgrade).
  - Fails, changing nothing, when the database was migrated by a newer MLflow than the installed one.
  - The database URI is handed to the MLflow interpreter on standard input, never on a command line.
author:
  - mlops.mlflow maintainers (@mlops-mlflow)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports the pending migrations without running them.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  backend_store_uri:
    description:
      - SQLAlchemy URI of the backend store, for example C(postgresql+psycopg2://mlflow:PASSWORD@db:5432/mlflow).
      - With SQLAlchemy 2.1 a bare C(postgresql://) URI selects psycopg 3; use C(postgresql+psycopg2://)
        when the environment has psycopg2.
    type: str
    required: true
  python:
    description:
      - Interpreter of the environment that has MLflow installed (venv or conda env).
    type: path
    required: true
  schema:
    description:
      - Which schema the database holds.
      - V(tracking) is the backend store (Alembic table C(alembic_version)), as C(mlflow db upgrade) migrates it.
      - V(auth) is the user and permission store of MLflow's basic-auth app (table C(alembic_version_auth)), as
        C(python -m mlflow.server.auth db upgrade) migrates it. A basic-auth database from before MLflow 3.6
        (tables, no version table) is taken to be at the first auth revision, as MLflow does.
    type: str
    choices: [tracking, auth]
    default: tracking
    version_added: 0.2.0
  dropped_permissions:
    description:
      - What to do with NO_PERMISSIONS grants of a basic-auth database from MLflow 2.x when the pending
        migrations include MLflow's C(e5f6a7b8c9d0) (migrate_permissions_to_roles), which moves the
        per-resource permission tables (C(experiment_permissions), C(registered_model_permissions), ...) to
        MLflow 3.x roles.
      - That migration drops every grant with permission C(NO_PERMISSIONS), which in MLflow 2.x denies the user
        the resource; afterwards the user has the server's C(default_permission) (C(READ) unless set otherwise)
        on it.
      - V(refuse) fails, changing nothing (in check mode too), when there are such grants, and lists them. Remove
        or change them with the MLflow 2.x API first, or set the server's C(default_permission) to
        C(NO_PERMISSIONS) (then dropping them changes nothing) and use V(drop).
      - V(drop) runs the migration anyway; RV(dropped_permissions) lists the grants it dropped.
      - Only used with O(schema=auth).
    type: str
    choices: [refuse, drop]
    default: refuse
    version_added: 0.4.0
notes:
  - Back up the database before upgrading; the server role of this collection does so automatically.
  - The legacy permission tables stay in the database after MLflow's migration to roles (MLflow no longer reads
    them), so the dropped grants can still be looked up there.
"""

EXAMPLES = r"""
- name: Migrate the MLflow schema
  mlops.mlflow.db_upgrade:
    python: /opt/mlflow/venv/bin/python
    backend_store_uri: "postgresql+psycopg2://mlflow:{{ mlflow_db_password | urlencode }}@127.0.0.1:5432/mlflow"
  no_log: true
  register: __schema

- name: What would run
  mlops.mlflow.db_upgrade:
    python: /opt/mlflow/venv/bin/python
    backend_store_uri: "{{ uri }}"
  check_mode: true
  register: __pending

- name: Migrate the basic-auth database
  mlops.mlflow.db_upgrade:
    python: /opt/mlflow/venv/bin/python
    backend_store_uri: "postgresql+psycopg2://mlflow:{{ mlflow_db_password | urlencode }}@127.0.0.1:5432/mlflow_auth"
    schema: auth
  no_log: true

- name: Migrate a basic-auth database from MLflow 2.x whose server denies by default (default_permission NO_PERMISSIONS)
  mlops.mlflow.db_upgrade:
    python: /opt/mlflow/venv/bin/python
    backend_store_uri: "postgresql+psycopg2://mlflow:{{ mlflow_db_password | urlencode }}@127.0.0.1:5432/mlflow_auth"
    schema: auth
    dropped_permissions: drop
  no_log: true
"""

RETURN = r"""
mlflow_version:
  description: Version of MLflow in the environment.
  returned: always
  type: str
  sample: 3.17.2
current_revision:
  description: Schema revision after the run (before it, in check mode). Null for an empty database.
  returned: always
  type: str
  sample: dc11669786a5
head_revision:
  description: Head revision of the installed MLflow.
  returned: always
  type: str
  sample: dc11669786a5
pending:
  description: Migrations that ran (or, in check mode, would run), oldest first.
  returned: always
  type: list
  elements: dict
  sample: [{"revision": "dc11669786a5", "description": "add workspaces"}]
initialized:
  description: Whether the database was empty and its tables were created.
  returned: always
  type: bool
dropped_permissions:
  description:
    - NO_PERMISSIONS grants of the legacy permission tables that MLflow's migration to roles
      (C(e5f6a7b8c9d0)) dropped, or in check mode or when refused would drop, at most 20.
    - Empty unless that migration is pending on an O(schema=auth) database.
    - C(resource) is the value of the table's resource column, or of its resource columns joined with
      C(/), for example experiment ID/scorer name for C(scorer_permissions).
  returned: always
  type: list
  elements: dict
  version_added: 0.4.0
  contains:
    table:
      description: The legacy permission table.
      type: str
      sample: experiment_permissions
    username:
      description: The user the grant denied the resource.
      type: str
      sample: alice
    resource:
      description: The resource, for example an experiment ID or a registered model name.
      type: str
      sample: "1"
  sample: [{"table": "experiment_permissions", "username": "alice", "resource": "1"}]
dropped_permissions_count:
  description: How many such grants there are; RV(dropped_permissions) lists at most 20 of them.
  returned: always
  type: int
  version_added: 0.4.0
  sample: 1
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.mlops.mlflow.plugins.module_utils.mlflow_db import encode_request, helper_source, summarize


def run_helper(module, apply):
    cmd = [module.params["python"], "-c", helper_source()]
    rc, out, err = module.run_command(
        cmd,
        data=encode_request(
            module.params["backend_store_uri"], apply, module.params["schema"], module.params["dropped_permissions"]
        ),
        binary_data=True,
        environ_update={"PYTHONDONTWRITEBYTECODE": "1"},
    )
    if rc != 0:
        lines = [line for line in to_native(err).strip().splitlines() if line.strip()]
        # the exception's own line (SQLAlchemy ends with "(Background on this error at: ...)" and the SQL)
        raised = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b.*: ", line)]
        module.fail_json(
            msg="inspecting or migrating the MLflow database failed: %s"
            % ((raised or lines)[-1] if lines else "exit code %d" % rc),
            rc=rc,
            stderr=to_native(err),
        )
    import json

    lines = [line for line in to_native(out).splitlines() if line.startswith("{")]
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError):
        module.fail_json(
            msg="unexpected output from the MLflow environment", stdout=to_native(out), stderr=to_native(err)
        )


def main():
    module = AnsibleModule(
        argument_spec=dict(
            backend_store_uri=dict(type="str", required=True, no_log=True),
            python=dict(type="path", required=True),
            schema=dict(type="str", choices=["tracking", "auth"], default="tracking"),
            dropped_permissions=dict(type="str", choices=["refuse", "drop"], default="refuse"),
        ),
        supports_check_mode=True,
    )
    python = module.params["python"]
    if not os.access(python, os.X_OK):
        module.fail_json(
            msg="python=%s is not an executable interpreter: is the MLflow environment installed?" % python
        )

    answer = run_helper(module, apply=False)
    failure, result = summarize(answer, check_mode=True, dropped_permissions=module.params["dropped_permissions"])
    if failure or not result["pending"] or module.check_mode:
        if failure:
            module.fail_json(msg=failure, **result)
        module.exit_json(**result)

    answer = run_helper(module, apply=True)
    failure, result = summarize(answer, check_mode=False, dropped_permissions=module.params["dropped_permissions"])
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
