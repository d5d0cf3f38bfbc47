# Unit tests of the schema planning that db_upgrade runs inside the MLflow environment.
from __future__ import annotations

import io
import json
import sys
import types

import pytest
from ansible_collections.mlops.mlflow.plugins.module_utils import mlflow_db
from ansible_collections.mlops.mlflow.plugins.module_utils import mlflow_db_helper as helper


def migration(rev, down, doc="a migration"):
    down_src = repr(down)
    return (
        '"""%s\n\nRevision ID: %s\n"""\nimport sqlalchemy as sa\n\nrevision = "%s"\ndown_revision = %s\nbranch_labels = None\n'
        % (
            doc,
            rev,
            rev,
            down_src,
        )
    )


LINEAR = [
    migration("aaa", None, "create base"),
    migration("bbb", "aaa", "add step"),
    migration("ccc", "bbb", "add index"),
]


def test_parse_revision_reads_without_importing():
    # The source imports sqlalchemy and would fail on a bogus import: it is parsed, not executed.
    source = migration("bbb", "aaa", "add step") + "import module_that_does_not_exist\n"
    assert helper.parse_revision(source) == ("bbb", ["aaa"], "add step")


def test_empty_database_needs_every_revision_in_order():
    graph = helper.revision_graph(LINEAR)
    heads, pending, unknown = helper.plan(graph, None)
    assert heads == ["ccc"]
    assert [p["revision"] for p in pending] == ["aaa", "bbb", "ccc"]
    assert pending[0]["description"] == "create base"
    assert unknown == []


def test_partial_upgrade_lists_only_newer_revisions():
    graph = helper.revision_graph(LINEAR)
    assert [p["revision"] for p in helper.plan(graph, ["aaa"])[1]] == ["bbb", "ccc"]
    assert helper.plan(graph, ["ccc"])[1] == []


def test_merge_revision():
    graph = helper.revision_graph(
        [
            migration("aaa", None),
            migration("b1", "aaa"),
            migration("b2", "aaa"),
            migration("mmm", ("b1", "b2")),
        ]
    )
    heads, pending, unknown = helper.plan(graph, ["b1"])
    assert unknown == []
    assert heads == ["mmm"]
    assert [p["revision"] for p in pending] == ["b2", "mmm"]


def test_database_newer_than_installed_mlflow_is_unknown():
    graph = helper.revision_graph(LINEAR)
    heads, pending, unknown = helper.plan(graph, ["fff"])
    assert pending is None and unknown == ["fff"]


def test_summarize_noop():
    failure, result = mlflow_db.summarize(
        {"mlflow_version": "3.17.2", "current": ["ccc"], "heads": ["ccc"], "pending": [], "empty": False},
        check_mode=False,
    )
    assert failure is None
    assert result["changed"] is False and result["current_revision"] == "ccc" and result["head_revision"] == "ccc"


def test_summarize_check_mode_reports_pending():
    answer = {
        "current": ["aaa"],
        "heads": ["ccc"],
        "pending": [{"revision": "bbb"}, {"revision": "ccc"}],
        "empty": False,
    }
    failure, result = mlflow_db.summarize(answer, check_mode=True)
    assert failure is None and result["changed"] is True and len(result["pending"]) == 2
    assert result["current_revision"] == "aaa"


def test_summarize_applied_initialisation():
    answer = {
        "current": None,
        "heads": ["ccc"],
        "pending": [{"revision": "aaa"}],
        "empty": True,
        "applied": True,
        "current_after": ["ccc"],
    }
    failure, result = mlflow_db.summarize(answer, check_mode=False)
    assert failure is None and result["initialized"] is True and result["current_revision"] == "ccc"


def test_summarize_detects_incomplete_migration():
    answer = {
        "current": ["aaa"],
        "heads": ["ccc"],
        "pending": [{"revision": "bbb"}],
        "applied": True,
        "current_after": ["bbb"],
    }
    failure, result = mlflow_db.summarize(answer, check_mode=False)
    assert "not at the head" in failure
    assert result["current_revision"] == "bbb"


def test_summarize_downgrade_error_passes_through():
    failure, result = mlflow_db.summarize({"error": "newer MLflow", "heads": ["ccc"]}, check_mode=False)
    assert failure == "newer MLflow"
    assert result["changed"] is False


