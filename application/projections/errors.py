"""The two ways a projection fails loudly."""

from __future__ import annotations


class ProjectionStoppedError(RuntimeError):
    """The runner met an event it must not project (forged, or out of its chain)."""


class ProjectionLagError(TimeoutError):
    """The views did not reach the caller's last write in time."""


class FeedWorkerError(RuntimeError):
    """A process checking a page of the log for the feed died: the page was not read,
    and the runner stops loudly rather than skip it."""
