"""On PostgreSQL the views follow the log through the library's own ``ProjectionRunner``.

``eventsourcing.projection.ProjectionRunner`` subscribes to the custody store
(``PostgresSubscription``: LISTEN/NOTIFY, pages of 500) and hands each event, with its
``Tracking`` position, to a ``Projection``; that projection's view is a
``TrackingRecorder`` that writes the view's changes and its position in one
transaction. Here:

- :class:`CheckedLog` is the application the library's runner subscribes to: the same
  events table as :class:`application.service.Custody`, read through a mapper that
  checks each event's signature and decrypts it (``SignedMapper.open``) and gives the
  projection a :class:`FeedItem` (event, seq, chain link). A forged event raises in
  the subscription, which stops the library's runner; :class:`LiveProjection` then
  stops the views for good (``ProjectionRunner.halt``: log line, 503 health).
- :class:`CustodyViewsRecorder` is the tracking recorder: a ``PostgresTrackingRecorder``
  whose position is the views' own (``custody_view_tracking``) and whose writes go
  through :meth:`application.projections.ProjectionRunner.apply_live`, so the projector
  and the compare-and-set are the same code as every other way into the views.
- Events the subscription had pulled together (a burst of commits, a backlog after a
  restart: it reads up to 500 at a time) are applied together, in one transaction
  (:class:`LiveBatch`, :meth:`ProjectionRunner.apply_live_batch`); an event that
  arrives alone is applied alone, at once.
- :class:`LiveProjection` starts and supervises it: it catches the views up in pages
  first (a backlog is faster that way than one transaction per event), then runs the
  library's runner until stopped; a database error restarts it after a second (it
  resumes from the views' position), a failed check stops it for good.

SQLite has no subscription in the library (``subscribe`` raises ``NotImplementedError``):
there the polling follower of :mod:`application.projections` does the same job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, StoredEvent, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.projection import ProjectionRunner as LibraryProjectionRunner

from application.ports import FeedItem, IntegrityViolationError
from application.projections import ProjectionRunner, ProjectionStoppedError
from infrastructure.signed_events import SignedMapper

log = logging.getLogger("custody.projections")

RESTART_DELAY = 1.0
"""Seconds before the library's runner is started again after a database error."""


class LiveBatch:
    """Events delivered by the subscription and not applied yet. An event is held back
    only while the subscription has more events pulled already (``more``); the batch
    is applied when it has none, at ``limit`` events, and before an event that fails
    its checks is reported (so what came before it is applied, as one by one)."""

    def __init__(self, runner: ProjectionRunner, limit: int) -> None:
        self.runner = runner
        self.limit = limit
        self.items: list[FeedItem] = []
        self.more: Callable[[], bool] = lambda: False
        """Whether the subscription has further events at hand (set for each run)."""

    def add(self, item: FeedItem) -> None:
        self.items.append(item)
        if len(self.items) >= self.limit or not self.more():
            self.flush()

    def flush(self) -> None:
        items, self.items = self.items, []
        if items:
            self.runner.apply_live_batch(items)

    def drop(self) -> None:
        """Forget what is held (the run ended): the views' position was not moved for
        it, so the next run reads it again."""
        self.items = []


def pulled_already(subscription: Any) -> bool:
    """Whether the library's ``ListenNotifySubscription`` holds events it has pulled
    from the store but not yet yielded (its current page, or pages queued). Unknown
    internals count as "no": then every event is applied at once, alone."""
    try:
        page = subscription._notifications
        index = subscription._notifications_index
        queued = subscription._notifications_queue
        return bool(index < len(page) or not queued.empty())
    except (AttributeError, TypeError):
        return False


class CheckedEventMapper(Mapper[UUID]):
    """Reads a stored event into a checked :class:`FeedItem` (never writes)."""

    def __init__(self, signed: SignedMapper, batch: LiveBatch | None = None) -> None:
        super().__init__(signed.transcoder)
        self.signed = signed
        self.batch = batch

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        raise TypeError("the projection's view of the log is read-only")

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        try:
            event, checked = self.signed.open(stored_event)  # raises on a forgery
        except Exception:
            if self.batch is not None:
                self.batch.flush()  # the events before it are sound: apply them first
            raise
        seq = int(stored_event.id)  # type: ignore[attr-defined]  # a Notification
        return FeedItem(seq, event, checked.prev, checked.event_hash)