def test_request_carries_uri_on_stdin_only():
    assert json.loads(mlflow_db.encode_request("postgresql+psycopg2://u:p@h/db", True)) == {
        "uri": "postgresql+psycopg2://u:p@h/db",
        "apply": True,
        "schema": "tracking",
        "dropped_permissions": "refuse",
    }
    request = json.loads(mlflow_db.encode_request("postgresql+psycopg2://u:p@h/auth", False, "auth", "drop"))
    assert request["schema"] == "auth" and request["dropped_permissions"] == "drop"


def test_helper_source_is_the_helper_file_verbatim():
    with open(helper.__file__, encoding="utf-8") as handle:
        assert mlflow_db.helper_source() == handle.read()
    compile(mlflow_db.helper_source(), "mlflow_db_helper", "exec")


# --- NO_PERMISSIONS grants that MLflow's auth migration to roles (e5f6a7b8c9d0) drops ---------------------------

DENIES = [
    {"table": "experiment_permissions", "username": "alice", "resource": "1"},
    {"table": "registered_model_permissions", "username": "bob", "resource": "churn"},
]


def auth_answer(**extra):
    """A helper answer for an MLflow 2.x basic-auth database, with the migration to roles pending."""
    answer = {
        "mlflow_version": "3.17.2",
        "current": [helper.AUTH_LEGACY_REVISION],
        "heads": ["f1a2b3c4d5e6"],
        "pending": [{"revision": helper.AUTH_ROLES_REVISION}, {"revision": "f1a2b3c4d5e6"}],
        "empty": False,
        "denies": {"total": 2, "rows": DENIES},
    }
    answer.update(extra)
    return answer


@pytest.mark.parametrize("check_mode", [True, False])
def test_summarize_refuses_to_drop_no_permissions_grants(check_mode):
    failure, result = mlflow_db.summarize(auth_answer(), check_mode=check_mode)
    assert failure.startswith("2 legacy permission grants with permission NO_PERMISSIONS would be lost: ")
    assert "alice on experiment_permissions 1, bob on registered_model_permissions churn." in failure
    assert "default_permission" in failure and "mlflow_auth_default_permission" in failure
    assert "dropped_permissions=drop" in failure and "mlflow_auth_dropped_permissions" in failure
    assert "Nothing was changed" in failure
    assert result["changed"] is False
    assert result["dropped_permissions"] == DENIES and result["dropped_permissions_count"] == 2


def test_summarize_refusal_names_a_few_and_counts_the_rest():
    rows = [{"table": "experiment_permissions", "username": "u%d" % i, "resource": str(i)} for i in range(20)]
    failure, _result = mlflow_db.summarize(auth_answer(denies={"total": 31, "rows": rows}), check_mode=True)
    assert failure.startswith("31 legacy permission grants ")
    assert "u4 on experiment_permissions 4 and 26 more." in failure
    assert "u5 " not in failure
    one = mlflow_db.summarize(auth_answer(denies={"total": 1, "rows": rows[:1]}), check_mode=True)[0]
    assert one.startswith("1 legacy permission grant with permission NO_PERMISSIONS would be lost: u0 on ")


def test_summarize_drop_reports_the_dropped_grants():
    failure, result = mlflow_db.summarize(auth_answer(), check_mode=True, dropped_permissions="drop")
    assert failure is None and result["changed"] is True and result["dropped_permissions"] == DENIES
    applied = auth_answer(applied=True, current_after=["f1a2b3c4d5e6"])
    failure, result = mlflow_db.summarize(applied, check_mode=False, dropped_permissions="drop")
    assert failure is None and result["changed"] is True
    assert result["current_revision"] == "f1a2b3c4d5e6"
    assert result["dropped_permissions"] == DENIES and result["dropped_permissions_count"] == 2


@pytest.mark.parametrize(
    "answer",
    [
        auth_answer(denies={"total": 0, "rows": []}),  # the migration is pending, no deny row
        {"mlflow_version": "3.17.2", "current": ["ccc"], "heads": ["ccc"], "pending": []},  # tracking, nothing to do
    ],
)
def test_summarize_without_denies_returns_an_empty_list(answer):
    failure, result = mlflow_db.summarize(answer, check_mode=True)
    assert failure is None
    assert result["dropped_permissions"] == [] and result["dropped_permissions_count"] == 0


