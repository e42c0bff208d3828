"""The transparency log over the whole event sequence, and its signed checkpoints.

Every stored event, in ``seq`` order, becomes one leaf (RFC 9162: SHA-256(0x00 ‖ entry),
the entry committing to ``seq``, record id, version and the event hash, which covers the
signed envelope). A sealer appends leaves for new events — after checking each event's
signature, so a forged event is never sealed — and issues a C2SP checkpoint signed by
the active key at most every ``interval`` seconds while events arrive. The tree only
grows, and before signing, the new root is checked consistent with the last checkpoint,
so the log never signs two inconsistent views of history.

SQLite keeps the tree, the leaf index and the checkpoints in ``log.sqlite``; PostgreSQL
in ``custody_merkle_nodes``, ``custody_log_leaves``, ``custody_checkpoints``. Leaves and
their index commit in one transaction.
"""

from __future__ import annotations

import base64
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import ApplicationRecorder

from application.follower import Follower
from application.ports import TransparencyLogError
from infrastructure.keys import Keyring, vkey
from infrastructure.signed_events import check_stored_event
from infrastructure.store_rows import iter_rows
from infrastructure.transparency.checkpoint import (
    SUCCESSOR,
    CheckpointError,
    format_checkpoint,
    format_inclusion_proof_text,
    open_note,
    sign_checkpoint,
    sign_note,
)
from infrastructure.transparency.merkle import (
    MemoryNodeStore,
    MerkleTree,
    NodeConflictError,
    ProofError,
    verify_consistency,
)
from infrastructure.transparency.sql_store import PostgresNodeStore, SQLiteNodeStore
from infrastructure.verification import Fault, VerifyReport, leaf_entry, leaf_hash

log = logging.getLogger("custody.log")


class LogError(TransparencyLogError):
    """The log cannot answer (unknown seq, size beyond the tree...)."""


