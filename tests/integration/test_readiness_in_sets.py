"""The agreement's readiness counted in the database (an aggregate, then the missing
students only), with the same answer as the document-by-document computation it
replaced, also after a rebuild; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from application.policy import Principal
from application.projections import MemoryViewStore, ProjectionRunner
from application.readiness import count_readiness
from infrastructure.bootstrap import Runtime
from tests.factories import pnr, student
from tests.integration import test_set_based_reports as reports
from tests.integration.test_set_based_reports import _more_students, counting_queries
from tests.scenario import Story, run_story


def _old_readiness(rt: Runtime) -> dict[str, Any]:
    """``Queries.readiness`` as it was before the store counted it: every record and copy
    read into Python (kept here, verbatim but for ``self``, as the reference)."""
    copies = {c["id"]: c for c in rt.views.all("copies") if c["purpose"] == "archive"}
    students = [r for r in rt.views.all("records") if r["kind"] == "student_documentation"]
    printed = archived = verified = 0
    missing = []
    for record in students:
        live = [copies[c] for c in record["copy_ids"]
                if c in copies and copies[c]["status"] not in ("replaced", "culled")]
        copy = live[0] if live else None
        status = copy["status"] if copy else None
        if copy:
            printed += 1
        if status in ("archived", "verified"):
            archived += 1
        if status == "verified":
            verified += 1
        else:
            need = {None: "archive copy not printed", "printed": "archive copy not filed",
                    "archived": "archive copy not verified",
                    "discrepancy": "verification found a discrepancy; reprint"}
            missing.append({"record_id": record["id"], "school_id": record["school_id"],
                            "archive_copy": status,
                            "missing": need.get(status, status or "")})
    agreement = rt.views.get("meta", "agreement")
    return {
        "ready": not missing and bool(students) and agreement is None,
        "terminated": agreement is not None,
        "terminated_at": agreement["at"] if agreement else None,
        "students": len(students), "printed": printed, "archived": archived,
        "verified": verified, "missing": missing,
    }


def _every_state(rt: Runtime) -> Story:
    """The story, students in every state an archive copy has (captured only, printed,
    filed, verified, a discrepancy left, a discrepancy reprinted), and one whose
    discrepancy is still open at fryken."""
    story = run_story(rt)
    _more_students(rt, story, 12)
    c, arch = rt.custody, story.staff.archivist
    record_id = c.capture_student(arch, student(pnr(2007, 3, 4, 901), "Open Fel", "fryken"))
    copy_id = c.print_copy(arch, record_id, "archive", None)
    c.archive_copy(arch, record_id, copy_id, box="B-open", shelf="3")
    c.verify_copy(arch, record_id, copy_id, outcome="discrepancy", note="sida 1")
    rt.queries.fresh_all()
    return story


class TestReadinessIsCountedInTheDatabase:
    def test_the_same_answer_as_document_by_document(self, runtime: Runtime) -> None:
        _every_state(runtime)
        old = _old_readiness(runtime)
        new = runtime.queries.readiness(Principal.system())
        assert new == old
        # Every state is there: 13 extra + 1 open discrepancy beside the story's students.
        statuses = {m["archive_copy"] for m in new["missing"]}
        assert statuses == {None, "printed", "archived", "discrepancy"}
        assert new["students"] > new["printed"] > new["archived"] > new["verified"] > 0
        assert not new["ready"]

    def test_the_store_counts_what_the_documents_say(self, runtime: Runtime) -> None:
        _every_state(runtime)
        expected = count_readiness(runtime.views.all("records"), runtime.views.all("copies"))
        assert runtime.views.readiness_counts() == expected
        memory = MemoryViewStore()
        ProjectionRunner(runtime.runner.feed, memory, batch_size=50).catch_up()
        counted = memory.readiness_counts()
        assert {k: v for k, v in counted.items() if k != "missing"} == {
            k: v for k, v in expected.items() if k != "missing"}
        assert sorted(counted["missing"], key=lambda m: m["record_id"]) == sorted(
            expected["missing"], key=lambda m: m["record_id"])

    def test_a_rebuild_gives_the_same_readiness(self, runtime: Runtime) -> None:
        _every_state(runtime)
        before = runtime.queries.readiness(Principal.system())
        runtime.runner.rebuild()
        after = runtime.queries.readiness(Principal.system())
        assert after == before == _old_readiness(runtime)

    def test_two_queries_and_no_document_read_into_python(self, runtime: Runtime) -> None:
        _every_state(runtime)
        views: Any = runtime.views
        missing = len(_old_readiness(runtime)["missing"])

        def refuse(*_: Any) -> Any:
            raise AssertionError("a document was read into Python")

        views._decode = views._decode_many = refuse
        try:
            with counting_queries(runtime) as seen:
                counts = runtime.views.readiness_counts()
        finally:
            del views._decode, views._decode_many
        assert len(seen) == 2, seen
        assert "COUNT(*)" in seen[0] and "ORDER BY" in seen[1]
        assert len(counts["missing"]) == missing > 0

    def test_an_empty_store_is_not_ready(self, runtime: Runtime) -> None:
        runtime.queries.fresh_all()
        counts = runtime.views.readiness_counts()
        assert counts == {"students": 0, "printed": 0, "archived": 0, "verified": 0,
                          "missing": []}
        assert runtime.queries.readiness(Principal.system())["ready"] is False


def test_readiness_reads_the_two_views_by_index(runtime: Runtime) -> None:
    """``EXPLAIN`` of the counting statement: no scan of the whole view table."""
    run_story(runtime)
    runtime.queries.fresh_all()
    plans = reports.TestIndexedPlans()
    sql, params = plans._statement(runtime, runtime.views.readiness_counts)
    plans._no_full_scan(plans._plan(runtime, sql, params), runtime.views.table)
