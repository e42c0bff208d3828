"""Checks of what the service derives and stores beside the events: the views, the
transparency log's stored tree nodes and its checkpoints.

``custody verify`` runs the full checks (:func:`check_derived`): every view replayed from
the events and compared document by document (and every row's indexed columns with its
document), every stored Merkle node recomputed from the leaves, and the checkpoints
present and matching. ``/healthz`` runs the cheap one (:class:`LogHealth`): the latest
checkpoint's root recomputed from the stored nodes (O(log n) reads), and no checkpoint
lost since this process last looked.

May import: ``application``, other ``infrastructure`` modules.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from typing import Any

from application.ports import ViewWriter
from application.projections import VIEWS, MemoryViewStore, ProjectionStoppedError, Projector
from infrastructure.offline import decode, transcoder
from infrastructure.runtime_parts import LiveStoreParts, StoreParts
from infrastructure.store_rows import iter_rows
from infrastructure.transparency.checkpoint import CheckpointError, open_note
from infrastructure.transparency.log import TransparencyLog
from infrastructure.transparency.merkle import MemoryNodeStore, MerkleTree
from infrastructure.verification import Fault, RawKeys, VerifyReport

CHECKED_VIEWS = (*VIEWS, "heads")
PAGE = 2000


def check_derived(rt: LiveStoreParts, report: VerifyReport) -> None:
    """The views, the stored tree nodes and the checkpoints, into ``report``."""
    check_merkle_nodes(rt.log, report)
    check_checkpoints_present(rt.log, report)
    check_views(rt, report)


# -- views ----------------------------------------------------------------------------------


def _comparable(doc: dict[str, Any]) -> str:
    """A view document without its personal data (sealed, and unreadable offline)."""
    return json.dumps({k: v for k, v in doc.items() if k != "personal"}, sort_keys=True,
                      default=str)


def _doc_key(doc: dict[str, Any]) -> str:
    for field in ("id", "certificate_id", "record_id"):
        if doc.get(field):
            return str(doc[field])
    return "?"


def check_views(rt: LiveStoreParts, report: VerifyReport) -> None:
    """Replay every event into memory and compare each view with the stored one."""
    if report.faults:
        report.notes.append("views not replayed: the events themselves are faulty")
        return
    views = rt.views
    for view, key in views.columns_out_of_line():
        report.faults.append(Fault(None, "-", 0, f"view {view!r} row {key}: its indexed "
                                   "columns disagree with its document (edited in the database)"))
    for _attempt in range(3):
        rt.queries.fresh()
        position = views.position()
        replayed = _replay(rt, position)
        if replayed is None:
            report.faults.append(Fault(None, "-", 0, "replay of the views stopped: see above"))
            return
        stored = {view: views.all(view) for view in CHECKED_VIEWS}
        if views.position() == position:
            break
    else:
        report.notes.append("views not compared: events kept arriving")
        return
    digests = []
    for view in CHECKED_VIEWS:
        mine = sorted(_comparable(d) for d in replayed.all(view))
        theirs = sorted(_comparable(d) for d in stored[view])
        digest = hashlib.sha256("\n".join(theirs).encode()).hexdigest()
        digests.append(f"{view}={digest[:12]}")
        if mine != theirs:
            differing = sorted({_doc_key(json.loads(d)) for d in set(mine) ^ set(theirs)})
            report.faults.append(Fault(
                None, "-", 0,
                f"view {view!r} differs from a replay of the events: {len(differing)} "
                f"document(s), e.g. {differing[:3]} (stored {len(theirs)}, replayed "
                f"{len(mine)})"))
    report.notes.append(f"views replayed up to seq {position} and compared: {' '.join(digests)}")


def _replay(rt: StoreParts, upto: int) -> MemoryViewStore | None:
    store = MemoryViewStore()
    projector = Projector()
    keys = RawKeys(rt.keyring.raw())
    codec = transcoder()
    page: list[Any] = []

    def flush() -> None:
        items = [decode(row, keys, codec, verified=True) for row in page]

        def change(w: ViewWriter) -> None:
            for item in items:
                projector.apply(w, item)

        store.apply(store.position(), items[-1].seq, change)
        page.clear()

    try:
        # Every signature was checked by the pass before this one.
        for row in iter_rows(rt.custody.recorder, upto=upto):
            page.append(row)
            if len(page) >= PAGE:
                flush()
        if page:
            flush()
    except ProjectionStoppedError:
        return None
    return store


# -- the transparency log ---------------------------------------------------------------------


def check_merkle_nodes(log: TransparencyLog, report: VerifyReport) -> None:
    """Every stored node must be the hash the leaves give, and none may be missing."""
    leaves = [leaf for _, _, leaf in log.leaves()]
    expected_store = MemoryNodeStore()
    if leaves:
        MerkleTree(expected_store).append_many(leaves)
    expected = expected_store.items()
    stored = {(level, index): digest for level, index, digest in log.stored_nodes()}
    for key in sorted(set(expected) | set(stored)):
        want, have = expected.get(key), stored.get(key)
        if want == have:
            continue
        level, index = key
        if have is None:
            problem = "is missing"
        elif want is None:
            problem = "is not part of the tree of the stored leaves"
        else:
            problem = "does not match the leaves below it (changed in the database)"
        report.faults.append(Fault(None, "-", 0, f"log: tree node (level {level}, index "
                                   f"{index}) {problem}"))
    report.notes.append(f"{len(stored)} stored tree node(s) recomputed from "
                        f"{len(leaves)} leaves")


def check_checkpoints_present(log: TransparencyLog, report: VerifyReport) -> None:
    """A log with leaves has signed checkpoints; each stored root is the signed one;
    no key hand-over covers more than the checkpoints do (they were deleted)."""
    checkpoints = log.checkpoints()
    size = log.size()
    if size and not checkpoints:
        report.faults.append(Fault(None, "-", 0, f"log: {size} leaves but no signed "
                                   "checkpoint: the checkpoints were deleted"))
    vkeys = [k.vkey for k in log.keyring.all()]
    for stored_size, root, note in checkpoints:
        try:
            opened = open_note(note, vkeys, origin=log.origin)
        except CheckpointError:
            continue  # reported by the signature check of every checkpoint
        if opened.size != stored_size or opened.root_hash != root:
            report.faults.append(Fault(None, "-", 0, f"log: checkpoint stored as size "
                                       f"{stored_size} is not what its signed note says"))
    largest = max((s for s, _, _ in checkpoints), default=0)
    for note in log.handovers():
        try:
            handed = open_note(note, vkeys, origin=log.origin).size
        except CheckpointError:
            continue
        if handed > largest:
            report.faults.append(Fault(None, "-", 0, f"log: a key hand-over covers {handed} "
                                       f"leaves but the checkpoints only {largest}: "
                                       "checkpoints were deleted"))


class LogHealth:
    """The cheap check for ``/healthz``: the latest checkpoint's root recomputed from the
    stored tree nodes, and the checkpoints never shrinking under this process."""

    GRACE_SECONDS = 5.0
    """How long leaves may go without any checkpoint (the first one is signed right
    after the first seal) before that counts as checkpoints deleted."""

    def __init__(self, log: TransparencyLog) -> None:
        self.log = log
        self._largest_seen = 0
        self._uncovered_since: float | None = None
        self._lock = threading.Lock()

    def problem(self) -> str | None:
        checkpoints = self.log.checkpoints_latest()
        with self._lock:
            if checkpoints is None:
                if self._largest_seen:
                    return (f"the checkpoints were deleted (one of size {self._largest_seen} "
                            "existed)")
                if not self.log.size():
                    return None
                now = time.monotonic()
                self._uncovered_since = self._uncovered_since or now
                if now - self._uncovered_since > self.GRACE_SECONDS:
                    return "the log has leaves but no signed checkpoint: they were deleted"
                return None
            self._uncovered_since = None
            size, root = checkpoints
            if size < self._largest_seen:
                return (f"the latest checkpoint is of size {size}, but one of size "
                        f"{self._largest_seen} existed: checkpoints were deleted")
            self._largest_seen = size
        try:
            computed = self.log.tree().root(size)
        except Exception as error:
            return f"the tree cannot give the root of the latest checkpoint: {error}"
        if computed != root:
            return (f"the stored tree nodes do not give the root of the latest checkpoint "
                    f"(size {size}): the log was changed in the database")
        return None