class TransparencyLog:
    def __init__(self, keyring: Keyring, recorder: ApplicationRecorder, *,
                 sqlite_path: Path | None = None, pg_pool: Any = None,
                 pg_schema: str = "public", origin: str = "records-custody",
                 interval: float = 1.0) -> None:
        self.keyring = keyring
        self.recorder = recorder
        self.origin = origin
        self.interval = interval
        self._lock = threading.Lock()
        self._sqlite_lock = threading.RLock()
        self._follower = Follower("log-sealer", self._step, interval=interval,
                                  fatal=(LogError,))
        self._last_checkpoint_at = 0.0
        self.error: str | None = None
        if pg_pool is not None:
            self.dialect = "postgres"
            self._pool = pg_pool
            self.nodes: Any = PostgresNodeStore(pg_pool, table="custody_merkle_nodes",
                                                schema=pg_schema)
            self._leaves = f'"{pg_schema}".custody_log_leaves'
            self._node_table = f'"{pg_schema}".custody_merkle_nodes'
            self._checkpoints = f'"{pg_schema}".custody_checkpoints'
            self._handovers = f'"{pg_schema}".custody_key_handovers'
            blob, big = "BYTEA", "BIGINT"
        else:
            if sqlite_path is None:
                raise ValueError("the log needs a SQLite path or a PostgreSQL pool")
            self.dialect = "sqlite"
            self._sqlite = sqlite3.connect(sqlite_path, isolation_level=None,
                                           check_same_thread=False, timeout=30)
            self._sqlite.execute("PRAGMA journal_mode=WAL")
            self.nodes = SQLiteNodeStore(self._sqlite, table="merkle_nodes")
            self._leaves, self._checkpoints = "log_leaves", "checkpoints"
            self._node_table = "merkle_nodes"
            self._handovers = "key_handovers"
            blob, big = "BLOB", "INTEGER"
        with self._tx() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self._leaves} (leaf_index {big} PRIMARY "
                        f"KEY, seq {big} NOT NULL UNIQUE, leaf {blob} NOT NULL)")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self._checkpoints} (size {big} PRIMARY "
                        f"KEY, root {blob} NOT NULL, note TEXT NOT NULL, issued_at TEXT NOT NULL)")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self._handovers} (successor TEXT PRIMARY "
                        f"KEY, size {big} NOT NULL, note TEXT NOT NULL, issued_at TEXT NOT NULL)")

    # -- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        if self.dialect == "postgres":
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield _PgCursor(cur)
        else:
            with self._lock_sqlite():
                cur = self._sqlite.cursor()
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield _LiteCursor(cur)
                except BaseException:
                    self._sqlite.rollback()
                    raise
                else:
                    self._sqlite.commit()

    @contextmanager
    def _lock_sqlite(self) -> Iterator[None]:
        with self._sqlite_lock:
            yield

    def _bound_tree(self, cur: Any) -> MerkleTree:
        return MerkleTree(self.nodes.using(cur.raw))

    def tree(self) -> MerkleTree:
        if self.dialect == "sqlite":
            # One SQLite connection is shared by the sealer and the readers: a reader must
            # wait for the sealer's transaction, never see its uncommitted nodes.
            return MerkleTree(_LockedNodes(self.nodes, self._sqlite_lock))
        return MerkleTree(self.nodes)

    def size(self) -> int:
        return int(self.tree().size())

    # -- sealing ---------------------------------------------------------------------------

    def seal(self, batch: int = 5000) -> int:
        """Append leaves for every stored event not yet in the tree; return the size."""
        while True:
            with self._tx() as cur:
                # The newest leaf by its primary key (leaves are appended in seq order, so
                # it holds the largest seq): one index probe, not a count of every leaf.
                cur.execute(f"SELECT leaf_index, seq FROM {self._leaves} "
                            "ORDER BY leaf_index DESC LIMIT 1")
                row = cur.fetchone()
                size = int(row[0]) + 1 if row else 0
                last_seq = int(row[1]) if row else 0
                # One page of the log after it: the generator pages through the rest of the
                # log, so take only ``batch`` rows (reading the whole remainder for every
                # batch made sealing a large backlog quadratic).
                rows = list(islice(iter_rows(self.recorder, batch=batch, after=last_seq),
                                   batch))
                if not rows:
                    return size
                leaves: list[bytes] = []
                index_rows: list[tuple[int, int, bytes]] = []
                keys = self.keyring
                for seq, rid, version, topic, state in rows:
                    checked = check_stored_event(rid, version, topic, state, keys)
                    if checked.problem:
                        self.error = (f"seq={seq} record={rid} version={version}: "
                                      f"{checked.problem}; not sealed")
                        log.error("log sealing stopped: %s", self.error)
                        raise LogError(self.error)
                    leaf = leaf_hash(leaf_entry(seq, rid, version, checked.event_hash))
                    leaves.append(leaf)
                    index_rows.append((size + len(index_rows), seq, leaf))
                try:
                    self._bound_tree(cur).append_many(leaves)
                except NodeConflictError:
                    continue  # another sealer got there first; rolled back, read again
                cur.executemany(
                    f"INSERT INTO {self._leaves} (leaf_index, seq, leaf) VALUES (%s, %s, %s)",
                    index_rows,
                )
            if len(rows) < batch:
                return size + len(rows)

    def issue_checkpoint(self) -> str | None:
        """Sign a checkpoint for the current size if it grew; return the newest note."""
        with self._tx() as cur:
            tree = self._bound_tree(cur)
            size = tree.size()
            last = self._last_checkpoint(cur)
            if last is not None and int(last[0]) >= size:
                return str(last[2])
            if size == 0:
                return None
            root = self._consistent_root(tree, size, last)
            note = sign_checkpoint(self.origin, size, root,
                                   [(self.keyring.name, self.keyring.private_key)])
            self._store_checkpoint(cur, size, root, note)
            return note

    def _last_checkpoint(self, cur: Any) -> Any:
        cur.execute(f"SELECT size, root, note FROM {self._checkpoints} "
                    "ORDER BY size DESC LIMIT 1")
        return cur.fetchone()

    def _store_checkpoint(self, cur: Any, size: int, root: bytes, note: str) -> None:
        """Keep a signed checkpoint (one of the same size, the same tree, stays)."""
        cur.execute(
            f"INSERT INTO {self._checkpoints} (size, root, note, issued_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (size) DO NOTHING",
            (size, root, note, datetime.now(UTC).isoformat()),
        )
        self._last_checkpoint_at = time.monotonic()

    def _consistent_root(self, tree: MerkleTree, size: int, last: Any) -> bytes:
        """The root of ``size`` leaves, after checking it extends the last checkpoint."""
        root = tree.root(size)
        if last is not None:
            old_size, old_root = int(last[0]), bytes(last[1])
            proof = tree.consistency_proof(old_size, size)
            if not verify_consistency(old_size, size, old_root, root, proof):
                self.error = (f"the tree of size {size} is not consistent with the "
                              f"checkpoint of size {old_size}; refusing to sign")
                log.error(self.error)
                raise LogError(self.error)
        return root

    def hand_over(self, old: Ed25519PrivateKey, new: Ed25519PrivateKey) -> str:
        """Seal what is stored and sign a checkpoint of it with both keys, naming the new
        key as the old one's successor (an extension line ``custody-key-successor
        <vkey>``). An auditor who trusts the old key learns the new one from it
        (:func:`infrastructure.transparency.checkpoint.successor_keys`); nobody else
        can name one, since the line is inside what the old key signs. Hand-overs are
        kept apart from the checkpoints (two rotations with no event between them are
        two hand-overs of the same tree) and exported with them."""
        self.seal()
        name = self.keyring.name
        successor = vkey(name, new.public_key())
        with self._tx() as cur:
            tree = self._bound_tree(cur)
            size = tree.size()
            root = self._consistent_root(tree, size, self._last_checkpoint(cur))
            note = sign_note(format_checkpoint(self.origin, size, root,
                                               [f"{SUCCESSOR} {successor}"]),
                             [(name, old), (name, new)])
            cur.execute(f"INSERT INTO {self._handovers} (successor, size, note, issued_at) "
                        "VALUES (%s, %s, %s, %s)",
                        (successor, size, note, datetime.now(UTC).isoformat()))
            return note

    def handovers(self) -> list[str]:
        """Every key hand-over, oldest first (signed checkpoints naming a successor)."""
        with self._tx() as cur:
            cur.execute(f"SELECT note FROM {self._handovers} ORDER BY size, issued_at")
            return [str(row[0]) for row in cur.fetchall()]

    def seal_and_checkpoint(self) -> str | None:
        self.seal()
        return self.issue_checkpoint()

    # -- reading ------------------------------------------------------------------------------

    def latest_checkpoint(self) -> str | None:
        with self._tx() as cur:
            cur.execute(f"SELECT note FROM {self._checkpoints} ORDER BY size DESC LIMIT 1")
            row = cur.fetchone()
        return str(row[0]) if row else None

    def checkpoints_latest(self) -> tuple[int, bytes] | None:
        """Size and root of the latest checkpoint (one indexed row)."""
        with self._tx() as cur:
            cur.execute(f"SELECT size, root FROM {self._checkpoints} ORDER BY size DESC LIMIT 1")
            row = cur.fetchone()
        return (int(row[0]), bytes(row[1])) if row else None

    def checkpoints(self) -> list[tuple[int, bytes, str]]:
        with self._tx() as cur:
            cur.execute(f"SELECT size, root, note FROM {self._checkpoints} ORDER BY size")
            return [(int(s), bytes(r), str(n)) for s, r, n in cur.fetchall()]

    def leaf_index(self, seq: int) -> int:
        with self._tx() as cur:
            cur.execute(f"SELECT leaf_index FROM {self._leaves} WHERE seq = %s", (seq,))
            row = cur.fetchone()
        if row is None:
            raise LogError(f"seq {seq} is not in the log (yet)")
        return int(row[0])

    def stored_nodes(self) -> list[tuple[int, int, bytes]]:
        """Every stored tree node as (level, index, hash), for ``custody verify``."""
        with self._tx() as cur:
            cur.execute(f"SELECT level, idx, hash FROM {self._node_table} ORDER BY level, idx")
            return [(int(level), int(i), bytes(h)) for level, i, h in cur.fetchall()]

    def leaves(self) -> list[tuple[int, int, bytes]]:
        with self._tx() as cur:
            cur.execute(f"SELECT leaf_index, seq, leaf FROM {self._leaves} ORDER BY leaf_index")
            return [(int(i), int(s), bytes(h)) for i, s, h in cur.fetchall()]

    def inclusion(self, seq: int, tree_size: int | None = None) -> dict[str, Any]:
        index = self.leaf_index(seq)
        tree = self.tree()
        size = tree_size if tree_size is not None else tree.size()
        try:
            proof = tree.inclusion_proof(index, size)
            leaf = tree.store.get_many([(0, index)])[(0, index)]
        except ProofError as error:
            raise LogError(str(error)) from None
        return {"seq": seq, "leaf_index": index, "tree_size": size,
                "leaf_hash": _b64(leaf), "hashes": [_b64(h) for h in proof]}

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        try:
            proof = self.tree().consistency_proof(first, second)
        except ProofError as error:
            raise LogError(str(error)) from None
        return {"first": first, "second": second, "hashes": [_b64(h) for h in proof]}

    def proof_text(self, seq: int) -> str:
        """A self-contained tlog-proof for ``seq`` under the newest checkpoint."""
        note = self.latest_checkpoint()
        if note is None:
            raise LogError("no checkpoint has been issued yet")
        size = open_note(note, [k.vkey for k in self.keyring.all()]).size
        index = self.leaf_index(seq)
        if index >= size:
            raise LogError(f"seq {seq} is not yet covered by a checkpoint")
        proof = self.tree().inclusion_proof(index, size)
        return format_inclusion_proof_text(index, proof, note)

    # -- verification ---------------------------------------------------------------------

    def check(self, report: VerifyReport) -> None:
        """Compare the verified events with the log: leaves, seq order, checkpoints."""
        stored = self.leaves()
        events = report.leaf_events
        for (index, seq, leaf), position in zip(stored, range(len(stored)), strict=False):
            if position >= len(events):
                report.faults.append(Fault(seq, "-", 0, f"in the log as leaf {index} but no "
                                           "longer stored: the event was removed"))
                continue
            ev_seq, rid, version = events[position]
            if ev_seq != seq or report.leaves[position] != leaf:
                report.faults.append(Fault(
                    ev_seq, rid, version,
                    f"not the event the log holds as leaf {index} (seq {seq}): removed, "
                    "inserted, reordered or rewritten since it was sealed"))
        if len(events) > len(stored):
            report.notes.append(f"{len(events) - len(stored)} newest event(s) not yet sealed "
                                "into the log")
        report.check_checkpoints(
            [*self.checkpoints(), *((0, b"", note) for note in self.handovers())],
            [k.vkey for k in self.keyring.all()], self.origin)

    # -- background ---------------------------------------------------------------------------

    def notify(self) -> None:
        self._follower.notify()

    def start(self) -> None:
        self._follower.start()

    def stop(self) -> None:
        self._follower.stop()

    def _step(self) -> None:
        self.seal()
        if time.monotonic() - self._last_checkpoint_at >= self.interval * 0.5:
            self.issue_checkpoint()

    def close(self) -> None:
        self.stop()
        if self.dialect == "sqlite":
            self._sqlite.close()


class _LockedNodes:
    def __init__(self, nodes: Any, lock: Any) -> None:
        self._nodes = nodes
        self._lock = lock

    def get_many(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        with self._lock:
            found: dict[tuple[int, int], bytes] = self._nodes.get_many(keys)
            return found

    def put_many(self, items: Sequence[tuple[int, int, bytes]]) -> None:
        with self._lock:
            self._nodes.put_many(items)

    def size(self) -> int:
        with self._lock:
            return int(self._nodes.size())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class _PgCursor:
    def __init__(self, cur: Any) -> None:
        self.raw = cur

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(sql, params)

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(sql, params)

    def fetchone(self) -> Any:
        return self.raw.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self.raw.fetchall())


class _LiteCursor(_PgCursor):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(sql.replace("%s", "?"), tuple(params))

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(sql.replace("%s", "?"), [tuple(p) for p in params])


def roots_from_leaves(leaves: Sequence[bytes]) -> MerkleTree:
    """An in-memory tree over the given leaf hashes (the verifier's own recomputation)."""
    tree = MerkleTree(MemoryNodeStore())
    tree.append_many(list(leaves))
    return tree


__all__ = ["CheckpointError", "LogError", "TransparencyLog", "roots_from_leaves"]
