"""Pages of the log checked and decoded in worker processes: the same views as in the
process, a forged event refused exactly as there, and a killed worker fails loudly."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from application.ports import FeedItem
from application.projections import VIEWS, ProjectionStoppedError, view_digest
from infrastructure.bootstrap import Runtime
from infrastructure.feed import SignedEventFeed
from infrastructure.signed_events import forget_verified
from tests.factories import pnr, student
from tests.integration.tamper import Tamperer
from tests.scenario import run_story

# The polls of a story are reads of personal data: the "access" view grows with them.
CUSTODY_VIEWS = [view for view in VIEWS if view != "access"]


def _write(rt: Runtime, students: int = 30) -> None:
    """The story (culls and shredded keys included), then one save per command."""
    story = run_story(rt)
    arch = story.staff.archivist
    for n in range(students):
        record_id = rt.custody.capture_student(
            arch, student(pnr(2003, 1 + n % 12, 1 + n % 28, 300 + n), f"Elev {n}"))
        copy_id = rt.custody.print_copy(arch, record_id, "archive", None)
        rt.custody.archive_copy(arch, record_id, copy_id, box=f"W{n:03d}", shelf="2")


@pytest.fixture
def process_feed(runtime: Runtime) -> Iterator[SignedEventFeed]:
    feed = SignedEventFeed(runtime.custody.recorder, runtime.runner.feed.mapper,  # type: ignore[attr-defined]
                           workers=2, pool="process")
    yield feed
    feed.close()


def _digests(rt: Runtime) -> dict[str, str]:
    return {view: view_digest(rt.views, view) for view in CUSTODY_VIEWS}


def test_a_rebuild_in_worker_processes_gives_the_same_views(
        runtime: Runtime, process_feed: SignedEventFeed) -> None:
    _write(runtime)
    runtime.runner.batch_size = 100
    forget_verified(runtime.keyring)
    runtime.runner.rebuild()
    in_process = _digests(runtime)
    assert runtime.runner.feed.processes is None  # type: ignore[attr-defined]

    runtime.runner.feed = process_feed
    position = runtime.runner.rebuild()
    assert position == runtime.custody.recorder.max_notification_id()
    assert process_feed.processes is not None
    assert process_feed.processes.pages >= 2  # the work really went to the workers
    assert _digests(runtime) == in_process
    # Shredded personal data stays unreadable; other personal data is opened.
    records = runtime.views.all("records")
    assert any((doc.get("personal") or {}).get("name") == "Elev 7" for doc in records)
    assert any(doc.get("personal") is None for doc in records)


def test_the_events_a_worker_opens_are_those_opened_in_the_process(
        runtime: Runtime, process_feed: SignedEventFeed) -> None:
    _write(runtime, students=10)
    in_process = runtime.runner.feed.read(0, 500)
    forget_verified(runtime.keyring)
    no_pool = SignedEventFeed(runtime.custody.recorder, process_feed.mapper, workers=0,
                              pool="process")
    assert no_pool.processes is None  # 0 or 1 worker: everything in the process
    alone = no_pool.read(0, 500)
    vault, reads = runtime.vault, 0
    plain_reading = vault._db.reading

    @contextmanager
    def counted() -> Iterator[Any]:
        nonlocal reads
        reads += 1
        with plain_reading() as cur:
            yield cur

    vault._cache.clear()
    vault._db.reading = counted  # type: ignore[method-assign]
    try:
        by_workers = process_feed.read(0, 500)
    finally:
        vault._db.reading = plain_reading  # type: ignore[method-assign]
    assert reads == 1  # the page's data keys in one query, opened in the parent
    assert len(by_workers) == len(in_process) >= 64
    assert process_feed.processes is not None and process_feed.processes.pages == 1

    def seen(items: list[FeedItem]) -> list[tuple[object, ...]]:
        return [(i.seq, i.prev, i.event_hash, type(i.event), vars(i.event)) for i in items]

    assert seen(by_workers) == seen(in_process) == seen(alone)


def test_a_forged_event_found_by_a_worker_stops_the_runner_as_in_the_process(
        runtime: Runtime, process_feed: SignedEventFeed) -> None:
    _write(runtime, students=10)
    story_record = runtime.views.find("records", status="captured")[3]["id"]
    from uuid import UUID

    Tamperer(runtime).flip_byte(UUID(story_record), 1)
    forget_verified(runtime.keyring)
    with pytest.raises(ProjectionStoppedError) as in_process:
        runtime.runner.rebuild()
    runtime.runner.error = None

    runtime.runner.feed = process_feed
    with pytest.raises(ProjectionStoppedError) as by_workers:
        runtime.runner.rebuild()
    assert process_feed.processes is not None
    assert str(by_workers.value) == str(in_process.value)
    assert f"record={UUID(story_record).hex}" in str(by_workers.value)
    assert runtime.runner.error == str(by_workers.value)


def test_a_killed_worker_stops_the_runner_loudly_and_skips_nothing(
        runtime: Runtime, process_feed: SignedEventFeed) -> None:
    _write(runtime)
    runtime.runner.batch_size = 100
    process_feed.read(0, 100)  # starts the workers
    assert process_feed.processes is not None
    pids = process_feed.processes.pids()
    assert len(pids) == 2
    runtime.runner.feed = process_feed
    runtime.runner.stop()
    runtime.views.reset()
    os.kill(pids[0], signal.SIGKILL)
    time.sleep(0.2)
    with pytest.raises(ProjectionStoppedError, match="feed worker process died"):
        runtime.runner.catch_up()
    assert runtime.views.position() == 0  # the page nobody checked was not applied
    assert "feed worker process died" in (runtime.runner.error or "")
    with pytest.raises(ProjectionStoppedError):  # and it stays stopped
        runtime.runner.catch_up()
    # /healthz reports it
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        health = client.get("/healthz")
    assert health.status_code == 503
    assert "feed worker process died" in health.text
