# Copyright: (c) 2026, mlops.mlflow contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The program db_upgrade runs inside the MLflow environment's own interpreter.

It is not used by the module in its own process: ``mlflow_db.helper_source()`` reads this file's source
(from the AnsiballZ zip on the target) and the module runs it with ``python -c`` in the environment
that has MLflow, SQLAlchemy and Alembic. It reads a JSON request (database URI, apply, schema) on stdin
and prints a JSON answer on stdout; the URI travels on stdin only, never on a command line.

Only the standard library is imported at module level; SQLAlchemy and MLflow are imported inside the
functions that need them, so the fast path (nothing to do) never imports MLflow, and the file imports
anywhere (the unit tests, ansible-test's import check).
"""

from __future__ import annotations

import json
import os
import sys

# schema: (migrations folder under the mlflow package, Alembic version table)
SCHEMAS = {
    "tracking": (("store", "db_migrations", "versions"), "alembic_version"),
    "auth": (("server", "auth", "db", "migrations", "versions"), "alembic_version_auth"),
}
# basic-auth databases from before MLflow 3.6 have the tables but no version table; MLflow stamps them
# with its first auth revision before migrating (mlflow.server.auth.db.utils), and so does this helper.
AUTH_LEGACY_REVISION = "8606fa83a998"
# MLflow 3.x's auth migration "migrate_permissions_to_roles" copies the per-resource permission tables of
# MLflow 2.x (experiment_permissions, registered_model_permissions, ...) into roles and skips every row whose
# permission is NO_PERMISSIONS: in 2.x such a row denies the user the resource, afterwards the user gets the
# server's default_permission. Before that revision runs, the helper lists those rows.
AUTH_ROLES_REVISION = "e5f6a7b8c9d0"
DENY_PERMISSION = "NO_PERMISSIONS"
LISTED_DENIES = 20


def _migrations_dir(schema):
    import importlib.util

    spec = importlib.util.find_spec("mlflow")
    if spec is None or not spec.origin:
        raise RuntimeError("mlflow is not installed in this interpreter (%s)" % sys.executable)
    return os.path.join(os.path.dirname(spec.origin), *SCHEMAS[schema][0])


def parse_revision(source):
    """(revision, [down revisions], description) of one Alembic migration file, read without importing it."""
    import ast

    tree = ast.parse(source)
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    found[target.id] = ast.literal_eval(node.value)
    if not found.get("revision"):
        return None
    down = found.get("down_revision")
    if down is None:
        down = []
    elif isinstance(down, str):
        down = [down]
    doc = (ast.get_docstring(tree) or "").strip().splitlines()
    return found["revision"], list(down), doc[0] if doc else ""


def revision_graph(sources):
    """{revision: (down revisions, description)} from the sources of all migration files."""
    graph = {}
    for source in sources:
        parsed = parse_revision(source)
        if parsed:
            graph[parsed[0]] = (parsed[1], parsed[2])
    return graph


def heads_of(graph):
    referenced = {d for downs, _description in graph.values() for d in downs}
    return sorted(rev for rev in graph if rev not in referenced)


def _ancestors(graph, revs):
    seen = set()
    stack = list(revs)
    while stack:
        rev = stack.pop()
        if rev in seen:
            continue
        seen.add(rev)
        stack.extend(graph[rev][0])
    return seen


def plan(graph, current):
    """(heads, pending oldest first, unknown revisions) for a database at ``current`` (list or None)."""
    heads = heads_of(graph)
    unknown = [rev for rev in current or [] if rev not in graph]
    if unknown:
        return heads, None, unknown
    todo = _ancestors(graph, heads) - _ancestors(graph, current or [])
    ordered, done = [], set()

    def visit(rev):
        if rev in done or rev not in todo:
            return
        done.add(rev)
        for down in graph[rev][0]:
            visit(down)
        ordered.append({"revision": rev, "description": graph[rev][1]})

    for rev in sorted(todo):
        visit(rev)
    return heads, ordered, []


def _load_graph(schema):
    folder = _migrations_dir(schema)
    sources = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py") and not name.startswith("__"):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                sources.append(handle.read())
    return revision_graph(sources)


def _current_revisions(engine, schema):
    import sqlalchemy as sa

    table = SCHEMAS[schema][1]
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        if table not in tables:
            if schema == "auth" and "users" in tables:
                return [AUTH_LEGACY_REVISION], tables
            return None, tables
        # the table name is one of SCHEMAS' constants, never input
        rows = conn.execute(sa.text("SELECT version_num FROM %s" % table)).fetchall()  # noqa: S608
        return sorted(r[0] for r in rows), tables


def legacy_denies(conn, limit=LISTED_DENIES):
    """(total, rows) of the NO_PERMISSIONS rows the migration to roles drops, at most ``limit`` rows listed.

    Looks at every table whose name ends with ``_permissions`` and that has the columns ``user_id`` and
    ``permission`` (the legacy per-resource tables; role_permissions has no user_id). Each row is
    ``{"table", "username", "resource"}``: the resource is the value of the table's other columns (not
    ``id``), joined with "/" when there are several (registered_model_permissions: name/workspace).
    Table and column names come from the inspector and go through SQLAlchemy's quoting, never into SQL text.
    """
    import sqlalchemy as sa

    inspector = sa.inspect(conn)
    table_names = inspector.get_table_names()
    users = sa.table("users", sa.column("id"), sa.column("username")) if "users" in table_names else None
    total, rows = 0, []
    for name in sorted(table_names):
        if not name.endswith("_permissions"):
            continue
        columns = [column["name"] for column in inspector.get_columns(name)]
        if "user_id" not in columns or "permission" not in columns:
            continue
        resource_columns = [c for c in columns if c not in ("id", "user_id", "permission")]
        table = sa.table(name, *(sa.column(c) for c in ["user_id", "permission"] + resource_columns))
        denied = table.c.permission == DENY_PERMISSION
        count = conn.execute(sa.select(sa.func.count()).select_from(table).where(denied)).scalar() or 0
        total += count
        if not count or len(rows) >= limit:
            continue
        resource = [table.c[c] for c in resource_columns]
        if users is None:
            query = sa.select(table.c.user_id, sa.null().label("username"), *resource).select_from(table)
        else:
            query = sa.select(table.c.user_id, users.c.username.label("username"), *resource).select_from(
                table.outerjoin(users, users.c.id == table.c.user_id)
            )
        query = query.where(denied).order_by(table.c.user_id, *resource).limit(limit - len(rows))
        for row in conn.execute(query):
            values = list(row)
            rows.append(
                {
                    "table": name,
                    "username": values[1] if values[1] is not None else "user_id=%s" % values[0],
                    "resource": "/".join("" if v is None else str(v) for v in values[2:]),
                }
            )
    return total, rows


def _reply(answer):
    """The answer, one JSON line on stdout (the module takes the last line that starts with "{")."""
    sys.stdout.write(json.dumps(answer) + "\n")


def main():
    request = json.loads(sys.stdin.read())
    from importlib.metadata import version

    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    schema = request.get("schema", "tracking")
    answer = {"mlflow_version": version("mlflow")}
    engine = sa.create_engine(request["uri"], poolclass=NullPool)
    try:
        graph = _load_graph(schema)
        current, tables = _current_revisions(engine, schema)
        mlflow_tables = [t for t in tables if t != SCHEMAS[schema][1]]
        if current is None and mlflow_tables:
            answer["error"] = (
                "the database holds tables (%s) but no %s table: it is not an MLflow %s database, "
                "or one too old to upgrade automatically"
                % (", ".join(sorted(mlflow_tables)[:5]), SCHEMAS[schema][1], schema)
            )
            _reply(answer)
            return
        heads, pending, unknown = plan(graph, current)
        answer.update(current=current, heads=heads, pending=pending, empty=current is None)
        if unknown:
            answer["error"] = (
                "the database schema is at revision %s, which the installed MLflow %s does not know: "
                "the database was migrated by a newer MLflow. Install that MLflow version (or newer) "
                "instead of downgrading" % (", ".join(unknown), answer["mlflow_version"])
            )
            _reply(answer)
            return
        if schema == "auth" and any(p["revision"] == AUTH_ROLES_REVISION for p in pending):
            with engine.connect() as conn:
                total, rows = legacy_denies(conn)
            answer["denies"] = {"total": total, "rows": rows}
        # the module refuses too (mlflow_db.summarize); this keeps the rows even if one appeared in between
        refused = answer.get("denies", {}).get("total") and request.get("dropped_permissions") != "drop"
        if pending and request.get("apply") and not refused:
            if schema == "auth":
                from mlflow.server.auth.db.utils import migrate

                migrate(engine, "head")
            else:
                from mlflow.store.db.utils import _initialize_tables, _upgrade_db

                if current is None:
                    _initialize_tables(engine)
                else:
                    _upgrade_db(engine)
            answer["applied"] = True
            answer["current_after"], _tables = _current_revisions(engine, schema)
    finally:
        engine.dispose()
    _reply(answer)


if __name__ == "__main__":
    main()