class CheckedLog(Application[UUID]):
    """The custody store as the library's runner reads it: checked, read-only."""

    name = "Custody"
    signed_mapper: ClassVar[SignedMapper]
    live_batch: ClassVar[LiveBatch | None] = None

    def construct_mapper(self) -> Mapper[UUID]:
        return CheckedEventMapper(self.signed_mapper, self.live_batch)


class CustodyViewsRecorder(PostgresTrackingRecorder):
    """The views as the library's tracking recorder: position and changes together."""

    runner: ClassVar[ProjectionRunner]
    live_batch: ClassVar[LiveBatch | None] = None

    def create_table(self) -> None:
        """The view store has created its tables."""

    def max_tracking_id(self, application_name: str) -> int | None:
        return self.runner.live_from() or None

    def insert_tracking(self, tracking: Tracking) -> None:
        raise TypeError("the views' position moves only with their changes (apply_live)")

    def project(self, item: FeedItem, tracking: Tracking) -> None:
        if item.seq != tracking.notification_id:
            raise ProjectionStoppedError(
                f"seq={tracking.notification_id}: the subscription and the event disagree "
                f"on its position ({item.seq})")
        if self.live_batch is None:
            self.runner.apply_live(item)
        else:
            self.live_batch.add(item)


class CustodyViewsProjection(Projection[CustodyViewsRecorder]):
    name = "custody_views"
    topics = ()  # every event: the chain check needs each record's every event

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.project(domain_event, tracking)


class LiveProjection:
    """Runs the library's ``ProjectionRunner`` for the views, restarting it after a
    database error and stopping for good on an event that fails its checks."""

    name = "eventsourcing ProjectionRunner (PostgreSQL LISTEN/NOTIFY)"

    def __init__(self, runner: ProjectionRunner, mapper: SignedMapper,
                 env: dict[str, str]) -> None:
        self.runner = runner
        self.batch = LiveBatch(runner, runner.batch_size)
        self.log_class = type("Custody", (CheckedLog,), {"signed_mapper": mapper,
                                                         "live_batch": self.batch})
        self.view_class = type("CustodyViewsRecorder", (CustodyViewsRecorder,),
                               {"runner": runner, "live_batch": self.batch})
        # The library's runner opens a connection pool for its application (reading
        # the log) and one for its view, which writes through the view store's own
        # pool instead: a small pool and a single connection.
        view = CustodyViewsProjection.name.upper()
        self.env = {**env, "POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "2",
                    f"{view}_POSTGRES_POOL_SIZE": "1", f"{view}_POSTGRES_MAX_OVERFLOW": "0",
                    "CREATE_TABLE": "n"}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._current: LibraryProjectionRunner[Any, Any] | None = None
        self._lock = threading.Lock()
        self.catch_up_first = True
        """Catch the views up in pages before each start (off only in tests that make
        the subscription itself meet an event)."""
        self.starts = 0
        """How many times the library's runner has been started (restarts included)."""

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._supervise, name="projection-live",
                                            daemon=True)
            self._thread.start()

    def notify(self) -> None:
        """Nothing to do: the subscription hears of new events by NOTIFY."""

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            if self._current is not None:
                self._current.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
            if not self._thread.is_alive():  # else a later start() must not run a second
                self._thread = None

    @property
    def running(self) -> bool:
        return self._current is not None

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.catch_up_first:
                    self.runner.catch_up()  # a backlog goes faster in pages
                self._run_once()
            except (IntegrityViolationError, ProjectionStoppedError) as error:
                self.runner.halt(error)
                return
            except Exception:
                log.exception("projection follower: will restart")
                self._stopping.wait(RESTART_DELAY)

    def _run_once(self) -> None:
        self.batch.drop()
        self.batch.more = lambda: False  # until this run's subscription is known
        library_runner: LibraryProjectionRunner[Any, Any] = LibraryProjectionRunner(
            application_class=self.log_class,
            projection_class=CustodyViewsProjection,
            view_class=self.view_class,
            env=self.env,
        )
        # The library's runner keeps its subscription private; without it every event
        # is applied alone (``pulled_already`` answers "no").
        subscription = getattr(getattr(library_runner, "_subscription", None),
                               "subscription", None)
        self.batch.more = lambda: pulled_already(subscription)
        with self._lock:
            self._current = library_runner
            self.starts += 1
        try:
            with library_runner:  # on leaving: stopped, its threads joined, app closed
                if not self._stopping.is_set():
                    library_runner.run_forever()  # until stopped, or raises its error
        finally:
            with self._lock:
                self._current = None
            library_runner.view.datastore.close()