@pytest.fixture
def sa():
    return pytest.importorskip("sqlalchemy")


def auth_v2_tables(sa, metadata):
    """The tables of MLflow 2.x's basic-auth database, as its first auth migration (8606fa83a998) creates them."""
    users = sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=True),
        sa.UniqueConstraint("username"),
    )
    experiments = sa.Table(
        "experiment_permissions",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("experiment_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_id"),
        sa.UniqueConstraint("experiment_id", "user_id", name="unique_experiment_user"),
    )
    models = sa.Table(
        "registered_model_permissions",
        metadata,
        sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_user_id"),
        sa.UniqueConstraint("name", "user_id", name="unique_name_user"),
    )
    return users, experiments, models


@pytest.fixture
def auth_v2(sa, tmp_path):
    """An MLflow 2.x basic-auth database (SQLite file) with NO_PERMISSIONS grants: its URI and engine."""
    uri = "sqlite:///%s" % (tmp_path / "basic_auth.db")
    engine = sa.create_engine(uri)
    metadata = sa.MetaData()
    users, experiments, models = auth_v2_tables(sa, metadata)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            users.insert(),
            [
                {"id": 1, "username": "admin", "password_hash": "x", "is_admin": True},
                {"id": 2, "username": "alice", "password_hash": "x", "is_admin": False},
                {"id": 3, "username": "bob", "password_hash": "x", "is_admin": False},
            ],
        )
        conn.execute(
            experiments.insert(),
            [
                {"experiment_id": "7", "user_id": 2, "permission": "NO_PERMISSIONS"},
                {"experiment_id": "7", "user_id": 3, "permission": "READ"},
                {"experiment_id": "1", "user_id": 3, "permission": "NO_PERMISSIONS"},
            ],
        )
        conn.execute(
            models.insert(),
            [
                {"name": "churn", "user_id": 3, "permission": "NO_PERMISSIONS"},
                {"name": "churn", "user_id": 2, "permission": "EDIT"},
            ],
        )
    yield uri, engine
    engine.dispose()


V2_DENIES = [
    {"table": "experiment_permissions", "username": "alice", "resource": "7"},
    {"table": "experiment_permissions", "username": "bob", "resource": "1"},
    {"table": "registered_model_permissions", "username": "bob", "resource": "churn"},
]


def test_legacy_denies_of_an_mlflow_2_auth_database(auth_v2):
    _uri, engine = auth_v2
    with engine.connect() as conn:
        assert helper.legacy_denies(conn) == (3, V2_DENIES)


def test_legacy_denies_lists_at_most_limit_rows_and_counts_all(auth_v2):
    _uri, engine = auth_v2
    with engine.connect() as conn:
        assert helper.legacy_denies(conn, limit=1) == (3, V2_DENIES[:1])
        assert helper.legacy_denies(conn, limit=2) == (3, V2_DENIES[:2])


def test_legacy_denies_reads_any_permission_table_with_user_and_permission(sa, auth_v2):
    # MLflow 3.x tables before the migration to roles: several resource columns, no id, and a table that
    # needs quoting; role_permissions (no user_id) is not a legacy per-user table and is left alone.
    _uri, engine = auth_v2
    metadata = sa.MetaData()
    scorers = sa.Table(
        "scorer_permissions",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("experiment_id", sa.String(255), nullable=False),
        sa.Column("scorer_name", sa.String(256), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(255)),
    )
    workspaces = sa.Table(
        "workspace_permissions",
        metadata,
        sa.Column("workspace", sa.String(63), primary_key=True),
        sa.Column("user_id", sa.Integer(), primary_key=True),
        sa.Column("permission", sa.String(32), nullable=False),
    )
    odd = sa.Table(
        'Odd "Name"_permissions',
        metadata,
        sa.Column("Group", sa.String(63)),
        sa.Column("user_id", sa.Integer()),
        sa.Column("permission", sa.String(32)),
    )
    roles = sa.Table(
        "role_permissions",
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("role_id", sa.Integer()),
        sa.Column("resource_pattern", sa.String(255)),
        sa.Column("permission", sa.String(255)),
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            scorers.insert(),
            [{"experiment_id": "7", "scorer_name": "a/b", "user_id": 2, "permission": "NO_PERMISSIONS"}],
        )
        conn.execute(workspaces.insert(), [{"workspace": "team", "user_id": 3, "permission": "NO_PERMISSIONS"}])
        conn.execute(odd.insert(), [{"Group": "g", "user_id": 9, "permission": "NO_PERMISSIONS"}])
        conn.execute(roles.insert(), [{"role_id": 1, "resource_pattern": "*", "permission": "NO_PERMISSIONS"}])
    with engine.connect() as conn:
        total, rows = helper.legacy_denies(conn)
    assert total == 6
    assert rows == [
        {"table": 'Odd "Name"_permissions', "username": "user_id=9", "resource": "g"},  # no such user
        *V2_DENIES,
        {"table": "scorer_permissions", "username": "alice", "resource": "7/a/b"},
        {"table": "workspace_permissions", "username": "bob", "resource": "team"},
    ]


