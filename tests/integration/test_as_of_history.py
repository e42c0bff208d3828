"""As-of answers from indexed history give what a replay of the whole log gives: the
copies at every place at every moment of the story (holdings, shelf list), and a
record's custody replayed from its own events only."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from application.as_of import ViewsAsOf
from infrastructure.bootstrap import Runtime
from infrastructure.bundle import bundle_dict, verify_bundle
from tests.scenario import run_story

PLACES = (None, "holmes", "kvistberg", "fryken")
FIELDS = ("id", "record_id", "purpose", "status", "school_id", "holder", "location",
          "verification", "transferred_from")


def moments(rt: Runtime) -> list[dt.datetime]:
    """Every event's time, and a microsecond before and after it."""
    times = sorted({item.event.timestamp for item in rt.queries.feed.read(0, 100_000)})
    step = dt.timedelta(microseconds=1)
    return sorted({t + d for t in times for d in (-step, dt.timedelta(0), step)})


def shape(copies: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(json.dumps(c.get(f), sort_keys=True) for f in FIELDS) for c in copies)


def test_copies_by_place_as_of_every_moment_match_a_replay(runtime: Runtime) -> None:
    run_story(runtime)
    runtime.queries.fresh()
    checked = 0
    for instant in moments(runtime)[::3] + moments(runtime)[1::7]:
        replayed = runtime.queries.replay(instant)
        indexed = ViewsAsOf(runtime.views, instant)
        for place in PLACES:
            assert shape(indexed.find("copies", school_id=place)) == shape(
                replayed.find("copies", school_id=place)), (instant, place)
            checked += 1
    assert checked > 40


def test_holdings_and_shelf_list_as_of_read_no_log(runtime: Runtime) -> None:
    story = run_story(runtime)
    runtime.queries.fresh()
    instant = max(moments(runtime))
    auditor = story.staff.auditor

    def no_replay(*_: Any, **__: Any) -> Any:
        raise AssertionError("an as-of report replayed the log")

    runtime.queries.replay = no_replay  # type: ignore[method-assign]
    now_holdings = runtime.queries.holdings(auditor, "holmes")
    then_holdings = runtime.queries.holdings(auditor, "holmes", instant)
    assert then_holdings == now_holdings
    assert runtime.queries.shelf_list(auditor, instant) == runtime.queries.shelf_list(auditor)


def test_a_record_as_of_reads_only_its_own_events(runtime: Runtime) -> None:
    story = run_story(runtime)
    runtime.queries.fresh()
    record_id = story.records["Anna Holm"]
    reads: list[int] = []
    feed_read = runtime.queries.feed.read

    def counting_read(after: int, limit: int) -> Any:
        reads.append(after)
        return feed_read(after, limit)

    runtime.queries.feed.read = counting_read  # type: ignore[method-assign]
    now = runtime.queries.record(story.staff.auditor, record_id)
    later = runtime.queries.record_as_of(story.staff.auditor, record_id,
                                         dt.datetime.now(dt.UTC))
    assert reads == []
    assert later is not None and later["status"] == now["status"]
    assert later["copies"] == now["copies"]


def test_a_bundle_written_before_copy_states_existed_still_verifies(
    runtime: Runtime, tmp_path: Path
) -> None:
    run_story(runtime)
    bundle = bundle_dict(runtime)
    assert bundle["views"]["copy_states"]  # exported like every view
    del bundle["views"]["copy_states"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(bundle))
    vkeys = [k.vkey for k in runtime.keyring.all()]
    report = verify_bundle(path, trusted_keys=vkeys, workers=1)
    assert report.faults == []
    assert any("'copy_states' not in the bundle" in note for note in report.notes)
