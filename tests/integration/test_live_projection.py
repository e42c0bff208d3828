"""The views follow the log in the background: on PostgreSQL through the library's own
``ProjectionRunner`` (a subscription by LISTEN/NOTIFY), on SQLite by polling. Each event
is applied exactly once even while queries catch the views up at the same time, and a
forged event stops the follower for good."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from uuid import UUID

import pytest
from eventsourcing.projection import ProjectionRunner as LibraryProjectionRunner

from application.follower import Follower
from application.projections import ProjectionStoppedError
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.live_projection import LiveProjection
from infrastructure.signed_events import Envelope
from tests.factories import pnr, student
from tests.integration.tamper import Tamperer
from tests.integration.test_projections import digests
from tests.scenario import run_story


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def assert_each_event_applied_once(rt: Runtime) -> None:
    """Every record's document lists the seq of each of its events exactly once."""
    for doc in rt.views.all("records"):
        stored = rt.custody.recorder.select_events(UUID(doc["id"]))
        assert len(doc["seqs"]) == len(set(doc["seqs"])) == len(stored), doc["id"]
        assert doc["seqs"] == sorted(doc["seqs"])


def test_the_background_follower_is_the_library_runner_on_postgres_and_polls_on_sqlite(
    runtime: Runtime, backend: str
) -> None:
    follower = runtime.runner._follower
    if backend == "postgres":
        assert isinstance(follower, LiveProjection)
    else:
        assert isinstance(follower, Follower)
    runtime.runner.start()
    try:
        if backend == "postgres":
            wait_until(lambda: isinstance(follower, LiveProjection) and follower.running)
            assert isinstance(follower._current, LibraryProjectionRunner)
        run_story(runtime)  # commands only: nothing here reads the views
        last = runtime.custody.recorder.max_notification_id()
        wait_until(lambda: runtime.views.position() == last)
    finally:
        runtime.runner.stop()
    if backend == "postgres":
        assert runtime.runner.live_applied > 0  # one by one, from the subscription
    assert runtime.runner.error is None
    assert_each_event_applied_once(runtime)
    followed = digests(runtime)
    runtime.runner.rebuild()
    assert digests(runtime) == followed


def test_queries_catching_up_while_the_follower_runs_apply_nothing_twice(
    runtime: Runtime
) -> None:
    runtime.runner.start()
    done = threading.Event()
    errors: list[BaseException] = []

    def reader() -> None:
        while not done.is_set():
            try:
                runtime.queries.fresh()  # read-your-writes: pages, racing the follower
            except BaseException as error:
                errors.append(error)
                return

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        run_story(runtime)
        last = runtime.custody.recorder.max_notification_id()
        wait_until(lambda: runtime.views.position() == last)
    finally:
        done.set()
        for thread in readers:
            thread.join()
        runtime.runner.stop()
    assert errors == []
    assert runtime.runner.error is None
    assert_each_event_applied_once(runtime)
    raced = digests(runtime)
    runtime.runner.rebuild()
    assert digests(runtime) == raced


def test_the_follower_resumes_where_the_views_stopped(runtime: Runtime, backend: str
                                                      ) -> None:
    story = run_story(runtime)
    runtime.queries.fresh()
    expected = digests(runtime)
    runtime.views.reset()
    runtime.runner.batch_size = 5
    runtime.runner.catch_up(upto=40)  # as if the service had stopped at seq 40
    assert runtime.views.position() == 40
    runtime.runner.start()
    try:
        last = runtime.custody.recorder.max_notification_id()
        wait_until(lambda: runtime.views.position() == last)
        # And a new event after the restart arrives without anyone asking for it.
        runtime.custody.place_hold(story.staff.archivist, story.records["Anna Holm"],
                                   reason="Tillsynsärende")
        wait_until(lambda: runtime.views.position() == last + 1)
    finally:
        runtime.runner.stop()
    assert runtime.runner.error is None
    assert_each_event_applied_once(runtime)
    assert digests(runtime) != expected  # the hold is in the views now
    assert runtime.views.get("records", str(story.records["Anna Holm"]))["holds"]


