"""What the application needs from infrastructure, as protocols."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper, Transcoder


class IntegrityViolationError(Exception):
    """A stored event failed its signature or chain check: never skipped, never retried."""


class CommitOutcomeUnknownError(Exception):
    """The database connection was lost while a write was committing, and whether it was
    stored could not be found out either: the caller must look before trying again."""


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


class AgreementGate(Protocol):
    """Serialises captures against the archive agreement's termination: captures share
    the gate, a termination holds it alone, so the agreement never ends with a student
    captured after its readiness was computed."""

    def capturing(self) -> AbstractContextManager[None]: ...
    def terminating(self) -> AbstractContextManager[None]: ...


class LocalAgreementGate:
    """The gate within one process (a readers-writer lock): the default when the store
    gives none."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._captures = 0
        self._terminating = False

    @contextmanager
    def capturing(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._terminating)
            self._captures += 1
        try:
            yield
        finally:
            with self._cond:
                self._captures -= 1
                self._cond.notify_all()

    @contextmanager
    def terminating(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._terminating)
            self._terminating = True
            self._cond.wait_for(lambda: self._captures == 0)
        try:
            yield
        finally:
            with self._cond:
                self._terminating = False
                self._cond.notify_all()


class SearchIndex(Protocol):
    """Keyed lookups by personal data for the records search: the personnummer's record id
    and a name token's index entry (HMACs under the master key, never the plain text)."""

    def student_record_id(self, normalized_personnummer: str) -> UUID: ...
    def name_token_key(self, token: str) -> str: ...


class StoredIds(Protocol):
    """Which of the given aggregate ids have events in the recorder's store, reading
    the ids alone (an index scan), never the events' rows."""

    def __call__(self, recorder: AggregateRecorder, ids: Sequence[UUID]) -> set[UUID]: ...


@dataclass(frozen=True)
class StorePorts:
    """How the event store is built: the signing mapper and the chained event store."""

    mapper: Callable[[Transcoder], Mapper[UUID]]
    event_store: Callable[[Mapper[UUID], AggregateRecorder], EventStore[UUID]]
    key_vault: KeyVault
    blind_index: BlindIndex
    agreement_gate: AgreementGate = field(default_factory=LocalAgreementGate)
    token_index: TokenIndex | None = None
    clock: Clock | None = None
    stored_ids: StoredIds | None = None


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
    def page(self, view: str, after: str, limit: int, **where: str | None) -> list[Doc]:
        """At most ``limit`` documents of ``view`` whose key sorts after ``after``, in key
        order (the store's own order), filtered like :meth:`find`."""
    def find_joined(self, view: str, joined: str, on: str,
                    keep: Callable[[Doc], bool] | None = None,
                    **where: str | None) -> list[tuple[Doc, Doc | None]]:
        """The documents of ``view`` found like :meth:`find` (those ``keep`` accepts), in
        key order, each beside the document of ``joined`` whose key is its field ``on``
        (``None`` if there is none): e.g. copies with their records, in one query."""
    def progress_counts(self) -> dict[str, dict[str, int]]:
        """:func:`application.progress.count_progress` of the records and copies, per
        school unit (a SQL store counts in the database)."""
    def readiness_counts(self) -> Doc:
        """:func:`application.readiness.count_readiness` of the records and copies (a SQL
        store counts in the database and reads only the students still missing)."""
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
    def own_events(self, record_id: UUID, seqs: Sequence[int]) -> list[FeedItem]:
        """The record's events, each checked, as feed items (``seqs``: the log position
        of each version, from the views); raises on a forged one."""


class TransparencyLogError(RuntimeError):
    """The transparency log cannot answer (unknown seq, a size beyond the tree...): the
    API answers 404. Raised by the log's implementation, caught by the outer layer."""


class PublicKeyListing(Protocol):
    """One signing key as the audit page lists it."""

    def as_dict(self) -> dict[str, object]: ...


class KeyringReader(Protocol):
    """What the outer layer asks of the keyring: the public keys, for auditors."""

    def all(self) -> Sequence[PublicKeyListing]: ...


class SignInSettings(Protocol):
    """What the sign-in pages need to know of the configuration."""

    @property
    def uses_oidc(self) -> bool: ...
    @property
    def public_url(self) -> str | None: ...


