"""Signed, hash-chained stored events.

Every stored event's ``state`` is an envelope:

    b"CSE1 " <key id, 8 hex> b" " <previous event hash, 64 hex> b" "
        <base64 signature> b"\\n" <payload>

The Ed25519 signature covers :func:`signing_input`: the record id (32 lowercase hex
digits, whatever the database stores), the version, the topic, the key id, the hash of
the record's previous event and the SHA-256 of the payload bytes, which are stored
exactly as signed. So an event cannot be altered, given another topic, moved to another
record or version, or signed with a key the service never had; and since each event
commits to its predecessor, one deleted, reordered or inserted into a record's chain
is found too. Global order (``seq``) is bound afterwards by the transparency log.

Personal data in an event (its ``personal`` field) is encrypted under its subject's key
before signing, so crypto-shredding leaves every signature intact.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Mapper,
    Recording,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from application.ports import IntegrityViolationError

MAGIC = b"CSE1 "
PARALLEL_SIGNING_FROM = 32
GENESIS = "0" * 64
_HEADER_LEN = len(MAGIC) + 8 + 1 + 64 + 1 + 88 + 1


class TamperedEventError(IntegrityViolationError):
    """A stored event failed its signature or chain check. Never swallowed."""

    def __init__(self, record_id: str, version: int, problem: str, seq: int | None = None):
        self.record_id = record_id
        self.version = version
        self.problem = problem
        self.seq = seq
        where = f"seq={seq} " if seq is not None else ""
        super().__init__(f"{where}record={record_id} version={version}: {problem}")


class Verifier(Protocol):
    def verify(self, kid: str, signature: bytes, message: bytes) -> bool: ...
    def __contains__(self, kid: object) -> bool: ...


class Signer(Verifier, Protocol):
    def sign(self, message: bytes) -> tuple[str, bytes]: ...
    def signer(self) -> tuple[str, Any]: ...


class PersonalDataSealer(Protocol):
    def seal(self, subject: UUID, personal: dict[str, Any]) -> dict[str, str]: ...
    def open(self, subject: UUID, sealed: dict[str, str]) -> dict[str, Any] | None: ...


def canonical_id(originator_id: UUID | str) -> str:
    if isinstance(originator_id, UUID):
        return originator_id.hex
    text = str(originator_id)
    if len(text) == 32 and text == text.lower():  # already canonical (SQLite stores hex)
        return text
    return UUID(text).hex


def signing_input(record_id: str, version: int, topic: str, kid: str, prev: str,
                  payload: bytes) -> bytes:
    return (
        f"records-custody event v1\n{record_id}\n{version}\n{topic}\n{kid}\n{prev}\n"
        f"{hashlib.sha256(payload).hexdigest()}\n"
    ).encode()


@dataclass(frozen=True, slots=True)
class Envelope:
    kid: str
    prev: str
    signature: bytes
    payload: bytes

    @classmethod
    def parse(cls, state: bytes) -> Envelope:
        if not state.startswith(MAGIC) or len(state) < _HEADER_LEN or state[
            _HEADER_LEN - 1
        ] != 0x0A:
            raise ValueError("not a signed event envelope")
        header = state[len(MAGIC) : _HEADER_LEN - 1].decode("ascii")
        kid, prev, sig = header.split(" ")
        return cls(kid, prev, base64.b64decode(sig, validate=True), state[_HEADER_LEN:])

    def encode(self) -> bytes:
        sig = base64.b64encode(self.signature)
        return MAGIC + f"{self.kid} {self.prev} ".encode() + sig + b"\n" + self.payload


@dataclass(frozen=True, slots=True)
class CheckedEvent:
    """What a verifier learns from one stored event."""

    record_id: str
    version: int
    topic: str
    kid: str
    prev: str
    event_hash: str
    problem: str | None


def check_stored_event(
    originator_id: UUID | str, version: int, topic: str, state: bytes, keys: Verifier,
    *, verify_signature: bool = True,
) -> CheckedEvent:
    """Check one stored event's envelope and signature (not its place in the chain)."""
    record_id = canonical_id(originator_id)
    try:
        env = Envelope.parse(bytes(state))
    except ValueError as error:
        return CheckedEvent(record_id, version, topic, "", "", "", f"malformed envelope ({error})")
    message = signing_input(record_id, version, topic, env.kid, env.prev, env.payload)
    event_hash = hashlib.sha256(message).hexdigest()
    problem = None
    if env.kid not in keys:
        problem = f"signed with unknown key {env.kid}"
    elif verify_signature and not keys.verify(env.kid, env.signature, message):
        problem = f"signature does not verify under key {env.kid}"
    return CheckedEvent(record_id, version, topic, env.kid, env.prev, event_hash, problem)


