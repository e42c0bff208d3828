"""The verified feed opens a page of events with the page's data keys fetched in one
query, and gives exactly what opening each event alone gives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from infrastructure.bootstrap import Runtime
from tests.scenario import run_story


def test_a_page_of_events_fetches_its_data_keys_in_one_query(runtime: Runtime) -> None:
    run_story(runtime)
    feed = runtime.queries.feed
    vault = runtime.vault
    db = vault._db
    reads = 0
    plain_reading = db.reading

    @contextmanager
    def counted() -> Iterator[Any]:
        nonlocal reads
        reads += 1
        with plain_reading() as cur:
            yield cur

    vault._cache.clear()
    db.reading = counted  # type: ignore[method-assign]
    try:
        page = feed.read(0, 500)
    finally:
        db.reading = plain_reading  # type: ignore[method-assign]
    sealed_subjects = {item.event.subject for item in page  # type: ignore[attr-defined]
                       if getattr(item.event, "personal", None) is not None}
    assert len(sealed_subjects) > 5
    assert reads == 1

    # The same events, opened one by one with a cold cache, are equal.
    vault._cache.clear()
    notifications = runtime.custody.recorder.select_notifications(0, 500)
    one_by_one = [feed.mapper.open(n)[0] for n in notifications]
    assert [vars(e) for e in one_by_one] == [vars(item.event) for item in page]
