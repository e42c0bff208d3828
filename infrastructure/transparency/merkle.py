"""RFC 9162 (Certificate Transparency v2) Merkle tree for the custody transparency log.

Every stored custody event becomes one leaf of an append-only Merkle tree.  This
module holds the hashing rules, an append-only tree over a pluggable node store,
proof generation for any historic tree size, and the proof verification
algorithms that the offline verifier runs.

Storage model
-------------
A :class:`NodeStore` keeps only hashes of *perfect* subtrees, keyed by
``(level, index)``: the node at ``(level, index)`` covers leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes.
A perfect subtree never changes once its last leaf exists, so the stored nodes
are immutable and serve every historic tree size, not only the current one.

Any subtree hash the RFC algorithms ask for (``MTH(D[a:b])``) is the right fold
of at most ``log2(n)`` stored perfect subtrees, because the RFC always splits a
range at the largest power of two below its length.  Roots and proofs are
therefore answered by working out which perfect-subtree keys they need, reading
them with a single :meth:`NodeStore.get_many` call, and combining them in
memory: O(log n) reads and hashes, never a rebuild from leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryNodeStore",
    "MerkleTree",
    "MissingNodeError",
    "NodeConflictError",
    "NodeKey",
    "NodeStore",
    "ProofError",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""RFC 9162 §2.1.1: the hash of an empty tree is the hash of the empty string."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

NodeKey = tuple[int, int]
"""``(level, index)`` of a perfect subtree; level 0 is a leaf."""


class ProofError(ValueError):
    """A root or proof was requested for arguments no tree can satisfy.

    Examples: a leaf index at or beyond the tree size, ``first > second`` for a
    consistency proof, or a size larger than the tree currently holds.
    """


class NodeConflictError(RuntimeError):
    """A node being appended already exists in the store.

    Raised when two writers append concurrently: both read the same tree size
    and both try to write leaf ``size``.  The loser's batch is not written and
    may simply be retried against the new size.
    """


class MissingNodeError(RuntimeError):
    """The store claims a tree size but lacks a node that size requires.

    This means the store is damaged (rows deleted or written outside
    :class:`MerkleTree`), never that the caller asked for something wrong.
    """


def leaf_hash(entry: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


class NodeStore(Protocol):
    """Persistent map of perfect-subtree hashes, keyed by ``(level, index)``.

    Implementations must make :meth:`put_many` atomic (all items or none) and
    must refuse to overwrite an existing key, raising :class:`NodeConflictError`;
    that refusal is what makes concurrent appends safe.
    """

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the hashes stored under ``keys``; absent keys are left out."""
        ...

    def put_many(self, items: Sequence[tuple[int, int, bytes]]) -> None:
        """Store ``(level, index, hash)`` items atomically."""
        ...

    def size(self) -> int:
        """Return the number of leaves (level-0 nodes) stored."""
        ...


