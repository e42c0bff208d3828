"""Read-your-writes without waiting when there is nothing to wait for.

A read must show what this process has stored (a write, then the page that shows it),
but in a served instance need not wait for the views to catch up with writes made
elsewhere (another instance, the command line): the follower brings those in within
milliseconds. So there a read waits only while the views may not show this process's
newest write:
:class:`PendingWrites` keeps that write's position (from the store's commit listener)
and the position the views were last seen to include. Without a pending write a read
costs no query for freshness at all — no look at the log's end, no catch-up.

The access log written by reads themselves is not a pending write: the next read need
not wait for the log of the previous one (the access-log queries wait for it).

A process that runs no follower (the command line) has nobody else to move the views:
there every read catches up with the whole log (:attr:`PendingWrites.followed`).

May import: the domain, the standard library.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from domain.privacy import AccessLog

_ACCESS_LOG_TOPIC = AccessLog.TOPIC


class PendingWrites:
    """This process's newest write the views may not show yet."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.written = 0
        """The position of this process's newest write (access log excluded)."""
        self.shown = 0
        """The views were seen to include everything up to here."""
        self.waits = 0
        """Reads that waited for a pending write."""
        self.skipped = 0
        """Reads that had nothing to wait for (no query, no catch-up)."""
        self.followed = False
        """Whether a follower keeps the views up with writes made elsewhere (a served
        instance: its own follower, or the leader's). Without one — ``custody`` on the
        command line — nothing else moves the views: every read catches up with the
        whole log, as before."""

    def wrote(self, recordings: Sequence[Any]) -> None:
        """Commit listener: the recordings of one save (library ``Recording`` objects)."""
        newest = max((r.notification.id for r in recordings
                      if not _is_access_log(r.domain_event)), default=0)
        if newest:
            with self._lock:
                self.written = max(self.written, newest)

    def pending(self) -> int | None:
        """The position a read must wait for, or ``None``: nothing pending."""
        with self._lock:
            if self.written <= self.shown:
                self.skipped += 1
                return None
            self.waits += 1
            return self.written

    def shown_upto(self, seq: int) -> None:
        """The views include ``seq`` (a wait for it returned)."""
        with self._lock:
            self.shown = max(self.shown, seq)


def _is_access_log(event: Any) -> bool:
    return str(getattr(type(event), "TOPIC", "")).startswith(_ACCESS_LOG_TOPIC)
