"""Whole-log verification: every signature, every record's hash chain, and (with a
transparency log) that the log's leaves are exactly the stored events in ``seq`` order.

Used by ``custody verify`` on the live store and on an export bundle, so it needs only
the stored rows and public keys. Signature checks (≈60 µs each) run in a thread pool
over all cores (the verification releases the GIL); the chain checks are a cheap
sequential pass.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from infrastructure.signed_events import GENESIS, check_stored_event

Row = tuple[int, str, int, str, bytes]
"""(seq, record id, version, topic, state) as stored."""


@dataclass(frozen=True, order=True)
class Fault:
    seq: int | None
    record_id: str
    version: int
    problem: str

    def line(self) -> str:
        seq = "-" if self.seq is None else str(self.seq)
        return f"seq={seq} record={self.record_id} version={self.version}: {self.problem}"


@dataclass
class VerifyReport:
    events: int = 0
    records: int = 0
    faults: list[Fault] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)
    leaf_events: list[tuple[int, str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    def check_checkpoints(self, checkpoints: Sequence[tuple[int, bytes, str]],
                          vkeys: Sequence[str], origin: str, *, trusted: bool = False) -> None:
        """Each signed checkpoint must verify and match the root of the events stored."""
        from infrastructure.transparency.checkpoint import CheckpointError, open_note
        from infrastructure.transparency.merkle import MemoryNodeStore, MerkleTree

        tree = MerkleTree(MemoryNodeStore())
        if self.leaves:
            tree.append_many(self.leaves)
        kind = "trusted checkpoint" if trusted else "checkpoint"
        for size, _root, note in checkpoints:
            try:
                checkpoint = open_note(note, list(vkeys), origin=origin)
            except CheckpointError as error:
                self.faults.append(Fault(None, "-", 0, f"{kind} of size {size}: {error}"))
                continue
            if checkpoint.size > len(self.leaves):
                self.faults.append(Fault(
                    None, "-", 0,
                    f"{kind} of size {checkpoint.size} covers more events than are stored "
                    f"({len(self.leaves)}): events were removed"))
            elif tree.root(checkpoint.size) != checkpoint.root_hash:
                first_bad = self._first_mismatch_hint(checkpoint.size)
                self.faults.append(Fault(
                    None, "-", 0,
                    f"{kind} of size {checkpoint.size} does not match the stored events: "
                    f"history was rewritten{first_bad}"))
        if checkpoints:
            self.notes.append(f"{len(checkpoints)} {kind}(s) checked against the events")

    def _first_mismatch_hint(self, size: int) -> str:
        return f" (somewhere in seq 1..{self.leaf_events[size - 1][0]})" if size else ""


def leaf_entry(seq: int, record_id: str, version: int, event_hash: str) -> bytes:
    """What the transparency log commits to for one stored event."""
    return f"records-custody leaf v1\n{seq}\n{record_id}\n{version}\n{event_hash}\n".encode()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


class RawKeys:
    """Picklable public keys for worker processes."""

    def __init__(self, raw: dict[str, bytes]) -> None:
        self._keys = {kid: Ed25519PublicKey.from_public_bytes(k) for kid, k in raw.items()}

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def verify(self, kid: str, signature: bytes, message: bytes) -> bool:
        try:
            self._keys[kid].verify(signature, message)
        except (KeyError, InvalidSignature):
            return False
        return True


Checked = tuple[int, str, int, str, str, str | None]


def _check_chunk(rows: Sequence[Row], keys: RawKeys) -> list[Checked]:
    out = []
    for seq, rid, version, topic, state in rows:
        c = check_stored_event(rid, version, topic, state, keys)
        out.append((seq, c.record_id, version, c.prev, c.event_hash, c.problem))
    return out


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def verify_rows(
    rows: Iterable[Row],
    public_keys: dict[str, bytes],
    *,
    workers: int | None = None,
    chunk_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Check signatures, per-record chains and seq order of the given rows."""
    report = VerifyReport()
    checked: list[tuple[int, str, int, str, str, str | None]] = []
    workers = workers if workers is not None else (os.cpu_count() or 1)
    keys = RawKeys(public_keys)
    if workers <= 1:
        for chunk in _chunks(rows, chunk_size):
            checked.extend(_check_chunk(chunk, keys))
            if progress:
                progress(len(chunk))
    else:
        # Ed25519 verification releases the GIL, so threads use every core without the
        # cost of shipping rows to other processes.
        with ThreadPoolExecutor(workers, thread_name_prefix="verify") as pool:
            pending: list[Future[list[Checked]]] = []
            for chunk in _chunks(rows, chunk_size):
                pending.append(pool.submit(_check_chunk, chunk, keys))
                while len(pending) > workers * 4:  # bounded memory, results in order
                    done = pending.pop(0).result()
                    checked.extend(done)
                    if progress:
                        progress(len(done))
            for future in pending:
                done = future.result()
                checked.extend(done)
                if progress:
                    progress(len(done))
    report.events = len(checked)
    _check_chains(checked, report)
    report.faults.sort(key=lambda f: (f.seq if f.seq is not None else -1, f.record_id))
    return report


def _check_chains(
    checked: Sequence[tuple[int, str, int, str, str, str | None]], report: VerifyReport
) -> None:
    heads: dict[str, tuple[int, str, int]] = {}  # record -> (version, hash, seq)
    by_record: dict[str, list[tuple[int, int, str, str]]] = {}
    for seq, rid, version, prev, event_hash, problem in checked:
        if problem:
            report.faults.append(Fault(seq, rid, version, problem))
        report.leaves.append(leaf_hash(leaf_entry(seq, rid, version, event_hash)))
        report.leaf_events.append((seq, rid, version))
        head = heads.get(rid)
        if head is not None and version <= head[0]:
            report.faults.append(Fault(
                seq, rid, version,
                f"out of order: stored after version {head[0]} (seq {head[2]}) of the same record",
            ))
        heads[rid] = (max(version, head[0] if head else 0), event_hash, seq)
        by_record.setdefault(rid, []).append((version, seq, prev, event_hash))
    report.records = len(by_record)
    for rid, items in by_record.items():
        items.sort()
        expected_prev = GENESIS
        expected_version = 1
        for version, seq, prev, event_hash in items:
            if version != expected_version:
                missing = (f"version {expected_version} is missing"
                           if version > expected_version else f"version {version} appears twice")
                report.faults.append(Fault(seq, rid, version, f"chain broken: {missing}"))
            elif prev != expected_prev and event_hash:
                report.faults.append(Fault(
                    seq, rid, version, "chain broken: does not commit to the previous event"))
            expected_prev = event_hash
            expected_version = version + 1