class MemoryNodeStore:
    """In-process :class:`NodeStore`, for tests and as a reference for the SQL stores."""

    def __init__(self) -> None:
        self._nodes: dict[NodeKey, bytes] = {}
        self._size = 0

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        nodes = self._nodes
        return {key: nodes[key] for key in keys if key in nodes}

    def put_many(self, items: Sequence[tuple[int, int, bytes]]) -> None:
        nodes = self._nodes
        # Check everything before writing anything so a conflict leaves the
        # store untouched, matching the transactional SQL stores.
        for level, index, _ in items:
            if (level, index) in nodes:
                raise NodeConflictError(f"node ({level}, {index}) already exists")
        leaves = self._size
        for level, index, digest in items:
            nodes[(level, index)] = digest
            if level == 0 and index >= leaves:
                leaves = index + 1
        self._size = leaves

    def size(self) -> int:
        return self._size

    def items(self) -> dict[NodeKey, bytes]:
        """Every node held (a copy): what a stored tree of the same leaves must hold."""
        return dict(self._nodes)


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``), as in RFC 9162."""
    return 1 << ((n - 1).bit_length() - 1)


def _cover(start: int, end: int) -> list[NodeKey]:
    """Perfect subtrees whose right fold is ``MTH(D[start:end])``, largest first.

    Only valid for ranges the RFC recursion produces: ``start`` is a multiple of
    the highest power of two in ``end - start``, so taking the set bits of the
    length from high to low yields aligned, stored perfect subtrees.
    """
    keys: list[NodeKey] = []
    remaining = end - start
    while remaining:
        level = remaining.bit_length() - 1
        keys.append((level, start >> level))
        width = 1 << level
        start += width
        remaining -= width
    return keys


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {value!r:.80}")
    return value


class MerkleTree:
    """Append-only RFC 9162 Merkle tree whose nodes live in a :class:`NodeStore`.

    The tree keeps no state of its own beyond the store, so several
    ``MerkleTree`` objects (or processes) over the same store agree, and a tree
    reopened over an existing store continues from the stored size.
    """

    def __init__(self, store: NodeStore) -> None:
        self._store = store

    @property
    def store(self) -> NodeStore:
        return self._store

    def size(self) -> int:
        """Number of leaves currently in the tree."""
        return self._store.size()

    def append_many(self, leaf_hashes: Sequence[bytes]) -> int:
        """Append leaf hashes (see :func:`leaf_hash`) and return the new tree size.

        Stores each new leaf and every perfect subtree the new leaves complete,
        in one :meth:`NodeStore.put_many` call.  If another writer appended in
        between, the store raises :class:`NodeConflictError` and nothing is
        written.
        """
        for position, digest in enumerate(leaf_hashes):
            _check_hash(digest, f"leaf hash #{position}")
        start = self._store.size()
        if not leaf_hashes:
            return start
        end = start + len(leaf_hashes)

        # A new node's left child can predate this batch; such children are
        # exactly the perfect subtrees of the old tree (its "frontier").
        frontier = self._store.get_many(_cover(0, start)) if start else {}

        items: list[tuple[int, int, bytes]] = [
            (0, index, digest) for index, digest in enumerate(leaf_hashes, start)
        ]
        # ``below`` holds the new hashes one level down, starting at index ``below_lo``.
        below = list(leaf_hashes)
        below_lo = start
        level = 1
        while True:
            lo = start >> level
            hi = end >> level
            if lo >= hi:
                # No node completed at this level, so none can be above it.
                break
            current: list[bytes] = []
            for index in range(lo, hi):
                left_index = 2 * index
                if left_index >= below_lo:
                    left = below[left_index - below_lo]
                else:
                    key = (level - 1, left_index)
                    found = frontier.get(key)
                    if found is None:
                        raise MissingNodeError(f"store holds {start} leaves but lacks node {key}")
                    left = found
                right = below[left_index + 1 - below_lo]
                digest = node_hash(left, right)
                current.append(digest)
                items.append((level, index, digest))
            below = current
            below_lo = lo
            level += 1

        self._store.put_many(items)
        return end

    def root(self, size: int | None = None) -> bytes:
        """RFC 9162 ``MTH`` of the first ``size`` leaves (default: the whole tree)."""
        if size is None:
            size = self._store.size()
        elif size < 0:
            raise ProofError(f"tree size must be >= 0, got {size}")
        if size == 0:
            return EMPTY_ROOT
        return self._hash_ranges([(0, size)], size)[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 ``PATH(index, D[0:size])``, leaf sibling first."""
        if not 0 <= index < size:
            raise ProofError(f"leaf index {index} is outside a tree of size {size}")
        # Walk from the root down to the leaf, recording the sibling range at
        # each split; PATH lists them bottom-up, hence the reverse at the end.
        ranges: list[tuple[int, int]] = []
        lo, hi = 0, size
        while hi - lo > 1:
            k = _split(hi - lo)
            if index < lo + k:
                ranges.append((lo + k, hi))
                hi = lo + k
            else:
                ranges.append((lo, lo + k))
                lo += k
        ranges.reverse()
        return self._hash_ranges(ranges, size)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 ``PROOF(first, D[0:second])``.

        ``first == second`` and ``first == 0`` give an empty proof: there is
        nothing to prove, but ``second`` must still exist in the tree.
        """
        if first < 0 or first > second:
            raise ProofError(
                f"consistency needs 0 <= first <= second, got first={first}, second={second}"
            )
        if first == 0 or first == second:
            self._check_size_exists(second)
            return []
        # Iterative SUBPROOF(m, D[lo:hi], b): m is relative to lo, and b records
        # whether D[lo:hi] is still known to be the old tree's own root.
        ranges: list[tuple[int, int]] = []
        lo, hi, m, whole = 0, second, first, True
        while True:
            n = hi - lo
            if m == n:
                if not whole:
                    ranges.append((lo, hi))
                break
            k = _split(n)
            if m <= k:
                ranges.append((lo + k, hi))
                hi = lo + k
            else:
                ranges.append((lo, lo + k))
                lo += k
                m -= k
                whole = False
        ranges.reverse()
        return self._hash_ranges(ranges, second)

    def _check_size_exists(self, size: int) -> None:
        if size and size > self._store.size():
            raise ProofError(f"tree size {size} exceeds the {self._store.size()} leaves stored")

    def _hash_ranges(self, ranges: Sequence[tuple[int, int]], size: int) -> list[bytes]:
        """Hash each RFC range with one batched read of the perfect subtrees involved."""
        covers = [_cover(lo, hi) for lo, hi in ranges]
        # The last leaf of the requested size is fetched even when no range
        # needs it: its presence proves the tree really reached ``size``, which
        # an inclusion proof for that very leaf would otherwise never check.
        wanted: dict[NodeKey, None] = {(0, size - 1): None}
        for cover in covers:
            wanted.update(dict.fromkeys(cover))
        found = self._store.get_many(list(wanted))
        if len(found) != len(wanted):
            stored = self._store.size()
            if size > stored:
                raise ProofError(f"tree size {size} exceeds the {stored} leaves stored")
            missing = sorted(key for key in wanted if key not in found)
            raise MissingNodeError(f"store holds {stored} leaves but lacks nodes {missing}")

        hashes: list[bytes] = []
        for cover in covers:
            digest = found[cover[-1]]
            for key in reversed(cover[:-1]):
                digest = node_hash(found[key], digest)
            hashes.append(digest)
        return hashes


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` place ``leaf_hash`` at ``index`` under ``root``?

    Returns ``False`` rather than raising for any malformed input, because a
    verifier handles untrusted data and only needs a yes/no answer.
    """
    if not 0 <= index < size:
        return False
    if not _all_hashes([leaf_hash, root, *proof]):
        return False
    fn = index
    sn = size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of size ``first`` a prefix of the one of size ``second``?

    The RFC algorithm covers ``0 < first < second``; the degenerate cases follow
    :meth:`MerkleTree.consistency_proof`: equal sizes need an empty proof and
    equal roots, and ``first == 0`` needs an empty proof and the empty-tree root.
    """
    if not 0 <= first <= second:
        return False
    if not _all_hashes([first_root, second_root, *proof]):
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        # The old root is itself a perfect subtree of the new tree, so the
        # proof omits it and the verifier supplies it.
        path.insert(0, first_root)
    fn = first - 1
    sn = second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def _all_hashes(values: Sequence[object]) -> bool:
    return all(isinstance(v, bytes) and len(v) == HASH_SIZE for v in values)
