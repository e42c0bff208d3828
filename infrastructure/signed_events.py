"""Signed, hash-chained stored events.

Every stored event's ``state`` is an envelope, one header line and the payload:

    CSE1 <key id> <previous event hash> <base64 signature>
    CSB1 <key id> <previous event hash> <index> <size> <batch root> <path> <base64 signature>

The signed message, :func:`signing_input`, holds the record id (32 lowercase hex digits,
whatever the database stores), the version, the topic, the key id, the hash of the
record's previous event and the SHA-256 of the payload bytes, which are stored exactly as
signed. A save of one event (``CSE1``) signs that message. A save of several (``CSB1``)
signs once: the root of an RFC 9162 Merkle tree over the messages' hashes, and each
event carries its inclusion path to that root — so each event is still verifiable on
its own, while verifying a whole save costs one Ed25519 verification, not one per event.

So an event cannot be altered, given another topic, moved to another record or version,
or signed with a key the service never had; and since each event commits to its
predecessor, one deleted, reordered or inserted into a record's chain is found too.
Global order (``seq``) is bound afterwards by the transparency log.

Personal data in an event (its ``personal`` field) is encrypted under its subject's key
before signing, so crypto-shredding leaves every signature intact.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast
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
from infrastructure.copy_insert import BULK, copy_writer_for
from infrastructure.transparency.merkle import (
    MemoryNodeStore,
    MerkleTree,
    leaf_hash,
    verify_inclusion,
)
from infrastructure.write_outcome import insert_and_confirm

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,9}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAGIC = b"CSE1 "
BATCH_MAGIC = b"CSB1 "
GENESIS = "0" * 64


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


def batch_input(kid: str, size: int, root: bytes) -> bytes:
    """What one signature over a whole save covers: the root of its events' hashes."""
    return f"records-custody batch v1\n{kid}\n{size}\n{root.hex()}\n".encode()


@dataclass(frozen=True, slots=True)
class Envelope:
    kid: str
    prev: str
    signature: bytes
    payload: bytes
    index: int = 0
    size: int = 1
    root: bytes = b""
    path: tuple[bytes, ...] = ()

    @classmethod
    def parse(cls, state: bytes) -> Envelope:
        newline = state.find(b"\n")
        if newline < 0 or not (state.startswith(MAGIC) or state.startswith(BATCH_MAGIC)):
            raise ValueError("not a signed event envelope")
        fields = state[5:newline].decode("ascii").split(" ")
        payload = state[newline + 1 :]
        if state.startswith(MAGIC):
            if len(fields) != 3 or len(fields[0]) != 8 or len(fields[1]) != 64:
                raise ValueError("malformed single-event header")
            kid, prev, sig = fields
            return cls(kid, prev, base64.b64decode(sig, validate=True), payload)
        if len(fields) != 7 or len(fields[0]) != 8 or len(fields[1]) != 64:
            raise ValueError("malformed batch header")
        kid, prev, index, size, root, path, sig = fields
        if not (_DECIMAL.fullmatch(index) and _DECIMAL.fullmatch(size)
                and int(index) < int(size) < 2**32 and _HEX64.fullmatch(root)):
            raise ValueError("malformed batch header (index, size or root)")
        raw_path = b"" if path == "-" else base64.b64decode(path, validate=True)
        if len(raw_path) % 32:
            raise ValueError("malformed batch path")
        hashes = tuple(raw_path[i : i + 32] for i in range(0, len(raw_path), 32))
        return cls(kid, prev, base64.b64decode(sig, validate=True), payload, int(index),
                   int(size), bytes.fromhex(root), hashes)

    def encode(self) -> bytes:
        sig = base64.b64encode(self.signature).decode()
        if self.size == 1:
            return MAGIC + f"{self.kid} {self.prev} {sig}\n".encode() + self.payload
        path = base64.b64encode(b"".join(self.path)).decode() or "-"
        header = (f"{self.kid} {self.prev} {self.index} {self.size} {self.root.hex()} "
                  f"{path} {sig}\n")
        return BATCH_MAGIC + header.encode() + self.payload


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
    *, verify_signature: bool = True, envelope: Envelope | None = None,
) -> CheckedEvent:
    """Check one stored event's envelope and signature (not its place in the chain).
    ``envelope`` is ``state`` parsed already (by a caller that needs its payload too)."""
    record_id = canonical_id(originator_id)
    try:
        env = envelope if envelope is not None else Envelope.parse(bytes(state))
    except ValueError as error:
        return CheckedEvent(record_id, version, topic, "", "", "", f"malformed envelope ({error})")
    message = signing_input(record_id, version, topic, env.kid, env.prev, env.payload)
    event_hash = hashlib.sha256(message).hexdigest()
    problem = None
    if env.kid not in keys:
        problem = f"signed with unknown key {env.kid}"
    elif env.size > 1 and not verify_inclusion(leaf_hash(bytes.fromhex(event_hash)),
                                               env.index, env.size, env.path, env.root):
        problem = f"signature does not verify under key {env.kid} (not in its signed save)"
    elif verify_signature and not _verified(keys, *_signed_claim(env, message)):
        problem = f"signature does not verify under key {env.kid}"
    return CheckedEvent(record_id, version, topic, env.kid, env.prev, event_hash, problem)


