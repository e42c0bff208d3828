"""Recording reads of personal data (loggning av åtkomst), durably and cheaply.

Every read of a student's personal data goes through :meth:`AccessRecorder.record`,
which returns only once the entry is stored: a read is never answered before its trace
is durable. Entries of concurrent reads are committed together (group commit): the
first caller to find no flush in progress stores every entry waiting at that moment as
one ``AccessLog.Recorded`` event — one save, one signature — and the others wait for it.
So under load the cost of logging a read shrinks to a share of one save.

Each process writes its own :class:`domain.privacy.AccessLog` aggregate (a slice of the
log), so writers of different processes never contend; a slice is closed after
``slice_entries`` entries and a new one opened.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from uuid import uuid4

from domain.privacy import AccessEntry, AccessLog

WRITER = "system:access-log"


@dataclass
class _Ticket:
    entry: AccessEntry
    done: bool = False
    error: BaseException | None = None
    batch: list[_Ticket] = field(default_factory=list)


class AccessRecorder:
    def __init__(self, commit: Callable[[AccessLog], int | None], *,
                 slice_entries: int = 50_000, max_batch: int = 1000) -> None:
        self._commit = commit
        self._slice_entries = slice_entries
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Ticket] = []
        self._flushing = False
        self._log: AccessLog | None = None
        self.flushes = 0
        self.entries = 0
        self._own: deque[int] = deque(maxlen=4096)
        self._own_set: set[int] = set()

    def record(self, *, actor: str, action: str, route: str, outcome: str,
               record_ids: Iterable[str]) -> None:
        entry: AccessEntry = {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            "actor": actor, "action": action, "route": route or "application",
            "outcome": outcome, "record_ids": sorted({str(r) for r in record_ids}),
        }
        ticket = _Ticket(entry)
        with self._cond:
            self._pending.append(ticket)
            while not ticket.done:
                if self._flushing:
                    self._cond.wait()
                    continue
                self._flushing = True
                batch, self._pending = (self._pending[:self._max_batch],
                                        self._pending[self._max_batch:])
                self._cond.release()
                try:
                    error = self._flush([t.entry for t in batch])
                finally:
                    self._cond.acquire()
                    self._flushing = False
                for t in batch:
                    t.done, t.error = True, error
                self._cond.notify_all()
        if ticket.error is not None:
            raise ticket.error

    def _flush(self, entries: list[AccessEntry]) -> BaseException | None:
        try:
            log = self._log
            if log is None or log.entries >= self._slice_entries:
                log = AccessLog.open(uuid4(), opened_at=entries[0]["at"], actor=WRITER)
            log.record(entries, actor=WRITER)
            events = len(log.pending_events)
            last = self._commit(log)
        except BaseException as error:  # handed to every reader waiting on this batch
            self._log = None  # its unsaved events are gone; the next flush opens a new slice
            return error
        self._log = log
        self.flushes += 1
        self.entries += len(entries)
        if last is not None:
            # One save's events get consecutive positions (the store serialises inserts).
            with self._cond:
                for seq in range(last - events + 1, last + 1):
                    if len(self._own) == self._own.maxlen:
                        self._own_set.discard(self._own[0])
                    self._own.append(seq)
                    self._own_set.add(seq)
        return None

    def settled(self, last_seq: int) -> int:
        """``last_seq`` less this recorder's own entries at the end of the log: a read
        need not wait for the views to project the log of earlier reads (the follower
        does that in the background); only the access-log queries wait for it."""
        with self._cond:
            while last_seq in self._own_set:
                last_seq -= 1
        return last_seq
