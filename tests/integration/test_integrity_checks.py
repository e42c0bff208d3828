"""``custody verify`` checks what is derived from the events too — the views against a
replay, every stored Merkle node against the leaves, the checkpoints present — and
``/healthz`` turns non-ok when the log's stored tree or checkpoints were changed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infrastructure.audit import verify_live
from infrastructure.bootstrap import Runtime
from tests.scenario import Story, run_story


def sql(rt: Runtime, sqlite_file: str, statement: str, params: tuple[Any, ...] = ()
        ) -> list[Any]:
    """Run ``statement`` behind the service's back (the views' or the log's tables)."""
    if rt.settings.uses_postgres:
        schema = rt.settings.database_schema
        with psycopg.connect(rt.settings.database_url or "", autocommit=True,
                             options=f"-c search_path={schema}") as conn:
            cur = conn.execute(statement.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []
    conn = sqlite3.connect(rt.settings.data_dir / sqlite_file, isolation_level=None)
    try:
        return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


def log_table(rt: Runtime, name: str) -> str:
    return f"custody_{name}" if rt.settings.uses_postgres else name


@pytest.fixture
def story(runtime: Runtime) -> Iterator[Story]:
    story = run_story(runtime)
    runtime.seal()
    runtime.queries.fresh()
    yield story


def faults(rt: Runtime) -> list[str]:
    return [f.line() for f in verify_live(rt, workers=1).faults]


def health(rt: Runtime) -> tuple[int, dict[str, Any]]:
    with TestClient(create_app(runtime=rt)) as client:
        response = client.get("/healthz")
        return response.status_code, response.json()


def test_an_intact_store_verifies_with_views_nodes_and_checkpoints_checked(
    runtime: Runtime, story: Story
) -> None:
    report = verify_live(runtime, workers=1)
    assert report.faults == []
    assert any("views replayed" in note for note in report.notes)
    assert any("tree node(s) recomputed" in note for note in report.notes)
    assert health(runtime)[0] == 200


def test_a_view_row_edited_in_the_database_is_found(runtime: Runtime, story: Story) -> None:
    record = str(story.records["Anna Holm"])
    (school,) = sql(runtime, "views.sqlite", "SELECT school_id FROM custody_views "
                    "WHERE view = 'records' AND key = ?", (record,))
    other = "fryken" if school[0] != "fryken" else "holmes"
    # Moved to another school unit in the column that decides who may read it.
    sql(runtime, "views.sqlite",
        "UPDATE custody_views SET school_id = ? WHERE view = 'records' AND key = ?",
        (other, record))
    found = faults(runtime)
    assert any("indexed columns disagree" in f and record in f for f in found), found


def test_a_view_document_edited_in_the_database_is_found(runtime: Runtime,
                                                         story: Story) -> None:
    record = str(story.records["Anna Holm"])
    (row,) = sql(runtime, "views.sqlite", "SELECT doc, school_id FROM custody_views "
                 "WHERE view = 'records' AND key = ?", (record,))
    other = "fryken" if row[1] != "fryken" else "holmes"
    edited = row[0].replace(f'"school_id":"{row[1]}"', f'"school_id":"{other}"')
    assert edited != row[0]
    # Column and document changed together: only the replay can tell.
    sql(runtime, "views.sqlite", "UPDATE custody_views SET doc = ?, school_id = ? "
        "WHERE view = 'records' AND key = ?", (edited, other, record))
    found = faults(runtime)
    assert any("'records' differs from a replay" in f and record in f for f in found), found


def test_a_zeroed_merkle_node_is_found_and_health_turns_non_ok(runtime: Runtime,
                                                               story: Story) -> None:
    nodes = log_table(runtime, "merkle_nodes")
    assert health(runtime)[0] == 200
    (top,) = sql(runtime, "log.sqlite", f"SELECT MAX(level) FROM {nodes}")
    sql(runtime, "log.sqlite", f"UPDATE {nodes} SET hash = ? WHERE level = ? AND idx = 0",
        (bytes(32), top[0]))
    found = faults(runtime)
    assert any(f"tree node (level {top[0]}, index 0) does not match" in f for f in found), found
    status, body = health(runtime)
    assert status == 503
    assert "do not give the root" in body["log"]["error"]


def test_a_zeroed_leaf_node_is_found(runtime: Runtime, story: Story) -> None:
    nodes = log_table(runtime, "merkle_nodes")
    sql(runtime, "log.sqlite", f"UPDATE {nodes} SET hash = ? WHERE level = 0 AND idx = 3",
        (bytes(32),))
    assert any("tree node (level 0, index 3)" in f for f in faults(runtime))


def test_all_checkpoints_deleted_are_found_and_health_turns_non_ok(runtime: Runtime,
                                                                   story: Story) -> None:
    checkpoints = log_table(runtime, "checkpoints")
    app = create_app(runtime=runtime)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200  # it has seen a checkpoint
        sql(runtime, "log.sqlite", f"DELETE FROM {checkpoints}")
        response = client.get("/healthz")
    assert response.status_code == 503
    assert "checkpoints were deleted" in response.json()["log"]["error"]
    found = faults(runtime)
    assert any("no signed checkpoint: the checkpoints were deleted" in f for f in found), found