def test_a_forged_event_stops_the_follower_for_good_naming_it(runtime: Runtime) -> None:
    story = run_story(runtime)
    runtime.queries.fresh()
    runtime.views.reset()
    anna = story.records["Anna Holm"]
    Tamperer(runtime).flip_byte(anna, 2)
    follower = runtime.runner._follower
    if isinstance(follower, LiveProjection):
        follower.catch_up_first = False  # the library's subscription meets it itself
    runtime.runner.start()
    try:
        wait_until(lambda: runtime.runner.error is not None)
    finally:
        runtime.runner.stop()
    assert f"record={anna.hex} version=2" in (runtime.runner.error or "")
    assert "projection stopped" in (runtime.runner.error or "")
    stuck_at = runtime.views.position()
    assert stuck_at < runtime.custody.recorder.max_notification_id()
    # Nothing at or after the forged event was applied.
    forged_seq = next(n.id for n in runtime.custody.recorder.select_notifications(
        0, 10_000) if n.originator_id == anna and n.originator_version == 2)
    assert stuck_at < forged_seq
    if isinstance(follower, LiveProjection):
        assert runtime.runner.live_applied > 0  # up to it, one by one from the subscription
        assert follower.starts == 1  # and not restarted: a forgery is not a passing fault


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_database_error_restarts_the_library_runner(runtime: Runtime) -> None:
    follower = runtime.runner._follower
    assert isinstance(follower, LiveProjection)
    original = runtime.runner.apply_live
    failures = {"left": 1}

    def flaky(item):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("the database went away")
        original(item)

    runtime.runner.apply_live = flaky  # type: ignore[method-assign]
    runtime.runner.start()
    try:
        wait_until(lambda: follower.running)
        run_story(runtime)
        last = runtime.custody.recorder.max_notification_id()
        wait_until(lambda: runtime.views.position() == last)
    finally:
        runtime.runner.stop()
    assert follower.starts >= 2
    assert runtime.runner.error is None
    assert_each_event_applied_once(runtime)


@pytest.mark.parametrize("header", ["0 -1", "0 4294967296", "5 3", "+0 2", "0 1_0"])
def test_a_batch_header_out_of_range_stops_the_views_as_a_forgery(
    runtime: Runtime, header: str
) -> None:
    story = run_story(runtime)
    runtime.queries.fresh()
    anna = story.records["Anna Holm"]
    tamperer = Tamperer(runtime)
    topic, state = tamperer.row(anna, 2)
    env = Envelope.parse(state)
    forged = (f"CSB1 {env.kid} {env.prev} {header} {'00' * 32} - ".encode()
              + base64.b64encode(env.signature) + b"\n" + env.payload)
    tamperer.set_row(anna, 2, topic, forged)
    runtime.views.reset()
    with pytest.raises(ProjectionStoppedError, match=f"record={anna.hex} version=2: "
                                                     "malformed envelope"):
        runtime.runner.catch_up()
    assert runtime.runner.error is not None  # for good: not retried as a passing fault


def test_a_rebuild_racing_an_apply_in_another_process_keeps_no_stale_rows(
    runtime: Runtime
) -> None:
    other = bootstrap(runtime.settings)  # `custody projections rebuild` elsewhere
    try:
        story = run_story(runtime)
        runtime.queries.fresh()
        runtime.custody.place_hold(story.staff.archivist, story.records["Anna Holm"],
                                   reason="Revision")
        runtime.custody.capture_student(story.staff.archivist,
                                        student(pnr(2006, 6, 6, 666), "Ny Elev", "holmes"))
        inside, go = threading.Event(), threading.Event()
        original = runtime.runner._apply_all

        def paused(w, items):  # type: ignore[no-untyped-def]
            original(w, items)  # staged, the position already moved: not yet committed
            inside.set()
            go.wait(10)

        runtime.runner._apply_all = paused  # type: ignore[method-assign]
        applying = threading.Thread(target=runtime.runner.catch_up)
        applying.start()
        assert inside.wait(10)
        resetting = threading.Thread(target=other.views.reset)
        resetting.start()
        time.sleep(0.5)  # the reset waits for the apply's transaction
        go.set()
        applying.join(10)
        resetting.join(10)
        assert other.views.position() == 0
        assert other.views.all("heads") == []  # nothing the apply wrote survived the reset
        other.runner.catch_up()  # the rebuild replays without a false "chain broken"
        assert other.runner.error is None
        assert_each_event_applied_once(other)
    finally:
        other.close()