AUTH_GRAPH = [
    migration(helper.AUTH_LEGACY_REVISION, None, "initial_migration"),
    migration("c3d4e5f6a7b8", helper.AUTH_LEGACY_REVISION, "add rbac tables"),
    migration(helper.AUTH_ROLES_REVISION, "c3d4e5f6a7b8", "Migrate legacy per-resource permissions into roles"),
    migration("f1a2b3c4d5e6", helper.AUTH_ROLES_REVISION, "promote prompt resource type"),
]


def stamp(engine, revision):
    """Set the Alembic revision of a basic-auth database, as MLflow's migrations do."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS alembic_version_auth (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(sa.text("DELETE FROM alembic_version_auth"))
        conn.execute(sa.text("INSERT INTO alembic_version_auth VALUES (:rev)"), {"rev": revision})


@pytest.fixture
def run_helper(monkeypatch, capsys):
    """Run the helper's main() as the module does (request on stdin, answer on stdout), with a stand-in MLflow.

    The stand-in's migrate() only stamps the head revision and records that it ran.
    """
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "version", lambda name: "3.17.2")
    monkeypatch.setattr(helper, "_load_graph", lambda schema: helper.revision_graph(AUTH_GRAPH))
    migrations = []

    def migrate(engine, revision):
        migrations.append(revision)
        stamp(engine, "f1a2b3c4d5e6")

    names = ["mlflow", "mlflow.server", "mlflow.server.auth", "mlflow.server.auth.db", "mlflow.server.auth.db.utils"]
    for name in names:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["mlflow.server.auth.db.utils"].migrate = migrate

    def run(uri, apply, dropped_permissions):
        monkeypatch.setattr(
            sys, "stdin", io.StringIO(mlflow_db.encode_request(uri, apply, "auth", dropped_permissions))
        )
        helper.main()
        return json.loads(capsys.readouterr().out.splitlines()[-1]), migrations

    return run


@pytest.mark.parametrize("apply", [False, True])
def test_helper_lists_denies_and_refuses_to_migrate(auth_v2, run_helper, apply):
    uri, _engine = auth_v2
    answer, migrations = run_helper(uri, apply, "refuse")
    assert answer["current"] == [helper.AUTH_LEGACY_REVISION]
    assert answer["denies"] == {"total": 3, "rows": V2_DENIES}
    assert "applied" not in answer and migrations == []
    failure, _result = mlflow_db.summarize(answer, check_mode=not apply)
    assert failure.startswith("3 legacy permission grants with permission NO_PERMISSIONS would be lost: ")


def test_helper_drop_migrates_and_reports_the_dropped_grants(auth_v2, run_helper):
    uri, _engine = auth_v2
    answer, migrations = run_helper(uri, True, "drop")
    assert migrations == ["head"] and answer["applied"] is True
    assert answer["denies"] == {"total": 3, "rows": V2_DENIES}
    failure, result = mlflow_db.summarize(answer, check_mode=False, dropped_permissions="drop")
    assert failure is None and result["changed"] is True and result["current_revision"] == "f1a2b3c4d5e6"
    assert result["dropped_permissions"] == V2_DENIES


def test_helper_skips_the_deny_check_once_the_roles_migration_ran(auth_v2, run_helper):
    uri, engine = auth_v2
    stamp(engine, helper.AUTH_ROLES_REVISION)
    answer, migrations = run_helper(uri, True, "refuse")
    assert "denies" not in answer
    assert [p["revision"] for p in answer["pending"]] == ["f1a2b3c4d5e6"]
    assert migrations == ["head"]
