# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MLflow backend-store schema inspection and upgrade.

The helper program (``mlflow_db_helper``, sent by ``helper_source()``) runs inside the MLflow
environment's own interpreter (which has MLflow, SQLAlchemy and Alembic), reads a JSON request on
stdin and prints a JSON answer on stdout. The database URI travels on stdin only: never on a command
line, where ``ps`` would show it.

The fast path (nothing to do) imports only SQLAlchemy and Alembic's script directory, not
MLflow itself, which is what makes a no-op run take well under the ~7 s of ``mlflow db upgrade``.
"""

from __future__ import annotations

import inspect
import json

from ansible_collections.mlops.mlflow.plugins.module_utils import mlflow_db_helper


def helper_source():
    """The source of the helper program (module_utils/mlflow_db_helper.py), to run with ``python -c``.

    Read through the helper module's loader: from the file in a checkout, and from the AnsiballZ zip
    (which bundles it because this module imports it) when the module runs on the target.
    """
    return inspect.getsource(mlflow_db_helper)


def summarize(answer, check_mode):
    """Turn the helper's answer into the module result (pure; unit-tested).

    Returns ``(failed_message_or_None, result_dict)``.
    """
    current = answer.get("current")
    heads = answer.get("heads") or []
    pending = answer.get("pending") or []
    result = dict(
        changed=False,
        mlflow_version=answer.get("mlflow_version"),
        current_revision=",".join(current) if current else None,
        head_revision=",".join(heads) if heads else None,
        pending=pending,
        initialized=False,
    )
    if answer.get("error"):
        return answer["error"], result
    if not pending:
        return None, result
    result["changed"] = True
    result["initialized"] = bool(answer.get("empty"))
    if answer.get("applied"):
        after = answer.get("current_after") or []
        result["current_revision"] = ",".join(after) if after else None
        if sorted(after) != sorted(heads):
            return (
                "the migration ran but the schema is at %s, not at the head %s"
                % (result["current_revision"], result["head_revision"]),
                result,
            )
    elif not check_mode:
        return "migrations are pending but were not applied", result
    return None, result


def encode_request(uri, apply, schema="tracking"):
    return json.dumps({"uri": uri, "apply": bool(apply), "schema": schema})
