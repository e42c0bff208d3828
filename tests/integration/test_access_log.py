"""The access log on SQLite and PostgreSQL: every read durable before it is answered,
concurrent reads sharing signed saves, bundle export and offline verification."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from application.policy import Principal
from domain.errors import NotAuthorisedError
from infrastructure.bootstrap import Runtime
from infrastructure.bundle import verify_bundle, write_bundle
from tests.factories import pnr, seed_staff, student


def access_entries(rt: Runtime, record_id: str) -> list[dict[str, str]]:
    rt.queries.fresh_all()
    return rt.queries._access_items(record_id)


class TestEveryReadIsLoggedBeforeItIsAnswered:
    def test_a_read_is_in_the_store_when_it_returns(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 2, 2, 1)))
        before = runtime.custody.recorder.max_notification_id() or 0
        runtime.queries.record(staff.archivist, record_id)
        stored = runtime.custody.recorder.select_notifications(before + 1, 10)
        assert [n.topic for n in stored][-1] == "custody:AccessLog.Recorded"
        entries = access_entries(runtime, str(record_id))
        assert [(e["actor"], e["action"], e["outcome"]) for e in entries] == [
            (staff.archivist.id, "record", "allowed")]

    def test_a_refused_read_is_logged_as_refused(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 2, 2, 2)))
        with pytest.raises(NotAuthorisedError):
            runtime.queries.record(staff.custodians["kvistberg"], record_id)
        entries = access_entries(runtime, str(record_id))
        assert [(e["actor"], e["outcome"]) for e in entries] == [
            (staff.custodians["kvistberg"].id, "refused")]

    def test_concurrent_reads_share_saves_and_none_is_lost(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 2, 2, 3)))
        recorder = runtime.queries.access
        flushes_before = recorder.flushes
        readers, each = 8, 10
        via = [Principal(staff.archivist.id, "x", staff.archivist.role, None, via=f"t{k}")
               for k in range(readers)]

        def read(k: int) -> None:
            for _ in range(each):
                runtime.queries.record(via[k], record_id)

        threads = [threading.Thread(target=read, args=(k,)) for k in range(readers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        entries = access_entries(runtime, str(record_id))
        assert len(entries) == readers * each
        assert {e["route"] for e in entries} == {f"t{k}" for k in range(readers)}
        assert recorder.flushes - flushes_before <= readers * each


class TestTheAccessLogTravelsInTheBundle:
    def test_the_bundle_carries_it_and_verifies_offline(self, runtime: Runtime,
                                                       tmp_path: Path) -> None:
        staff = seed_staff(runtime.custody)
        record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 2, 2, 4)))
        runtime.queries.record(staff.archivist, record_id)
        runtime.queries.history(staff.auditor, record_id)
        runtime.seal()
        path = tmp_path / "bundle.json"
        write_bundle(runtime, path)
        assert b"custody:AccessLog.Recorded" in path.read_bytes()
        report = verify_bundle(path, workers=1)
        assert report.faults == [], [f.line() for f in report.faults]
