"""Read models derived only from the signed events, and the runner that keeps them.

One projector, one code base for SQLite and PostgreSQL: :meth:`Projector.apply` turns
one verified event into changes of JSON documents in named views; the
:class:`ProjectionRunner` feeds it batches from the log and commits each batch's changes
together with the new position (``ViewStore.apply``), so each event is applied exactly
once even if the runner is killed mid-way or two runners race.

Views (documents keyed by id):
- ``records``: current custody of each record (personal data sealed by the store);
- ``copies``: every physical copy, where it is, who holds it;
- ``requests``: the request log, refusals included;
- ``culls``: the culling register;
- ``actors``, ``schools``; ``departures`` (rollover candidates); ``meta``;
- ``copy_states``: where each copy was and in what state, from when to when (the
  current state under the copy's id, closed ones under ``<copy id>@<seq>``), indexed by
  place (a school unit's code, or ``archive``): holdings and the shelf list as of a
  moment are read from it, not replayed from the log.
- ``access``: the access log, one document per entry and student (``record_id``).
Provenance is read from the event store itself, with ``seq`` numbers kept per record.

Two ways in, one projector and one compare-and-set position for both:
- :meth:`ProjectionRunner.catch_up` reads the log in pages of ``batch_size`` and
  commits each page's changes with its last position: used by read-your-writes (a query
  catches the views up before it reads), by a rebuild, and by the polling follower on
  SQLite (whose recorder offers no subscription);
- :meth:`ProjectionRunner.apply_live` takes one checked event at a time, in log order,
  from a subscription: on PostgreSQL the library's own ``ProjectionRunner`` drives it
  (``infrastructure/live_projection.py``), each event committed with its position.
When both run at once, the compare-and-set decides: what one has applied the other
skips, so each event is applied exactly once.

A forged or broken event stops the runner with a loud error; it is never skipped.

Where each part lives: ``projector.py`` (the projector and its handlers, ``VIEWS``),
``runner.py`` (the runner, batches and live events), ``memory_store.py`` (the views in
memory, for as-of replays), ``errors.py``.
"""

from application.projections.errors import (
    FeedWorkerError,
    ProjectionLagError,
    ProjectionStoppedError,
)
from application.projections.memory_store import MemoryViewStore
from application.projections.projector import VIEWS, Projector
from application.projections.runner import ProjectionRunner, view_digest

__all__ = ["VIEWS", "FeedWorkerError", "MemoryViewStore", "ProjectionLagError",
           "ProjectionRunner", "ProjectionStoppedError", "Projector", "view_digest"]
