"""The live follower (PostgreSQL) applies what its subscription pulled together in one
transaction, and an event that arrives alone at once, alone."""

from __future__ import annotations

import pytest

from infrastructure.bootstrap import Runtime
from infrastructure.live_projection import LiveBatch, LiveProjection, pulled_already
from tests.integration.test_live_projection import assert_each_event_applied_once, wait_until
from tests.integration.test_projections import digests
from tests.scenario import run_story


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_backlog_is_applied_in_batches_and_a_lone_event_at_once(runtime: Runtime) -> None:
    story = run_story(runtime)
    runtime.queries.fresh()
    runtime.views.reset()  # as if nothing had followed: the whole log is a backlog
    last = runtime.custody.recorder.max_notification_id() or 0
    assert last > 40 and runtime.views.position() == 0
    follower = runtime.runner._follower
    assert isinstance(follower, LiveProjection)
    follower.catch_up_first = False  # the subscription itself meets the backlog
    runtime.runner.start()
    try:
        wait_until(lambda: runtime.views.position() == last)
        assert runtime.runner.live_applied == last  # every event from the subscription
        batches = runtime.runner.live_batches
        assert 1 <= batches <= last // 5, batches  # together, not one transaction each

        runtime.custody.place_hold(story.staff.archivist, story.records["Anna Holm"],
                                   reason="ensam händelse")
        wait_until(lambda: runtime.views.position() == last + 1, timeout=2.0)
        assert runtime.runner.live_batches == batches  # alone, at once
    finally:
        runtime.runner.stop()
    assert runtime.runner.error is None
    assert_each_event_applied_once(runtime)
    followed = digests(runtime)
    runtime.runner.rebuild()
    assert digests(runtime) == followed


class _Runner:
    def __init__(self) -> None:
        self.applied: list[list[int]] = []

    def apply_live_batch(self, items: list[object]) -> None:
        self.applied.append([item.seq for item in items])  # type: ignore[attr-defined]


def test_the_batch_holds_an_event_only_while_more_are_at_hand() -> None:
    from application.ports import FeedItem

    runner = _Runner()
    batch = LiveBatch(runner, limit=3)  # type: ignore[arg-type]
    at_hand = [True, True, True, False, False]  # asked only below the limit
    batch.more = lambda: at_hand.pop(0)
    for seq in range(1, 7):
        batch.add(FeedItem(seq, None, "", ""))
    assert runner.applied == [[1, 2, 3], [4, 5], [6]]
    assert pulled_already(object()) is False  # unknown internals: never hold
