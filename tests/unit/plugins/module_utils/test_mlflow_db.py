# Unit tests of the schema planning that db_upgrade runs inside the MLflow environment.
from __future__ import annotations

import json

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
    assert (
        mlflow_db.encode_request("postgresql+psycopg2://u:p@h/db", True)
        == '{"uri": "postgresql+psycopg2://u:p@h/db", "apply": true, "schema": "tracking"}'
    )
    assert json.loads(mlflow_db.encode_request("postgresql+psycopg2://u:p@h/auth", False, "auth"))["schema"] == "auth"


def test_helper_source_is_the_helper_file_verbatim():
    with open(helper.__file__, encoding="utf-8") as handle:
        assert mlflow_db.helper_source() == handle.read()
    compile(mlflow_db.helper_source(), "mlflow_db_helper", "exec")