class StoreExports(Protocol):
    """What the outer layer asks of the composed service beyond the use cases: the export
    bundle, a culling certificate's signed text, and a verification of the live store.
    The composition root's runtime implements it; routes reach it without importing
    infrastructure."""

    def export_bundle(self) -> bytes: ...
    def certificate_text(self, certificate_id: UUID) -> str: ...
    def verify(self, *, workers: int | None = None) -> Any: ...
    def export_sip(self, school_year: int | None = None,
                   culling_list: UUID | None = None) -> bytes:
        """An E-ARK SIP (zip) of the store, of one school year's closing, or of one
        culling list and everything it touches."""
        ...
    def culling_protocol(self, list_id: UUID) -> dict[str, Any]:
        """The signed culling protocol of an executed list (RFC 8785 JSON document)."""
        ...


class Clock(Protocol):
    """The time now (UTC, aware): injected so tests of expiry and timeouts need no sleep."""

    def now(self) -> datetime: ...


@dataclass(frozen=True)
class TokenEntry:
    """Where a bearer token's hash leads: its staff member and which of their tokens."""

    actor_id: UUID
    token_id: UUID


class TokenIndex(Protocol):
    """Token hashes to staff members. Only a lookup: whether a token is valid is decided
    by the staff member's events (issued, withdrawn, revoked), so a row written for a
    save that failed leads nowhere."""

    def add(self, token_sha256: str, entry: TokenEntry) -> None: ...
    def find(self, token_sha256: str) -> TokenEntry | None: ...


@dataclass(frozen=True)
class WebSession:
    actor_id: UUID
    created_at: datetime
    last_used_at: datetime


class SessionStore(Protocol):
    """Server-side web sessions, keyed by the SHA-256 of the cookie's random id."""

    def create(self, id_sha256: str, session: WebSession) -> None: ...
    def get(self, id_sha256: str) -> WebSession | None: ...
    def touch(self, id_sha256: str, at: datetime) -> None: ...
    def delete(self, id_sha256: str) -> None: ...
    def delete_for_actor(self, actor_id: UUID) -> int: ...


@dataclass(frozen=True)
class SignInStart:
    """Where to send the browser, and what to keep until it comes back."""

    url: str
    state: str
    nonce: str
    verifier: str
    """The PKCE code verifier (its S256 challenge went to the provider)."""


class IdentityProvider(Protocol):
    """The municipality's OpenID provider (authorization code flow with PKCE)."""

    def begin(self, redirect_uri: str) -> SignInStart: ...
    def finish(self, code: str, redirect_uri: str, verifier: str,
               nonce: str) -> dict[str, Any]:
        """The ID token's claims, its signature and claims (``iss``, ``aud``, ``exp``,
        ``nonce``) checked; else ``NotAuthenticatedError``."""
        ...


@dataclass(frozen=True)
class StoredAnswer:
    """What an ``Idempotency-Key`` was first answered with (``status`` None: the first
    request has not finished, or its process died before it could say)."""

    fingerprint: str
    status: int | None
    content_type: str
    body: bytes
    age_seconds: float


class IdempotencyStore(Protocol):
    """The first answer to each (actor, Idempotency-Key), kept for ``ttl_seconds``."""

    ttl_seconds: float

    def claim(self, actor: str, key: str, fingerprint: str) -> StoredAnswer | None:
        """Claim the key for a request now starting (None), or what is stored for it."""
    def complete(self, actor: str, key: str, status: int, content_type: str,
                 body: bytes) -> None: ...
    def release(self, actor: str, key: str) -> None:
        """Forget a claim whose request stored nothing (a 503), so a retry runs again."""


class TransparencyLogReader(Protocol):
    """What the outer layer asks of the transparency log: checkpoints and proofs."""

    def size(self) -> int: ...
    def seal(self) -> int: ...
    def seal_and_checkpoint(self) -> str | None: ...
    def latest_checkpoint(self) -> str | None: ...
    def inclusion(self, seq: int, tree_size: int | None = None) -> Doc: ...
    def consistency(self, first: int, second: int) -> Doc: ...
    def proof_text(self, seq: int) -> str: ...
