"""The runner: feeds the projector from the log in batches or one live event at a time,
commits each change with its position (exactly once), stops loudly on forgery.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable

from application.follower import Follower
from application.ports import (
    EventFeed,
    FeedItem,
    IntegrityViolationError,
    LogFollower,
    SearchIndex,
    ViewPositionMovedError,
    ViewStore,
    ViewWriter,
)
from application.projections.errors import (
    FeedWorkerError,
    ProjectionLagError,
    ProjectionStoppedError,
)
from application.projections.projector import Projector

log = logging.getLogger("custody.projections")


def _hints(items: Iterable[FeedItem]) -> list[str]:
    """The ids a batch's events will look up: their aggregates, records and copies."""
    keys: set[str] = set()
    for item in items:
        state = vars(item.event)
        keys.add(str(item.event.originator_id))
        for name in ("record_id", "copy_id", "replaces"):
            value = state.get(name)
            if value is not None:
                keys.add(str(value))
    return sorted(keys)


class ProjectionRunner:
    """Feeds the projector from the log; exactly once per event; stops loudly on forgery."""

    def __init__(self, feed: EventFeed, store: ViewStore, *, batch_size: int = 500,
                 search: SearchIndex | None = None) -> None:
        self.feed = feed
        self.store = store
        self.projector = Projector(search)
        self.batch_size = batch_size
        self.error: str | None = None
        self._lock = threading.RLock()
        self._follower: LogFollower = Follower(
            "polling follower (every 50 ms, and after each commit)",
            lambda: self._catch_up_quietly(), interval=0.05,
            fatal=(ProjectionStoppedError,))
        self._live_previous: int | None = None
        self.live_applied = 0
        """Events applied from a subscription (:meth:`apply_live`, :meth:`apply_live_batch`)."""
        self.live_batches = 0
        """Transactions that applied several such events at once."""
        self.last_lag_seconds: float = 0.0

    @property
    def follower_name(self) -> str:
        """What keeps the views following the log in the background (for /healthz)."""
        return str(getattr(self._follower, "name", type(self._follower).__name__))

    def follow_with(self, follower: LogFollower) -> None:
        """Replace the polling follower (before :meth:`start`), e.g. by a subscription."""
        self._follower = follower

    def catch_up(self, upto: int | None = None,
                 progress: Callable[[int], None] | None = None) -> int:
        """Apply every event not yet projected (up to ``upto``); return the position."""
        with self._lock:
            if self.error:
                raise ProjectionStoppedError(self.error)
            position = self.store.position()
            while upto is None or position < upto:
                try:
                    items = self.feed.read(position, self.batch_size)
                except IntegrityViolationError as error:
                    self._stopped(f"{error}; projection stopped")
                    raise ProjectionStoppedError(self.error) from error
                except FeedWorkerError as error:  # never skip a page nobody checked
                    self._stopped(f"{error}; projection stopped")
                    raise ProjectionStoppedError(self.error) from error
                # Any other error (a lock timeout, a restarted database) propagates and
                # is retried: it says nothing about the events themselves.
                if upto is not None:
                    items = [i for i in items if i.seq <= upto]
                if not items:
                    break
                new_position = items[-1].seq
                def change(w: ViewWriter, batch: list[FeedItem] = items) -> None:
                    self._apply_all(w, batch)

                try:
                    self.store.apply(position, new_position, change, hints=_hints(items))
                except ProjectionStoppedError as error:
                    self._stopped(str(error))
                    raise
                except ViewPositionMovedError:
                    position = self.store.position()  # another runner did this batch
                    continue
                if progress:
                    progress(len(items))
                position = new_position
            return position

    def live_from(self) -> int:
        """Where a subscription starts: after the views' position (which it remembers,
        so that :meth:`apply_live` knows what came before the first event it gets)."""
        with self._lock:
            if self.error:
                raise ProjectionStoppedError(self.error)
            self._live_previous = self.store.position()
            return self._live_previous

    def apply_live(self, item: FeedItem) -> None:
        """Apply one checked event delivered by a subscription that yields every event of
        the log in order, starting after :meth:`live_from`. It commits with its own
        position; an event the views hold already (a query's catch-up got there first)
        is skipped. If the views are behind the event the subscription delivered before
        this one (reset by a rebuild in another process), they are caught up from the
        log instead, so no event in between can be missed."""
        previous, self._live_previous = self._live_previous, item.seq
        with self._lock:
            if self.error:
                raise ProjectionStoppedError(self.error)
            while True:
                position = self.store.position()
                if item.seq <= position:
                    return
                if previous is None or position < previous:
                    self.catch_up(item.seq)
                    return

                def change(w: ViewWriter) -> None:
                    self.projector.apply(w, item)

                try:
                    self.store.apply(position, item.seq, change, hints=_hints([item]))
                except ProjectionStoppedError as error:
                    self._stopped(str(error))
                    raise
                except ViewPositionMovedError:
                    continue  # another runner moved the views: look again
                self.live_applied += 1
                return

    def apply_live_batch(self, items: list[FeedItem]) -> None:
        """:meth:`apply_live` for consecutive events that a subscription delivered
        together (it had pulled them at once: a burst, a backlog): one transaction and
        one compare-and-set for all of them instead of one each. The same checks: events
        the views hold already are skipped, views found behind are caught up from the log."""
        if len(items) <= 1:
            for item in items:
                self.apply_live(item)
            return
        previous, self._live_previous = self._live_previous, items[-1].seq
        with self._lock:
            if self.error:
                raise ProjectionStoppedError(self.error)
            while True:
                position = self.store.position()
                fresh = [item for item in items if item.seq > position]
                if not fresh:
                    return
                if previous is None or position < previous:
                    self.catch_up(items[-1].seq)
                    return

                def change(w: ViewWriter, batch: list[FeedItem] = fresh) -> None:
                    self._apply_all(w, batch)

                try:
                    self.store.apply(position, fresh[-1].seq, change, hints=_hints(fresh))
                except ProjectionStoppedError as error:
                    self._stopped(str(error))
                    raise
                except ViewPositionMovedError:
                    continue  # another runner moved the views: look again
                self.live_applied += len(fresh)
                self.live_batches += 1
                return

    def halt(self, error: BaseException) -> None:
        """A follower met an event that fails its checks: stop for good, loudly."""
        with self._lock:
            if not self.error:
                self._stopped(f"{error}; projection stopped")

    def _catch_up_quietly(self) -> None:
        self.catch_up()

    def _apply_all(self, w: ViewWriter, items: Iterable[FeedItem]) -> None:
        for item in items:
            self.projector.apply(w, item)

    def _stopped(self, message: str) -> None:
        self.error = message
        log.error("projection stopped: %s", message)

    def wait_for(self, seq: int | None, timeout: float) -> None:
        """Read-your-writes: return once the views include ``seq`` (or everything now)."""
        target = seq if seq is not None else self.feed.last_seq()
        deadline = time.monotonic() + timeout
        while self.store.position() < target:
            try:
                self.catch_up(target)
            except ProjectionStoppedError:
                raise
            if self.store.position() >= target:
                return
            if time.monotonic() > deadline:
                raise ProjectionLagError(
                    f"the views have not reached seq {target} after {timeout:.1f}s"
                )
            time.sleep(0.01)

    def lag(self) -> int:
        return max(0, self.feed.last_seq() - self.store.position())

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Replay every event into a fresh set of views. A store that can build beside
        (``beside()``/``take_over()``) is rebuilt in tables of its own and switched in one
        transaction, so readers never see a half-built view; any other is reset and
        replayed in place."""
        beside = getattr(self.store, "beside", None)
        if beside is None:
            with self._lock:
                self.store.reset()
                self.error = None
            return self.catch_up(progress=progress)
        built = beside()
        shadow = ProjectionRunner(self.feed, built, batch_size=self.batch_size)
        try:
            shadow.catch_up(progress=progress)
            with self._lock:
                shadow.catch_up()  # what arrived meanwhile: the switch lags little
                position = int(self.store.take_over(built))  # type: ignore[attr-defined]
                self.error = None
        except ProjectionStoppedError as error:
            with self._lock:
                self._stopped(str(error))
            raise
        return position

    # -- background follower ------------------------------------------------------------

    def notify(self) -> None:
        self._follower.notify()

    def start(self) -> None:
        self._follower.start()

    def stop(self) -> None:
        self._follower.stop()


def view_digest(store: ViewStore, view: str) -> str:
    """A digest of one view's content (decrypted), to compare rebuilds."""
    docs = sorted(store.all(view), key=lambda d: json.dumps(d, sort_keys=True, default=str))
    encoded = json.dumps(docs, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()
