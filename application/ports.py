"""What the application needs from infrastructure, as protocols."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper, Transcoder


class IntegrityViolationError(Exception):
    """A stored event failed its signature or chain check: never skipped, never retried."""


class ViewPositionMovedError(Exception):
    """Another runner moved the views first; the batch was rolled back, nothing is lost."""


class KeyVault(Protocol):
    """Per-subject data keys: made before use, destroyed by a cull (crypto-shredding)."""

    def new_subject(self) -> UUID: ...
    def new_subjects(self, count: int) -> list[UUID]: ...
    def destroy(self, subject: UUID) -> bool: ...
    def is_destroyed(self, subject: UUID) -> bool: ...


class BlindIndex(Protocol):
    """Keyed ids for lookups by personal data, and keyed commitments to culled content."""

    def student_record_id(self, normalized_personnummer: str) -> UUID: ...
    def commitment(self, content: bytes) -> str: ...


@dataclass(frozen=True)
class StorePorts:
    """How the event store is built: the signing mapper and the chained event store."""

    mapper: Callable[[Transcoder], Mapper[UUID]]
    event_store: Callable[[Mapper[UUID], AggregateRecorder], EventStore[UUID]]
    key_vault: KeyVault
    blind_index: BlindIndex
    extras: dict[str, Any] | None = None


@dataclass(frozen=True)
class FeedItem:
    """One stored event as the projections see it: verified, with its place in the log."""

    seq: int
    event: Any
    prev: str
    event_hash: str


class EventFeed(Protocol):
    """The application's events in ``seq`` order, each signature-checked on the way out."""

    def read(self, after: int, limit: int) -> list[FeedItem]: ...
    def last_seq(self) -> int: ...


Doc = dict[str, Any]


class LogFollower(Protocol):
    """What keeps the views following the log in the background: started and stopped
    with the service, woken after each commit (``notify`` may do nothing when the
    follower learns of new events by itself)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def notify(self) -> None: ...


class ViewWriter(Protocol):
    def get(self, view: str, key: str) -> Doc | None: ...
    def put(self, view: str, key: str, doc: Doc, *, owned: bool = False) -> None:
        """Stage ``doc`` (a copy of it: the caller may go on changing its own). With
        ``owned``, ``doc`` is a new dict of plain JSON values handed over as it is."""


class ViewStore(Protocol):
    """Read models with their tracking position, changed together in one transaction."""

    def position(self) -> int: ...
    def apply(self, expected_position: int, new_position: int,
              change: Callable[[ViewWriter], None], hints: Sequence[str] = ()) -> None:
        """``hints``: document keys the change will probably read (fetched in one go)."""
    def get(self, view: str, key: str) -> Doc | None: ...
    def get_many(self, view: str, keys: Sequence[str]) -> list[Doc]:
        """The documents of ``view`` under ``keys``, in that order, missing ones left
        out (one query)."""
    def find(self, view: str, **where: str | None) -> list[Doc]: ...
    def all(self, view: str) -> list[Doc]: ...
    def reset(self) -> None: ...


@dataclass(frozen=True)
class HistoryEntry:
    """One stored event of a record as an auditor sees it."""

    version: int
    topic: str
    key_id: str
    signature_valid: bool
    problem: str | None
    event: Any | None


class EventHistory(Protocol):
    def history(self, record_id: UUID) -> list[HistoryEntry]: ...


class TransparencyLogError(RuntimeError):
    """The transparency log cannot answer (unknown seq, a size beyond the tree...): the
    API answers 404. Raised by the log's implementation, caught by the outer layer."""


class StoreExports(Protocol):
    """What the outer layer asks of the composed service beyond the use cases: the export
    bundle, a culling certificate's signed text, and a verification of the live store.
    The composition root's runtime implements it; routes reach it without importing
    infrastructure."""

    def export_bundle(self) -> bytes: ...
    def certificate_text(self, certificate_id: UUID) -> str: ...
    def verify(self, *, workers: int | None = None) -> Any: ...


class TransparencyLogReader(Protocol):
    """What the outer layer asks of the transparency log: checkpoints and proofs."""

    def size(self) -> int: ...
    def seal(self) -> int: ...
    def seal_and_checkpoint(self) -> str | None: ...
    def latest_checkpoint(self) -> str | None: ...
    def inclusion(self, seq: int, tree_size: int | None = None) -> Doc: ...
    def consistency(self, first: int, second: int) -> Doc: ...
    def proof_text(self, seq: int) -> str: ...