@dataclass(frozen=True, slots=True)
class Prepared:
    originator_id: UUID
    version: int
    topic: str
    kid: str
    prev: str
    payload: bytes
    message: bytes
    event_hash: str

    def stored(self, signature: bytes) -> StoredEvent:
        state = Envelope(self.kid, self.prev, signature, self.payload).encode()
        return StoredEvent(self.originator_id, self.version, self.topic, state)


class SignedMapper(Mapper[UUID]):
    """Maps domain events to signed envelopes and back, checking every signature."""

    def __init__(self, transcoder: Transcoder, signer: Signer, sealer: PersonalDataSealer) -> None:
        super().__init__(transcoder)
        self.signer = signer
        self.sealer = sealer

    def payload(self, domain_event: DomainEventProtocol[UUID]) -> bytes:
        state = dict(vars(domain_event))
        state.pop("originator_id")
        state.pop("originator_version")
        personal = state.get("personal")
        if personal is not None:
            state["personal"] = self.sealer.seal(state["subject"], personal)
        return self.transcoder.encode(state)

    def prepare(self, domain_event: DomainEventProtocol[UUID], prev: str,
                kid: str) -> Prepared:
        """Everything but the signature; the event hash (what the next event and the log
        commit to) is the hash of the signed message, so a batch can be chained first
        and signed afterwards, in parallel."""
        topic = get_topic(type(domain_event))
        record_id = canonical_id(domain_event.originator_id)
        version = domain_event.originator_version
        payload = self.payload(domain_event)
        message = signing_input(record_id, version, topic, kid, prev, payload)
        return Prepared(domain_event.originator_id, version, topic, kid, prev, payload, message,
                        hashlib.sha256(message).hexdigest())

    def seal(self, domain_event: DomainEventProtocol[UUID], prev: str) -> tuple[StoredEvent, str]:
        kid, key = self.signer.signer()
        prepared = self.prepare(domain_event, prev, kid)
        return prepared.stored(key.sign(prepared.message)), prepared.event_hash

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        raise TypeError("stored events are chained: use SignedEventStore.put()")

    def open(self, stored: StoredEvent) -> tuple[DomainEventProtocol[UUID], CheckedEvent]:
        checked = check_stored_event(
            stored.originator_id, stored.originator_version, stored.topic, stored.state,
            self.signer,
        )
        seq = getattr(stored, "id", None)
        if checked.problem:
            raise TamperedEventError(checked.record_id, stored.originator_version,
                                     checked.problem, seq)
        payload = Envelope.parse(bytes(stored.state)).payload
        state: dict[str, Any] = self.transcoder.decode(payload)
        sealed = state.get("personal")
        if isinstance(sealed, dict) and "sealed" in sealed:
            state["personal"] = self.sealer.open(state["subject"], sealed)
        cls = resolve_topic(stored.topic)
        state["originator_id"] = UUID(checked.record_id)
        state["originator_version"] = stored.originator_version
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event, checked

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        return self.open(stored_event)[0]


