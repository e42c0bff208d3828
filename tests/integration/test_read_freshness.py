"""Read-your-writes only where there is a write to read: in a served instance (a
follower moves the views) a read waits for (and catches the views up to) this process's
newest write, and costs nothing for freshness when there is none; on the command line
(no follower) every read catches up with the whole log — on both databases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.policy import Principal
from application.projections import ProjectionStoppedError
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.factories import pnr, seed_staff, student


def count_calls(monkeypatch: pytest.MonkeyPatch, rt: Runtime) -> Counter[str]:
    """Counts every look at freshness: waits, catch-ups, and reads of the log's end."""
    calls: Counter[str] = Counter()

    def counted(name: str, target: Any) -> None:
        original: Callable[..., Any] = getattr(target, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(target, name, wrapper)

    counted("wait_for", rt.runner)
    counted("catch_up", rt.runner)
    counted("last_seq", rt.queries.feed)
    return calls


def served(rt: Runtime) -> Runtime:
    """As ``start_background`` marks a served instance (without starting its threads:
    the tests count every catch-up)."""
    rt.queries.pending.followed = True
    return rt


def test_a_read_with_no_pending_write_neither_waits_nor_catches_up(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    served(runtime)
    staff = seed_staff(runtime.custody)
    record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2005, 5, 5, 123)))
    calls = count_calls(monkeypatch, runtime)

    # The first read after the capture waits for it, and shows it.
    assert runtime.queries.record(staff.archivist, record_id)["id"] == str(record_id)
    assert calls["wait_for"] == 1
    waited = runtime.queries.pending.waits

    # Reads after that, with nothing written meanwhile (their own access log aside):
    # no wait, no catch-up, not even a look at the log's end.
    calls.clear()
    for _ in range(5):
        runtime.queries.record(staff.auditor, record_id)
        runtime.queries.schools()
    assert calls == Counter()
    assert runtime.queries.pending.waits == waited

    # A new write is pending again: the next read catches the views up to it.
    runtime.custody.place_hold(staff.archivist, record_id, "freshness check")
    record = runtime.queries.record(staff.archivist, record_id)
    assert calls["wait_for"] == 1
    assert [h["reason"] for h in record["holds"]] == ["freshness check"]


def test_writes_made_elsewhere_do_not_make_reads_here_wait(
        runtime: Runtime, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    served(runtime)
    runtime.custody.register_school(Principal.system(), "holmes", "Holmesskolan")
    assert [s["id"] for s in runtime.queries.schools()] == ["holmes"]
    other = bootstrap(settings)  # another instance (or `custody` on the command line)
    try:
        other.custody.register_school(Principal.system(), "fryken", "Frykenskolan")
    finally:
        other.close()
    calls = count_calls(monkeypatch, runtime)
    runtime.queries.schools()
    assert calls == Counter()
    # The follower (here: the catch-up it runs) brings the other instance's write in.
    runtime.runner.catch_up()
    assert [s["id"] for s in runtime.queries.schools()] == ["fryken", "holmes"]


def test_views_stopped_by_a_failed_check_refuse_reads_even_with_nothing_pending(
        runtime: Runtime) -> None:
    served(runtime)
    runtime.custody.register_school(Principal.system(), "holmes", "Holmesskolan")
    runtime.queries.schools()
    runtime.runner.halt(RuntimeError("a forged event"))
    with pytest.raises(ProjectionStoppedError):
        runtime.queries.schools()


def test_a_get_by_a_caller_who_wrote_nothing_does_not_wait(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    served(runtime)
    _, token = runtime.custody.register_actor(Principal.system(), "Ada", "admin", None)
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(runtime=runtime)) as client:
        created = client.post("/api/v1/schools", json={"id": "holmes", "name": "Holmes"},
                              headers=auth)
        assert created.status_code == 201, created.text
        assert [s["id"] for s in client.get("/api/v1/schools", headers=auth).json()["items"]
                ] == ["holmes"]
        calls = count_calls(monkeypatch, runtime)
        for _ in range(5):
            listed = client.get("/api/v1/schools", headers=auth)
            assert listed.status_code == 200
        assert calls["wait_for"] == 0 and calls["last_seq"] == 0


def test_a_served_instance_is_marked_as_followed(runtime: Runtime) -> None:
    assert not runtime.queries.pending.followed
    runtime.start_background()  # what `custody serve` does
    assert runtime.queries.pending.followed


def test_without_a_follower_every_read_catches_up_with_writes_made_elsewhere(
        runtime: Runtime, settings: Settings) -> None:
    """The command line: ``custody schools add`` in one process, ``schools list`` in
    the next — nothing else moves the views, so the read does."""
    other = bootstrap(settings)
    try:
        other.custody.register_school(Principal.system(), "fryken", "Frykenskolan")
    finally:
        other.close()
    assert not runtime.queries.pending.followed
    assert [s["id"] for s in runtime.queries.schools()] == ["fryken"]