def _signed_claim(env: Envelope, message: bytes) -> tuple[str, bytes, bytes, bytes]:
    """(key id, signature, what it commits to, the signed message) of an event whose
    signing input is ``message``: the event's own hash, or for a batch-signed save the
    root of its events and their number. The same claim is verified once per key set."""
    if env.size == 1:
        return env.kid, env.signature, hashlib.sha256(message).digest(), message
    return (env.kid, env.signature, env.root + env.size.to_bytes(4, "big"),
            batch_input(env.kid, env.size, env.root))


def _cache(keys: Verifier) -> dict[tuple[str, bytes, bytes], bool]:
    cache: dict[tuple[str, bytes, bytes], bool] | None = getattr(keys, "_verified", None)
    if cache is None:
        cache = {}
        try:
            keys._verified = cache  # type: ignore[attr-defined]
        except AttributeError:
            pass
    return cache


def _verified(keys: Verifier, kid: str, signature: bytes, what: bytes,
              signed_message: bytes) -> bool:
    """Ed25519 verification, remembered by the key set that did it.

    ``what`` is the hash the signed message commits to (an event's message hash, or a
    save's root): the same key id, signature and hash always give the same answer, and
    any changed byte of the event changes the hash. So an event read again costs a
    dictionary lookup, and one this process just signed costs nothing at all.
    """
    cache = _cache(keys)
    key = (kid, signature, what)
    known = cache.get(key)
    if known is None:
        known = keys.verify(kid, signature, signed_message)
        if len(cache) > 300_000:
            cache.clear()
        cache[key] = known
    return known


def check_signatures(keys: Verifier, stored: Sequence[StoredEvent],
                     envelopes: Sequence[Envelope | None],
                     run: Callable[[Callable[[tuple[tuple[str, bytes, bytes], bytes]], bool],
                                    list[tuple[tuple[str, bytes, bytes], bytes]]], Any],
                     ) -> None:
    """Verify, through ``run`` (e.g. a thread pool's ``map``), the distinct signatures of
    these events that the key set has not verified yet, and remember the answers; the
    checks that follow then find them. A batch-signed save has one signature for all
    its events, so a page of such events costs one verification per save, and only
    pages with many single-event signatures are worth spreading over threads."""
    cache = _cache(keys)
    todo: dict[tuple[str, bytes, bytes], bytes] = {}
    for item, env in zip(stored, envelopes, strict=True):
        if env is None or env.kid not in keys:
            continue  # the check itself names what is wrong
        message = b"" if env.size > 1 else signing_input(
            canonical_id(item.originator_id), item.originator_version, item.topic, env.kid,
            env.prev, env.payload)
        kid, signature, what, signed = _signed_claim(env, message)
        if (kid, signature, what) not in cache:
            todo[(kid, signature, what)] = signed
    if todo:
        run(lambda job: _verified(keys, job[0][0], job[0][1], job[0][2], job[1]),
            list(todo.items()))


def forget_verified(keys: Verifier) -> None:
    """Drop what this key set remembers: the next read verifies every signature again
    (what a fresh process does; benchmarks use it to measure the cold path)."""
    _cache(keys).clear()