class SignedEventStore(EventStore[UUID]):
    """Puts events with their chain link; checks signature and chain on every get."""

    def __init__(self, mapper: SignedMapper, recorder: AggregateRecorder,
                 head_cache_size: int = 100_000) -> None:
        super().__init__(mapper, recorder)
        self.signed_mapper = mapper
        self._heads: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._heads_lock = threading.Lock()
        self._head_cache_size = head_cache_size
        self._pool: ThreadPoolExecutor | None = None

    def _signing_pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1,
                                            thread_name_prefix="signing")
        return self._pool

    def put(self, domain_events: Sequence[DomainEventProtocol[UUID]],
            **kwargs: Any) -> list[Recording[UUID]]:
        heads: dict[str, tuple[int, str]] = {}
        kid, key = self.signed_mapper.signer.signer()
        prepared: list[Prepared] = []
        for event in domain_events:
            rid = canonical_id(event.originator_id)
            version = event.originator_version
            if rid in heads and heads[rid][0] == version - 1:
                prev = heads[rid][1]
            else:
                prev = self._head_before(event.originator_id, version)
            item = self.signed_mapper.prepare(event, prev, kid)
            heads[rid] = (version, item.event_hash)
            prepared.append(item)
        messages = [p.message for p in prepared]
        if len(messages) >= PARALLEL_SIGNING_FROM:
            # Ed25519 signing releases the GIL: a big batch signs on every core.
            signatures = list(self._signing_pool().map(key.sign, messages, chunksize=32))
        else:
            signatures = [key.sign(m) for m in messages]
        stored_events = [p.stored(sig) for p, sig in zip(prepared, signatures, strict=True)]
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        with self._heads_lock:
            for rid, head in heads.items():
                self._heads[rid] = head
                self._heads.move_to_end(rid)
            while len(self._heads) > self._head_cache_size:
                self._heads.popitem(last=False)
        recordings: list[Recording[UUID]] = []
        if notification_ids:
            from eventsourcing.persistence import Notification

            for event, stored, nid in zip(domain_events, stored_events, notification_ids,
                                          strict=True):
                recordings.append(Recording(event, Notification(
                    originator_id=stored.originator_id,
                    originator_version=stored.originator_version,
                    topic=stored.topic, state=stored.state, id=nid)))
        return recordings

    def _head_before(self, originator_id: UUID, version: int) -> str:
        if version == 1:
            return GENESIS
        rid = canonical_id(originator_id)
        with self._heads_lock:
            cached = self._heads.get(rid)
        if cached is not None and cached[0] == version - 1:
            return cached[1]
        previous = self.recorder.select_events(originator_id, lte=version - 1, desc=True,
                                               limit=1)
        if not previous or previous[0].originator_version != version - 1:
            raise TamperedEventError(rid, version, f"version {version - 1} is missing")
        _, checked = self.signed_mapper.open(previous[0])
        return checked.event_hash

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None
            ) -> Iterator[DomainEventProtocol[UUID]]:
        stored = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc,
                                             limit=limit)
        return iter(self._checked(originator_id, stored, from_start=gt is None and not desc))

    def _checked(self, originator_id: UUID, stored: Sequence[StoredEvent], *,
                 from_start: bool) -> list[DomainEventProtocol[UUID]]:
        events = []
        prev_hash = GENESIS
        expected = 1
        rid = canonical_id(originator_id)
        for item in stored:
            event, checked = self.signed_mapper.open(item)
            if from_start:
                if item.originator_version != expected:
                    raise TamperedEventError(rid, item.originator_version,
                                             f"version {expected} is missing from the chain")
                if checked.prev != prev_hash:
                    raise TamperedEventError(
                        rid, item.originator_version,
                        "chain broken: does not commit to the previous event")
                prev_hash = checked.event_hash
                expected += 1
            events.append(event)
        if from_start and stored:
            with self._heads_lock:
                self._heads[rid] = (stored[-1].originator_version, prev_hash)
        return events
