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


# NO_PERMISSIONS grants named in the refusal message; the result lists up to the helper's LISTED_DENIES
MESSAGE_DENIES = 5


def denies_message(total, rows):
    """Why db_upgrade refuses to run MLflow's migration to roles, and what the user can do (pure; unit-tested)."""
    shown = ", ".join("%s on %s %s" % (row["username"], row["table"], row["resource"]) for row in rows[:MESSAGE_DENIES])
    more = total - min(len(rows), MESSAGE_DENIES)
    return (
        "%d legacy permission grant%s with permission NO_PERMISSIONS would be lost: %s%s. MLflow's auth migration "
        "%s (migrate_permissions_to_roles, the move to MLflow 3.x roles) drops NO_PERMISSIONS grants, so these "
        "users would get the server's default_permission (READ unless set otherwise) on these resources instead "
        "of no access. Nothing was changed. Either set the server's default_permission to NO_PERMISSIONS "
        "(mlflow_auth_default_permission in the server role), so that dropping these grants changes nothing, and "
        "pass dropped_permissions=drop; or remove these grants, or change them to the access these users may "
        "have, with the MLflow 2.x API before upgrading (AuthServiceClient.delete_experiment_permission, "
        "delete_registered_model_permission, ...); or accept that these users get the default permission with "
        "dropped_permissions=drop (server role: mlflow_auth_dropped_permissions: drop)."
        % (
            total,
            "" if total == 1 else "s",
            shown,
            " and %d more" % more if more > 0 else "",
            mlflow_db_helper.AUTH_ROLES_REVISION,
        )
    )


def summarize(answer, check_mode, dropped_permissions="refuse"):
    """Turn the helper's answer into the module result (pure; unit-tested).

    ``dropped_permissions`` is the module option: with ``refuse``, NO_PERMISSIONS grants that MLflow's
    migration to roles would drop fail the run before anything changes (in check mode too).

    Returns ``(failed_message_or_None, result_dict)``.
    """
    current = answer.get("current")
    heads = answer.get("heads") or []
    pending = answer.get("pending") or []
    denies = answer.get("denies") or {}
    result = dict(
        changed=False,
        mlflow_version=answer.get("mlflow_version"),
        current_revision=",".join(current) if current else None,
        head_revision=",".join(heads) if heads else None,
        pending=pending,
        initialized=False,
        dropped_permissions=denies.get("rows") or [],
        dropped_permissions_count=denies.get("total") or 0,
    )
    if answer.get("error"):
        return answer["error"], result
    if not pending:
        return None, result
    if result["dropped_permissions_count"] and dropped_permissions != "drop":
        return denies_message(result["dropped_permissions_count"], result["dropped_permissions"]), result
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


def encode_request(uri, apply, schema="tracking", dropped_permissions="refuse"):
    return json.dumps({"uri": uri, "apply": bool(apply), "schema": schema, "dropped_permissions": dropped_permissions})