def remember_signed(keys: Verifier, kid: str, signature: bytes, what: bytes) -> None:
    """What the service itself just signed needs no verification when read back."""
    cache = _cache(keys)
    if len(cache) > 300_000:
        cache.clear()
    cache[(kid, signature, what)] = True


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

    def stored(self, signature: bytes, index: int = 0, size: int = 1, root: bytes = b"",
               path: tuple[bytes, ...] = ()) -> StoredEvent:
        state = Envelope(self.kid, self.prev, signature, self.payload, index, size, root,
                         path).encode()
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

    def open(self, stored: StoredEvent, envelope: Envelope | None = None
             ) -> tuple[DomainEventProtocol[UUID], CheckedEvent]:
        """The domain event of a stored one, after checking its envelope and signature
        (raises :class:`TamperedEventError`). ``envelope``: its state, parsed already."""
        state, checked = self._checked_state(stored, envelope)
        return self._event(stored, state, checked), checked

    def open_many(self, stored: Sequence[StoredEvent], envelopes: Sequence[Envelope | None]
                  ) -> list[tuple[DomainEventProtocol[UUID], CheckedEvent]]:
        """Like :meth:`open` for a page of events, with the page's data keys fetched in
        one query first (one round trip per event was most of the cost of opening)."""
        checked = [self._checked_state(s, e) for s, e in zip(stored, envelopes, strict=True)]
        prefetch = getattr(self.sealer, "prefetch", None)
        if prefetch is not None:
            prefetch({state["subject"] for state, _ in checked
                      if isinstance(state.get("personal"), dict)
                      and "sealed" in state["personal"]})
        return [(self._event(s, state, c), c)
                for s, (state, c) in zip(stored, checked, strict=True)]

    def _event(self, stored: StoredEvent, state: dict[str, Any],
               checked: CheckedEvent) -> DomainEventProtocol[UUID]:
        sealed = state.get("personal")
        if isinstance(sealed, dict) and "sealed" in sealed:
            state["personal"] = self.sealer.open(state["subject"], sealed)
        cls = resolve_topic(stored.topic)
        state["originator_id"] = UUID(checked.record_id)
        state["originator_version"] = stored.originator_version
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return cast(DomainEventProtocol[UUID], event)

    def _checked_state(self, stored: StoredEvent, envelope: Envelope | None
                       ) -> tuple[dict[str, Any], CheckedEvent]:
        if envelope is None:
            try:
                envelope = Envelope.parse(bytes(stored.state))
            except ValueError:
                envelope = None
        checked = check_stored_event(
            stored.originator_id, stored.originator_version, stored.topic, stored.state,
            self.signer, envelope=envelope,
        )
        seq = getattr(stored, "id", None)
        if checked.problem or envelope is None:
            raise TamperedEventError(checked.record_id, stored.originator_version,
                                     checked.problem or "malformed envelope", seq)
        state: dict[str, Any] = self.transcoder.decode(envelope.payload)
        return state, checked

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
        self._copy_writer = copy_writer_for(recorder)

    def put(self, domain_events: Sequence[DomainEventProtocol[UUID]],
            **kwargs: Any) -> list[Recording[UUID]]:
        """Sign, chain and insert. ``bulk=True`` (``Application.save(..., bulk=True)``,
        used by the import) writes the rows by binary COPY on PostgreSQL
        (``copy_insert.py``); elsewhere, and without it, the library's insert."""
        bulk = bool(kwargs.pop(BULK, False))
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
        signer = self.signed_mapper.signer
        if len(prepared) == 1:
            signature = key.sign(prepared[0].message)
            stored_events = [prepared[0].stored(signature)]
            remember_signed(signer, kid, signature, bytes.fromhex(prepared[0].event_hash))
        else:
            # One signature for the whole save, over the root of its events' hashes.
            tree = MerkleTree(MemoryNodeStore())
            tree.append_many([leaf_hash(bytes.fromhex(p.event_hash)) for p in prepared])
            size = len(prepared)
            root = tree.root(size)
            signature = key.sign(batch_input(kid, size, root))
            remember_signed(signer, kid, signature, root + size.to_bytes(4, "big"))
            stored_events = [
                p.stored(signature, i, size, root, tuple(tree.inclusion_proof(i, size)))
                for i, p in enumerate(prepared)
            ]
        # A database error is reported only if nothing was stored (write_outcome.py).
        writer = self._copy_writer if bulk and len(stored_events) > 1 else None
        notification_ids = insert_and_confirm(
            self.recorder, stored_events,
            writer.insert_events if writer is not None else None, **kwargs)
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
