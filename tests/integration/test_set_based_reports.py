"""The shelf list, holdings and progress read in a constant number of queries (not one
per row), through indexes, with the same answers as document by document; staged view
documents are handed out, not copied; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

import pytest

from application.policy import Principal
from application.progress import count_progress
from application.projections import VIEWS, view_digest
from infrastructure.bootstrap import Runtime
from tests.factories import pnr, student
from tests.scenario import Story, run_story


def _more_students(rt: Runtime, story: Story, n: int) -> None:
    """``n`` more students on the shelf, in states progress counts apart: printed only,
    filed, verified, a discrepancy reprinted, a school copy delivered."""
    c = rt.custody
    arch = story.staff.archivist
    for i in range(n):
        record_id = c.capture_student(arch, student(pnr(2006, 1 + i % 12, 1 + i % 28, 500 + i),
                                                    f"Extra {i}", "holmes"))
        if i % 6 == 5:
            continue  # captured only
        copy_id = c.print_copy(arch, record_id, "archive", None)
        if i % 6 >= 1:
            c.archive_copy(arch, record_id, copy_id, box="B-extra", shelf="2")
        if i % 6 == 2:
            c.verify_copy(arch, record_id, copy_id, outcome="ok", note=None)
        if i % 6 == 3:
            c.verify_copy(arch, record_id, copy_id, outcome="discrepancy", note="sida 2")
            c.reprint(arch, record_id, copy_id)
        if i % 6 == 4:
            school_copy = c.print_copy(arch, record_id, "school", "holmes")
            c.deliver_copy(story.staff.custodians["holmes"], record_id, school_copy, "holmes")


@contextmanager
def counting_queries(rt: Runtime) -> Iterator[list[str]]:
    """Every statement run on the views' database (and the data keys', when shared)."""
    db: Any = rt.views.db
    seen: list[str] = []
    originals = {name: getattr(db, name) for name in ("reading", "transaction")}

    class Counting:
        def __init__(self, cursor: Any) -> None:
            self._cursor = cursor

        def execute(self, sql: str, params: Any = ()) -> Any:
            seen.append(sql)
            return self._cursor.execute(sql, params)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._cursor, name)

    def wrap(open_: Callable[[], Any]) -> Callable[[], Any]:
        @contextmanager
        def opened() -> Iterator[Any]:
            with open_() as cursor:
                yield Counting(cursor)
        return opened

    for name, original in originals.items():
        setattr(db, name, wrap(original))
    try:
        yield seen
    finally:
        for name in originals:
            delattr(db, name)


def _view_reads(statements: list[str], table: str) -> list[str]:
    return [s for s in statements if f"FROM {table}" in s and "_tracking" not in s]


class TestReportsReadInSets:
    def test_the_shelf_list_reads_its_rows_in_one_query_whatever_their_number(
        self, runtime: Runtime
    ) -> None:
        story = run_story(runtime)
        _more_students(runtime, story, 36)
        q = runtime.queries
        q.fresh_all()
        archivist = story.staff.archivist
        with counting_queries(runtime) as seen:
            page = q.shelf_list_page(archivist, 1000, None)
        assert len(page.items) == 5 + 30  # a reprint replaced one copy of six
        reads = _view_reads(seen, runtime.views.table)
        assert len(reads) == 1, reads  # copies joined to their records
        # Not one query per row anywhere (data keys: one query per page of keys).
        assert len(seen) < 10, seen

    def test_holdings_read_their_rows_in_one_query(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        _more_students(runtime, story, 12)
        q = runtime.queries
        q.fresh_all()
        with counting_queries(runtime) as seen:
            page = q.holdings_page(story.staff.auditor, "holmes", 1000, None)
        assert len(page.items) == 2
        reads = _view_reads(seen, runtime.views.table)
        # the school unit, then its copies joined to their records
        assert len(reads) == 2, reads

    def test_the_rows_are_those_read_document_by_document(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        _more_students(runtime, story, 12)
        views = runtime.views
        runtime.queries.fresh_all()
        joined = views.find_joined("copies", "records", "record_id", school_id=None)
        assert joined == [(c, views.get("records", c["record_id"])) for c in sorted(
            views.find("copies", school_id=None), key=lambda c: str(c["id"]))]
        assert any(r is not None and r.get("personal") for _, r in joined)  # opened
        kept = views.find_joined("copies", "records", "record_id",
                                 keep=lambda c: c["status"] == "replaced", school_id=None)
        assert [c["status"] for c, _ in kept] == ["replaced"] * 2
        shelf = runtime.queries.shelf_list(story.staff.archivist)
        names = [r["name"] for r in shelf]
        assert names[:5] == ["Eldre Ström", "Bo Ek", "Cai Dahl", "Anna Holm", "Dana Fors"]
        assert len(shelf) == len({r["copy_id"] for r in shelf}) == 5 + 10

    def test_a_page_logs_the_students_on_the_page_only(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        q = runtime.queries
        auditor = story.staff.auditor

        def logged() -> list[str]:
            q.fresh_all()
            return [a["record_id"] for a in runtime.views.all("access")
                    if a["action"] == "shelf list"]

        before = logged()
        page = q.shelf_list_page(auditor, 2, None)
        new = logged()[len(before):]
        assert sorted(new) == sorted(r["record_id"] for r in page.items) and len(new) == 2


class TestProgressIsCountedInTheDatabase:
    def test_progress_counts_what_the_documents_say(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        _more_students(runtime, story, 12)
        q = runtime.queries
        q.fresh_all()
        expected = count_progress(runtime.views.all("records"), runtime.views.all("copies"))
        assert runtime.views.progress_counts() == expected
        holmes = expected["holmes"]
        # Anna Holm left for kvistberg; Bo Ek and 12 more.
        assert holmes["captured"] == 1 + 12 and holmes["general_information"] == 1
        assert (holmes["printed"], holmes["archived"], holmes["verified"]) == (
            1 + 10, 1 + 6, 1 + 2)
        progress = {p["school_id"]: p for p in q.progress(Principal.system())}
        assert progress["holmes"] == {"school_id": "holmes", "name": progress["holmes"]["name"],
                                      **holmes}
        assert progress["fryken"]["ist_entered"] == 1

    def test_progress_reads_no_document_into_python(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        runtime.queries.fresh_all()
        with counting_queries(runtime) as seen:
            runtime.views.progress_counts()
        assert len(seen) == 1 and "GROUP BY" in seen[0]
        assert story.records

    def test_a_rebuild_gives_the_same_progress(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        _more_students(runtime, story, 6)
        runtime.queries.fresh_all()
        before = runtime.queries.progress(Principal.system())
        runtime.runner.rebuild()
        assert runtime.queries.progress(Principal.system()) == before


class TestIndexedPlans:
    """The set-based reads go through indexes, never a scan of the whole view table."""

    def _plan(self, runtime: Runtime, sql: str, params: list[Any]) -> str:
        db = runtime.views.db
        with db.transaction() as cur:
            if db.dialect == "postgres":
                cur.execute("SET LOCAL enable_seqscan = off")
                cur.execute("EXPLAIN " + sql, params)
            else:
                cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(" ".join(str(c) for c in row) for row in cur.fetchall())

    def _statement(self, runtime: Runtime, read: Callable[[], Any]) -> tuple[str, list[Any]]:
        captured: list[tuple[str, list[Any]]] = []
        db: Any = runtime.views.db
        original = db.reading

        @contextmanager
        def reading() -> Iterator[Any]:
            with original() as cur:
                class Capture:
                    def execute(self, sql: str, params: Any = ()) -> Any:
                        captured.append((sql, list(params)))
                        return cur.execute(sql, params)

                    def __getattr__(self, name: str) -> Any:
                        return getattr(cur, name)
                yield Capture()

        db.reading = reading
        try:
            read()
        finally:
            del db.reading
        table = runtime.views.table
        return next((s, p) for s, p in captured if f"FROM {table}" in s)

    @staticmethod
    def _no_full_scan(plan: str, *names: str) -> None:
        """No ``Seq Scan`` (PostgreSQL) and no ``SCAN <table or alias>`` (SQLite)."""
        assert "Seq Scan" not in plan, plan
        for line in plan.splitlines():
            words = line.split()
            assert not any(w == "SCAN" and nxt in names
                           for w, nxt in pairwise(words)), plan
        if "Index" in plan or "Bitmap" in plan:
            assert "Index Cond" in plan, plan

    def test_copies_joined_to_records_use_the_place_index_and_the_primary_key(
        self, runtime: Runtime
    ) -> None:
        run_story(runtime)
        runtime.queries.fresh_all()
        table = runtime.views.table
        for where in ({"school_id": None}, {"school_id": "holmes"}):
            sql, params = self._statement(runtime, lambda w=where: runtime.views.find_joined(
                "copies", "records", "record_id", **w))
            plan = self._plan(runtime, sql, params)
            self._no_full_scan(plan, table, "a", "b")
            if runtime.views.db.dialect == "sqlite":
                assert f"{table}_school_id" in plan, plan

    def test_progress_reads_the_two_views_by_index(self, runtime: Runtime) -> None:
        run_story(runtime)
        runtime.queries.fresh_all()
        table = runtime.views.table
        sql, params = self._statement(runtime, runtime.views.progress_counts)
        plan = self._plan(runtime, sql, params)
        self._no_full_scan(plan, table)


class TestStagedDocumentsAreNotCopied:
    def test_a_batch_hands_out_and_keeps_the_same_document(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        runtime.queries.fresh_all()
        anna = str(story.records["Anna Holm"])
        views = runtime.views
        position = views.position()
        seen: dict[str, Any] = {}

        def change(w: Any) -> None:
            doc = w.get("records", anna)
            assert w.get("records", anna) is doc  # staged: the same object again
            doc["note"] = "kept"
            w.put("records", anna, doc)
            assert w.get("records", anna) is doc  # put back as it is, no copy
            mine = {"id": "x", "list": [1]}
            w.put("meta", "x", mine)
            mine["list"].append(2)  # the caller's own dict: the staged copy is apart
            seen["x"] = w.get("meta", "x")

        views.apply(position, position, change)
        assert seen["x"] == {"id": "x", "list": [1]}
        stored = views.get("records", anna)
        assert stored is not None and stored["note"] == "kept"
        assert stored["personal"]["name"] == "Anna Holm"  # sealed and opened again

    def test_a_rebuild_in_memory_and_in_sql_give_the_same_views(self, runtime: Runtime
                                                                ) -> None:
        from application.projections import MemoryViewStore, ProjectionRunner

        story = run_story(runtime)
        _more_students(runtime, story, 6)
        runtime.queries.fresh_all()
        memory = MemoryViewStore()
        ProjectionRunner(runtime.runner.feed, memory, batch_size=50).catch_up()
        for view in (*VIEWS, "heads"):
            assert view_digest(memory, view) == view_digest(runtime.views, view), view
        assert memory.progress_counts() == runtime.views.progress_counts()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_documents_written_before_orjson_read_the_same(runtime: Runtime) -> None:
    """Rows written by ``json.dumps`` (ASCII escapes) decode as before."""
    import json

    story = run_story(runtime)
    runtime.queries.fresh_all()
    anna = str(story.records["Anna Holm"])
    views = runtime.views
    with views.db.reading() as cur:
        cur.execute(f"SELECT doc FROM {views.table} WHERE view = 'schools' AND key = %s",
                    ("holmes",))
        text = cur.fetchone()[0]
    old = json.loads(text)
    old["name"] = "Skolan på Åsen"
    escaped = json.dumps(old, separators=(",", ":"), sort_keys=True, default=str)
    assert "\\u00e5" in escaped
    with views.db.transaction() as cur:
        cur.execute(f"UPDATE {views.table} SET doc = %s WHERE view = 'schools' AND key = %s",
                    (escaped, "holmes"))
    assert views.get("schools", "holmes") == old
    assert views.get("records", anna) is not None
