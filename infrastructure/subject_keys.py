"""Per-subject data keys for crypto-shredding, and the keyed blind index.

Every student (and every copy, and every item of general information) has its own
AES-256-GCM data key. Data keys are stored wrapped by a key-encryption key derived from
the master secret in the data directory, in a table apart from the events. Destroying a
subject's key (a cull) makes its personal data unreadable for good, while the signatures
and the Merkle tree, which cover the ciphertext, still verify.

The blind index turns a personnummer into a record id with HMAC-SHA-256 under a key
derived from the same master secret: without the secret, nobody can walk the small
space of personnummer to find a student's record.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from infrastructure.invalidation import local_peers, notify
from infrastructure.sql import Database, blob

SUBJECT_KEY = "subject_key"
"""The kind of invalidation sent when a subject's key is destroyed (its hex id)."""


class ShreddedError(LookupError):
    """The subject's key was destroyed; its data cannot be read any more."""


def derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


class BlindIndex:
    """Keyed, deterministic ids for things looked up by personal data."""

    def __init__(self, master: bytes) -> None:
        self._key = derive(master, b"records-custody blind index v1")

    def student_record_id(self, normalized_personnummer: str) -> UUID:
        digest = hmac.new(self._key, b"student:" + normalized_personnummer.encode(),
                          hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=4)

    def name_token_key(self, token: str) -> str:
        """The keyed index entry of one normalised name token (``application.search``):
        without the master key nobody can tell which name a stored entry stands for."""
        return hmac.new(self._key, b"name-token:" + token.encode(),
                        hashlib.sha256).hexdigest()[:32]
    def reference(self, record_id: str) -> str:
        """A stable pseudonym of a record (hex): shown instead of a student's identity."""
        return hmac.new(self._key, b"reference:" + record_id.encode(), hashlib.sha256).hexdigest()

    def commitment(self, content: bytes) -> str:
        """A keyed commitment to culled content: proves what was culled without keeping it."""
        return hmac.new(self._key, b"commitment:" + content, hashlib.sha256).hexdigest()


