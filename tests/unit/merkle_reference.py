"""An independent RFC 9162 §2.1 reference for the transparency-log tests, and the trees
they share (not a test module: ``tests/unit/test_merkle.py`` and
``tests/unit/test_checkpoint.py`` import it).

Written straight from the RFC text (recursive MTH, PATH, SUBPROOF and the §2.1.3.2 /
§2.1.4.2 verification algorithms); it uses no production code but the tree it builds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache

from infrastructure.transparency.merkle import MemoryNodeStore, MerkleTree, leaf_hash

# ---------------------------------------------------------------------------
# Independent RFC 9162 §2.1 reference (deliberately naive; no production code).
# ---------------------------------------------------------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    """MTH / PATH / PROOF over a list of entries D, exactly as RFC 9162 §2.1 states."""

    def __init__(self, entries: Sequence[bytes]) -> None:
        self.entries = tuple(entries)
        self._mth: dict[tuple[int, int], bytes] = {}

    def mth(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]); memoised only to keep thousands of comparisons quick."""
        if (lo, hi) not in self._mth:
            n = hi - lo
            if n == 0:
                value = sha256(b"")
            elif n == 1:
                value = sha256(b"\x00" + self.entries[lo])
            else:
                k = _k(n)
                value = sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi))
            self._mth[(lo, hi)] = value
        return self._mth[(lo, hi)]

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        """PATH(m, D[lo:hi]) with m relative to lo."""
        n = hi - lo
        if n == 1:
            return []
        k = _k(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[n]) = SUBPROOF(m, D[n], true)."""
        return self.subproof(m, 0, n, True)

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = _k(n)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]


def ref_verify_inclusion(
    leaf: bytes, leaf_index: int, tree_size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2, step by step."""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            r = sha256(b"\x01" + r + p)
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def ref_verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, step by step (defined for 0 < first < second)."""
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:
        path = [first_hash, *path]
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn //= 2
        sn //= 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = sha256(b"\x01" + c + fr)
            sr = sha256(b"\x01" + c + sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            sr = sha256(b"\x01" + sr + c)
        fn //= 2
        sn //= 2
    return fr == first_hash and sr == second_hash and sn == 0


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------

MAX_LEAVES = 70
# One spare entry so the reference can describe a tree one larger than any built.
ENTRIES = [f"custody-event-{i}".encode() for i in range(MAX_LEAVES + 1)]
REF = Reference(ENTRIES)


def build_tree(count: int, batch: int) -> MerkleTree:
    tree = MerkleTree(MemoryNodeStore())
    hashes = [leaf_hash(e) for e in ENTRIES[:count]]
    for start in range(0, count, batch):
        tree.append_many(hashes[start : start + batch])
    return tree


@cache
def full_tree() -> MerkleTree:
    # Odd batch size so batches end at unaligned positions.
    return build_tree(MAX_LEAVES, 7)


def flip(data: bytes, bit: int = 0) -> bytes:
    return bytes([data[0] ^ (1 << bit)]) + data[1:]
