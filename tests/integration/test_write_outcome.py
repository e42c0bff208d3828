"""A failed insert is reported only when nothing was stored: the store looks for the rows
it tried to write before it answers. The database's own failures are played by the
library's recorder failing around a real insert (a lost COMMIT acknowledgement, a retry
that meets its own committed first attempt)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError
from fastapi.testclient import TestClient

from api.app import create_app
from application.ports import CommitOutcomeUnknownError
from domain.errors import ConcurrentChangeError
from infrastructure.bootstrap import Runtime
from tests.factories import Staff, pnr, seed_staff, student


@pytest.fixture
def staff(runtime: Runtime) -> Staff:
    return seed_staff(runtime.custody)


@pytest.fixture
def recorder(runtime: Runtime) -> Iterator[Any]:
    rec = runtime.custody.recorder
    real = {name: getattr(rec, name) for name in ("insert_events", "select_events")}
    yield rec
    for name, method in real.items():
        setattr(rec, name, method)


def failing_after(real: Callable[..., Any], error: Exception) -> Callable[..., Any]:
    def insert(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # committed
        raise error  # ... but the client never heard
    return insert


def hold_count(rt: Runtime, record_id: Any) -> int:
    events = rt.custody.recorder.select_events(record_id)
    return sum(1 for e in events if e.topic.endswith("HoldPlaced"))


def test_a_write_committed_before_the_connection_was_lost_is_a_success(
    runtime: Runtime, staff: Staff, recorder: Any
) -> None:
    record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 1, 1, 11)))
    recorder.insert_events = failing_after(recorder.insert_events,
                                           OperationalError("server closed the connection"))
    runtime.custody.place_hold(staff.archivist, record_id, "lost acknowledgement")
    assert hold_count(runtime, record_id) == 1


def test_a_retry_meeting_its_own_committed_attempt_is_a_success(
    runtime: Runtime, staff: Staff, recorder: Any
) -> None:
    record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 1, 2, 12)))
    recorder.insert_events = failing_after(recorder.insert_events,
                                           IntegrityError("duplicate key value"))
    runtime.custody.place_hold(staff.archivist, record_id, "retried insert")
    assert hold_count(runtime, record_id) == 1


def test_a_real_conflict_is_still_a_conflict_and_stores_nothing(
    runtime: Runtime, staff: Staff, recorder: Any
) -> None:
    record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 1, 3, 13)))
    stale = runtime.custody.record(record_id)
    runtime.custody.place_hold(staff.archivist, record_id, "first")
    stale.place_hold(hold_id=stale.id, reason="second, stale", actor=staff.archivist.id)
    with pytest.raises(ConcurrentChangeError):
        runtime.custody.commit(stale)
    assert hold_count(runtime, record_id) == 1


def test_an_outcome_that_cannot_be_found_out_is_answered_as_unknown(
    runtime: Runtime, staff: Staff, recorder: Any
) -> None:
    record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 1, 4, 14)))
    real_select = recorder.select_events

    def insert(*args: Any, **kwargs: Any) -> Any:
        def unreachable(*a: Any, **k: Any) -> Any:
            raise OperationalError("the database is gone")
        recorder.select_events = unreachable  # from now on nothing can be looked at
        raise OperationalError("server closed the connection during COMMIT")

    recorder.insert_events = insert
    with pytest.raises(CommitOutcomeUnknownError):
        runtime.custody.place_hold(staff.archivist, record_id, "unknown")
    recorder.select_events = real_select

    recorder.insert_events = insert
    app = create_app(runtime=runtime)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(f"/api/v1/records/{record_id}/holds", json={"reason": "x"},
                               headers={"Authorization": f"Bearer {staff.tokens['archivist']}"})
    recorder.select_events = real_select
    assert response.status_code == 503
    assert response.json()["type"].endswith("/outcome-unknown")
    assert "could not be found out" in response.json()["detail"]


def test_nothing_stored_is_answered_503_nothing_was_stored(
    runtime: Runtime, staff: Staff, recorder: Any
) -> None:
    record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 1, 5, 15)))

    def insert(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("could not connect")

    recorder.insert_events = insert
    app = create_app(runtime=runtime)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(f"/api/v1/records/{record_id}/holds", json={"reason": "x"},
                               headers={"Authorization": f"Bearer {staff.tokens['archivist']}"})
    assert response.status_code == 503
    assert "nothing was stored" in response.json()["detail"]
    assert hold_count(runtime, record_id) == 0