class SubjectKeyVault:
    CACHE_SECONDS = 2.0
    RESERVE = 64
    """Keys made ahead per refill; an unused one (after a crash) is harmless."""

    def __init__(self, db: Database, master: bytes, *, table: str = "custody_subject_keys",
                 cache_size: int = 200_000) -> None:
        self._db = db
        self._kek = AESGCM(derive(master, b"records-custody key wrapping v1"))
        self._table = table
        # Unwrapped keys are kept only briefly: a cull made by another process (the CLI's
        # rollover, another worker) must blank the data here too within CACHE_SECONDS.
        # On PostgreSQL the destruction is also announced (NOTIFY in its transaction) and
        # every instance's listener evicts the key at once (``infrastructure.invalidation``);
        # on SQLite the vaults of this process on the same file are told directly.
        self._cache: OrderedDict[UUID, tuple[AESGCM, float]] = OrderedDict()
        self._cache_size = cache_size
        # A destroyed key never comes back, so knowing it is gone may be kept for good.
        self._destroyed: OrderedDict[UUID, None] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        """Bumped by every eviction: a key read from the store while one happened is not
        cached (it may have been read just before the destruction committed)."""
        self._schema = str(getattr(db, "schema", "public"))
        self._peers_key = (f"{getattr(db, 'path', id(db))}#{table}"
                           if db.dialect == "sqlite" else None)
        if self._peers_key is not None:
            local_peers(self._peers_key, self)
        self._reserve: list[UUID] = []
        self._reserve_lock = threading.Lock()
        with db.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                f"subject TEXT PRIMARY KEY, wrapped {blob(db.dialect)}, "
                "created_at TEXT NOT NULL, destroyed_at TEXT)"
            )

    # -- port: KeyVault -------------------------------------------------------------

    def new_subject(self) -> UUID:
        """A committed key from a small reserve, refilled in bulk: one insert per
        ``RESERVE`` commands instead of one per command."""
        with self._reserve_lock:
            if not self._reserve:
                self._reserve.extend(self.new_subjects(self.RESERVE))
            return self._reserve.pop()

    def new_subjects(self, count: int) -> list[UUID]:
        """Keys are committed before any event that uses them is saved, so a crash in
        between leaves an unused key, never an event that nobody can read."""
        now = datetime.now(UTC).isoformat()
        rows = []
        made: list[tuple[UUID, bytes]] = []
        for _ in range(count):
            subject = uuid4()
            key = AESGCM.generate_key(bit_length=256)
            nonce = os.urandom(12)
            wrapped = nonce + self._kek.encrypt(nonce, key, subject.bytes)
            rows.append((subject.hex, wrapped, now))
            made.append((subject, key))
        with self._db.transaction() as cur:
            cur.executemany(
                f"INSERT INTO {self._table} (subject, wrapped, created_at) VALUES (%s, %s, %s)",
                rows,
            )
        with self._lock:
            for subject, key in made:
                self._remember(subject, AESGCM(key))
        return [subject for subject, _ in made]

    def destroy(self, subject: UUID) -> bool:
        """Destroy the key for good; True if it existed and was live."""
        with self._db.transaction() as cur:
            cur.execute(
                f"UPDATE {self._table} SET wrapped = NULL, destroyed_at = %s "
                "WHERE subject = %s AND wrapped IS NOT NULL",
                (datetime.now(UTC).isoformat(), subject.hex),
            )
            changed = bool(cur.rowcount > 0)
            if changed and self._db.dialect == "postgres":
                notify(cur, self._schema, SUBJECT_KEY, subject.hex)  # sent on commit
        self.evict(subject)
        if changed and self._peers_key is not None:
            for peer in local_peers(self._peers_key):
                if peer is not self:
                    peer.evict(subject)
        if changed and self._db.dialect == "sqlite":
            # Push the change out of the write-ahead log, so the old wrapped key is gone
            # from the files on disk too.
            with self._db.reading() as cur:
                cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return changed

    def destroy_pending(self, subjects: Iterable[UUID]) -> int:
        """Destroy keys that culls recorded but a crash kept alive; returns how many."""
        return sum(1 for subject in subjects
                   if not self.is_destroyed(subject) and self.destroy(subject))

    def evict(self, subject: UUID) -> None:
        """The key of ``subject`` was destroyed (here or by another instance): never
        serve it from the cache again."""
        with self._lock:
            self._cache.pop(subject, None)
            self._forget(subject)
            self._generation += 1

    def drop_cached(self) -> None:
        """Forget every unwrapped key (the invalidation listener (re)connected: what was
        announced while it was away is unknown)."""
        with self._lock:
            self._cache.clear()
            self._generation += 1

    def is_destroyed(self, subject: UUID) -> bool:
        """Asks the store itself, never the cache."""
        with self._db.reading() as cur:
            cur.execute(f"SELECT wrapped FROM {self._table} WHERE subject = %s", (subject.hex,))
            row = cur.fetchone()
        return row is None or row[0] is None

    # -- sealing ----------------------------------------------------------------------

    def seal(self, subject: UUID, personal: dict[str, Any]) -> dict[str, str]:
        aead = self._aead(subject)
        if aead is None:
            raise ShreddedError(f"the key of subject {subject} was destroyed")
        plaintext = json.dumps(personal, separators=(",", ":"), sort_keys=True).encode()
        nonce = os.urandom(12)
        sealed = nonce + aead.encrypt(nonce, plaintext, subject.bytes)
        return {"sealed": base64.b64encode(sealed).decode()}

    def open(self, subject: UUID, sealed: dict[str, str]) -> dict[str, Any] | None:
        """The personal data, or None when the key was destroyed (shredded)."""
        aead = self._aead(subject)
        if aead is None:
            return None
        data = base64.b64decode(sealed["sealed"])
        opened: dict[str, Any] = json.loads(aead.decrypt(data[:12], data[12:], subject.bytes))
        return opened

    def prefetch(self, subjects: Iterable[UUID]) -> None:
        """Unwrap the keys of these subjects that are not cached, in one query per 500."""
        now = time.monotonic()
        with self._lock:
            missing = [s for s in set(subjects) if s not in self._destroyed
                       and ((cached := self._cache.get(s)) is None or cached[1] <= now)]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            marks = ", ".join(["%s"] * len(chunk))
            with self._lock:
                generation = self._generation
            with self._db.reading() as cur:
                cur.execute(f"SELECT subject, wrapped FROM {self._table} "
                            f"WHERE subject IN ({marks})", [s.hex for s in chunk])
                rows = cur.fetchall()
            opened = []
            for hex_subject, wrapped in rows:
                subject = UUID(hex_subject)
                if wrapped is None:
                    with self._lock:
                        self._forget(subject)
                    continue
                raw = bytes(wrapped)
                opened.append((subject, AESGCM(self._kek.decrypt(raw[:12], raw[12:],
                                                                 subject.bytes))))
            with self._lock:
                if self._generation != generation:
                    continue  # an eviction meanwhile: read them again when needed
                for subject, aead in opened:
                    self._remember(subject, aead)

    def _aead(self, subject: UUID) -> AESGCM | None:
        with self._lock:
            if subject in self._destroyed:
                return None
            cached = self._cache.get(subject)
            if cached is not None and cached[1] > time.monotonic():
                self._cache.move_to_end(subject)
                return cached[0]
            generation = self._generation
        with self._db.reading() as cur:
            cur.execute(f"SELECT wrapped FROM {self._table} WHERE subject = %s", (subject.hex,))
            row = cur.fetchone()
        if row is None:
            return None
        if row[0] is None:
            with self._lock:
                self._forget(subject)
            return None
        wrapped = bytes(row[0])
        aead = AESGCM(self._kek.decrypt(wrapped[:12], wrapped[12:], subject.bytes))
        with self._lock:
            if self._generation == generation:
                self._remember(subject, aead)
        return aead

    def _forget(self, subject: UUID) -> None:
        """Remember that this subject's key was destroyed (under ``_lock``)."""
        self._destroyed[subject] = None
        if len(self._destroyed) > self._cache_size:
            self._destroyed.popitem(last=False)

    def _remember(self, subject: UUID, aead: AESGCM) -> None:
        self._cache[subject] = (aead, time.monotonic() + self.CACHE_SECONDS)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
