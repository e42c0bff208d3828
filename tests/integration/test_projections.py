"""The read models on SQLite and PostgreSQL: derived only from events, exactly once,
rebuildable byte for byte, as of any moment, and never from a forged event."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from application.policy import Principal
from application.projections import VIEWS, ProjectionStoppedError, view_digest
from infrastructure.bootstrap import Runtime
from tests.integration.tamper import Tamperer
from tests.scenario import PEOPLE, run_story

ALL_VIEWS = (*VIEWS, "heads")


def digests(rt: Runtime) -> dict[str, str]:
    return {view: view_digest(rt.views, view) for view in ALL_VIEWS}


class TestViewsHoldWhatTheEventsSay:
    def test_custody_requests_culls_and_readiness_after_a_migration(self, runtime: Runtime
                                                                     ) -> None:
        story = run_story(runtime)
        q = runtime.queries
        auditor = story.staff.auditor
        # The archivist sees the students; auditors see pseudonymous references.
        anna = q.record(story.staff.archivist, story.records["Anna Holm"])
        school_copy = next(c for c in anna["copies"] if c["purpose"] == "school")
        assert school_copy["status"] == "in_transit" and school_copy["school_id"] == "kvistberg"
        assert anna["school_id"] == "kvistberg"
        assert anna["student"]["personnummer"] == PEOPLE[1][0]
        log = q.request_log(auditor)
        assert [(r["status"], r["refused_on_arrival"]) for r in log] == [
            ("returned", False), ("refused", True)]
        assert log[1]["id"] == story.refused_request
        culls = q.culls(auditor)
        assert {(c["point"], c["kind"]) for c in culls} == {
            (4, "student_documentation"), (1, "general_information")}
        readiness = q.readiness(Principal.system())
        assert readiness["students"] == 5 and readiness["verified"] == 5
        assert readiness["ready"] is True
        kvistberg = q.holdings(auditor, "kvistberg")
        assert [c["record_id"] for c in kvistberg["incoming"]] == [str(story.records["Anna Holm"])]
        progress = {p["school_id"]: p for p in q.progress(Principal.system())}
        assert progress["fryken"]["captured"] == 2 and progress["fryken"]["ist_entered"] == 1
        assert progress["holmes"]["general_information"] == 1

    def test_shelf_list_is_in_personnummer_order_across_centuries(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        shelf = runtime.queries.shelf_list(story.staff.archivist)
        # 1912 (a '+' in the 10-digit form), 1999, 2003 (coordination number, day 62 = 2),
        # 2004, 2005: real birth dates with century, whatever the written form.
        assert [row["name"] for row in shelf] == [
            "Eldre Ström", "Bo Ek", "Cai Dahl", "Anna Holm", "Dana Fors"]
        assert {row["personnummer"] for row in shelf} == {p for p, _, _ in PEOPLE}


class TestExactlyOnceAndRebuild:
    def test_rebuild_gives_identical_views(self, runtime: Runtime) -> None:
        run_story(runtime)
        runtime.queries.fresh()
        before = digests(runtime)
        runtime.runner.rebuild()
        assert digests(runtime) == before

    def test_runner_killed_mid_batch_resumes_without_applying_anything_twice(
        self, runtime: Runtime
    ) -> None:
        run_story(runtime)
        runtime.queries.fresh()
        expected = digests(runtime)
        runtime.views.reset()
        runner = runtime.runner
        runner.batch_size = 7
        original = runner.projector.apply
        calls = {"n": 0}

        def dying(w, item):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 30:
                raise KeyboardInterrupt("killed")
            original(w, item)

        runner.projector.apply = dying  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            runner.catch_up()
        stopped_at = runtime.views.position()
        assert 0 < stopped_at < runtime.custody.recorder.max_notification_id()
        runner.projector.apply = original  # type: ignore[method-assign]
        runner.catch_up()
        assert digests(runtime) == expected

    def test_a_stale_runner_cannot_apply_a_batch_twice(self, runtime: Runtime) -> None:
        from infrastructure.view_store import ProjectionConflictError

        run_story(runtime)
        runtime.queries.fresh()
        position = runtime.views.position()
        with pytest.raises(ProjectionConflictError):
            runtime.views.apply(position - 5, position, lambda w: None)
        assert runtime.views.position() == position


class TestAsOf:
    def test_custody_before_and_after_a_transfer(self, runtime: Runtime) -> None:
        c = runtime.custody
        story = run_story(runtime)
        anna = story.records["Anna Holm"]
        before = dt.datetime.now(dt.UTC)
        time.sleep(0.01)
        c.receive_copy(story.staff.custodians["kvistberg"], anna, story.school_copies["Anna Holm"])
        auditor = story.staff.auditor
        # Find the moment just before the transfer event from the record's history.
        history = runtime.queries.history(auditor, anna)["events"]
        transfer_at = next(dt.datetime.fromisoformat(e["at"]) for e in history
                           if e["type"] == "CopyTransferred")
        just_before = transfer_at - dt.timedelta(microseconds=1)
        then = runtime.queries.record_as_of(auditor, anna, just_before)
        assert then is not None
        copy_then = next(x for x in then["copies"] if x["purpose"] == "school")
        assert copy_then["school_id"] == "holmes" and copy_then["status"] == "at_school"
        later = runtime.queries.record_as_of(auditor, anna, before)
        assert later is not None
        assert next(x for x in later["copies"] if x["purpose"] == "school")["school_id"] == (
            "kvistberg")
        holdings_then = runtime.queries.holdings(auditor, "holmes",
                                                 transfer_at - dt.timedelta(microseconds=1))
        assert str(anna) in [h["record_id"] for h in holdings_then["copies"]]
        holdings_now = runtime.queries.holdings(auditor, "holmes")
        assert str(anna) not in [h["record_id"] for h in holdings_now["copies"]]


class TestForgedEventsStopTheProjection:
    def test_a_tampered_event_stops_the_runner_with_an_error_naming_it(
        self, runtime: Runtime
    ) -> None:
        story = run_story(runtime)
        runtime.queries.fresh()
        runtime.views.reset()
        anna = story.records["Anna Holm"]
        Tamperer(runtime).flip_byte(anna, 2)
        with pytest.raises(ProjectionStoppedError, match=f"record={anna.hex} version=2"):
            runtime.runner.catch_up()
        assert runtime.runner.error is not None
        with pytest.raises(ProjectionStoppedError):
            runtime.queries.readiness(Principal.system())


class TestViewStore:
    def test_get_many_keeps_the_order_asked_for_and_leaves_out_missing_keys(
        self, runtime: Runtime
    ) -> None:
        run_story(runtime)
        runtime.queries.fresh()
        copies = runtime.views.all("copies")
        keys = [c["id"] for c in copies][:3]
        asked = [keys[2], "no-such-copy", keys[0], keys[1]]
        got = runtime.views.get_many("copies", asked)
        assert [c["id"] for c in got] == [keys[2], keys[0], keys[1]]
        assert got == [runtime.views.get("copies", k) for k in (keys[2], keys[0], keys[1])]
        assert runtime.views.get_many("copies", []) == []
        # Personal data comes back opened, as from get().
        record = runtime.views.all("records")[0]
        assert runtime.views.get_many("records", [record["id"]]) == [record]


class TestViewReadsUseAnIndex:
    """Every per-key read of the views is served by an index, never a scan of the table
    (a scan made each projection batch cost O(rows) and a rebuild O(N^2))."""

    def _plan(self, runtime: Runtime, sql: str, params: list[str]) -> str:
        db = runtime.views.db
        with db.transaction() as cur:
            if db.dialect == "postgres":
                cur.execute("SET LOCAL enable_seqscan = off")
                cur.execute("EXPLAIN " + sql, params)
            else:
                cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(" ".join(str(c) for c in row) for row in cur.fetchall())

    def test_the_prefetch_by_key_uses_the_key_index(self, runtime: Runtime) -> None:
        run_story(runtime)
        runtime.queries.fresh()
        table = runtime.views.table
        plan = self._plan(runtime, f"SELECT view, key, doc FROM {table} WHERE key IN (%s, %s)",
                          ["a", "b"])
        assert f"{table}_key" in plan, plan
        assert "Seq Scan" not in plan and not plan.startswith("SCAN"), plan

    def test_a_read_by_view_and_key_uses_the_primary_key(self, runtime: Runtime) -> None:
        run_story(runtime)
        runtime.queries.fresh()
        table = runtime.views.table
        plan = self._plan(runtime, f"SELECT doc FROM {table} WHERE view = %s AND key = %s",
                          ["records", "a"])
        assert "Seq Scan" not in plan and "SCAN " + table not in plan, plan
