"""Unit tests for the transparency-log core: Merkle tree, proofs, checkpoints, tlog-proof.

The production tree is checked against an independent RFC 9162 reference
written below straight from the RFC text (recursive MTH, PATH, SUBPROOF and the
§2.1.3.2 / §2.1.4.2 verification algorithms), against the published RFC 6962
test vectors, and the signed-note code against the Go ``sumdb/note`` vector.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from functools import cache

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from infrastructure.transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    ProofTextError,
    format_checkpoint,
    format_inclusion_proof_text,
    format_signer_key,
    format_verifier_key,
    key_id,
    open_note,
    open_signed_note,
    parse_checkpoint,
    parse_inclusion_proof_text,
    parse_signer_key,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verify_proof_text,
)
from infrastructure.transparency.merkle import (
    EMPTY_ROOT,
    MemoryNodeStore,
    MerkleTree,
    NodeConflictError,
    NodeKey,
    ProofError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------
# Independent RFC 9162 §2.1 reference (deliberately naive; no production code).
# ---------------------------------------------------------------------------


def _sha256(data: bytes) -> bytes:
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
                value = _sha256(b"")
            elif n == 1:
                value = _sha256(b"\x00" + self.entries[lo])
            else:
                k = _k(n)
                value = _sha256(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi))
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
            r = _sha256(b"\x01" + p + r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            r = _sha256(b"\x01" + r + p)
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
            fr = _sha256(b"\x01" + c + fr)
            sr = _sha256(b"\x01" + c + sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            sr = _sha256(b"\x01" + sr + c)
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


class CountingStore(MemoryNodeStore):
    """Memory store that records how the tree talks to it."""

    def __init__(self) -> None:
        super().__init__()
        self.get_calls: list[list[NodeKey]] = []
        self.size_calls = 0

    def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        self.get_calls.append(list(keys))
        return super().get_many(keys)

    def size(self) -> int:
        self.size_calls += 1
        return super().size()

    def reset(self) -> None:
        self.get_calls.clear()
        self.size_calls = 0


# ---------------------------------------------------------------------------
# Merkle tree
# ---------------------------------------------------------------------------


class TestHashing:
    def test_leaf_hash_is_sha256_of_zero_byte_and_entry(self) -> None:
        assert leaf_hash(b"abc") == _sha256(b"\x00abc")

    def test_node_hash_is_sha256_of_one_byte_and_children(self) -> None:
        left, right = _sha256(b"l"), _sha256(b"r")
        assert node_hash(left, right) == _sha256(b"\x01" + left + right)

    def test_leaf_and_node_hashes_are_domain_separated(self) -> None:
        left, right = _sha256(b"l"), _sha256(b"r")
        assert leaf_hash(left + right) != node_hash(left, right)

    def test_empty_tree_root_is_hash_of_empty_string(self) -> None:
        assert EMPTY_ROOT == _sha256(b"")
        assert MerkleTree(MemoryNodeStore()).root() == EMPTY_ROOT


class TestRfc6962Vectors:
    """The RFC 6962 test tree used by CT and Go's sumdb tlog test suites."""

    LEAVES = (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
    ROOTS = (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )

    @pytest.fixture
    def tree(self) -> MerkleTree:
        tree = MerkleTree(MemoryNodeStore())
        tree.append_many([leaf_hash(bytes.fromhex(x)) for x in self.LEAVES])
        return tree

    def test_roots_of_every_prefix_match_published_values(self, tree: MerkleTree) -> None:
        assert [tree.root(n).hex() for n in range(1, 9)] == list(self.ROOTS)

    def test_reference_reproduces_published_roots(self) -> None:
        ref = Reference([bytes.fromhex(x) for x in self.LEAVES])
        assert [ref.mth(0, n).hex() for n in range(1, 9)] == list(self.ROOTS)

    def test_inclusion_proof_for_leaf_5_of_8_matches_published_path(self, tree: MerkleTree) -> None:
        assert [h.hex() for h in tree.inclusion_proof(5, 8)] == [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ]

    def test_consistency_proofs_match_published_paths(self, tree: MerkleTree) -> None:
        assert [h.hex() for h in tree.consistency_proof(6, 8)] == [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ]
        assert [h.hex() for h in tree.consistency_proof(2, 5)] == [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ]


class TestAppend:
    def test_append_returns_new_size(self) -> None:
        tree = MerkleTree(MemoryNodeStore())
        assert tree.append_many([leaf_hash(b"a")]) == 1
        assert tree.append_many([leaf_hash(b"b"), leaf_hash(b"c")]) == 3
        assert tree.size() == 3

    def test_appending_nothing_keeps_size(self) -> None:
        tree = build_tree(5, 5)
        assert tree.append_many([]) == 5

    def test_stores_exactly_the_completed_perfect_subtrees(self) -> None:
        store = MemoryNodeStore()
        MerkleTree(store).append_many([leaf_hash(e) for e in ENTRIES[:6]])
        stored = set(store.get_many([(lvl, i) for lvl in range(4) for i in range(8)]))
        assert stored == {(0, i) for i in range(6)} | {(1, 0), (1, 1), (1, 2), (2, 0)}

    @pytest.mark.parametrize("value", [b"short", b"x" * 33, "a" * 32])
    def test_rejects_leaf_hash_that_is_not_32_bytes(self, value: object) -> None:
        tree = MerkleTree(MemoryNodeStore())
        with pytest.raises(ValueError, match="32 bytes"):
            tree.append_many([leaf_hash(b"ok"), value])  # type: ignore[list-item]
        assert tree.size() == 0

    def test_concurrent_append_at_same_size_conflicts_and_writes_nothing(self) -> None:
        store = MemoryNodeStore()
        tree = MerkleTree(store)
        tree.append_many([leaf_hash(b"a"), leaf_hash(b"b")])

        class StaleSizeStore(MemoryNodeStore):
            """Sees the tree as it was before another writer's append."""

            def size(self) -> int:
                return 1

            def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
                return store.get_many(keys)

            def put_many(self, items: Sequence[tuple[int, int, bytes]]) -> None:
                store.put_many(items)

        with pytest.raises(NodeConflictError):
            MerkleTree(StaleSizeStore()).append_many([leaf_hash(b"other")])
        assert tree.size() == 2
        assert tree.root() == node_hash(leaf_hash(b"a"), leaf_hash(b"b"))

    def test_new_tree_over_existing_store_continues_from_stored_size(self) -> None:
        store = MemoryNodeStore()
        MerkleTree(store).append_many([leaf_hash(e) for e in ENTRIES[:11]])
        reopened = MerkleTree(store)
        assert reopened.append_many([leaf_hash(e) for e in ENTRIES[11:20]]) == 20
        assert reopened.root() == REF.mth(0, 20)


class TestRoots:
    @pytest.mark.parametrize("batch", [1, 2, 3, 8, 13, MAX_LEAVES])
    def test_root_of_every_historic_size_matches_reference(self, batch: int) -> None:
        tree = build_tree(MAX_LEAVES, batch)
        for size in range(MAX_LEAVES + 1):
            assert tree.root(size) == REF.mth(0, size), size

    def test_root_defaults_to_current_size(self) -> None:
        assert full_tree().root() == REF.mth(0, MAX_LEAVES)

    def test_root_beyond_tree_size_is_rejected(self) -> None:
        with pytest.raises(ProofError, match="exceeds"):
            build_tree(10, 10).root(11)

    def test_negative_root_size_is_rejected(self) -> None:
        with pytest.raises(ProofError):
            build_tree(3, 3).root(-1)


class TestInclusionProofs:
    @pytest.mark.parametrize("batch", [1, 5, 64, MAX_LEAVES])
    def test_every_leaf_of_every_historic_size_matches_reference(self, batch: int) -> None:
        tree = build_tree(MAX_LEAVES, batch)
        for size in range(1, MAX_LEAVES + 1):
            for index in range(size):
                assert tree.inclusion_proof(index, size) == REF.path(index, 0, size), (
                    index,
                    size,
                )

    def test_proofs_verify_with_reference_and_production_verifiers(self) -> None:
        tree = full_tree()
        for size in range(1, MAX_LEAVES + 1):
            root = REF.mth(0, size)
            for index in range(size):
                proof = tree.inclusion_proof(index, size)
                leaf = leaf_hash(ENTRIES[index])
                assert ref_verify_inclusion(leaf, index, size, proof, root)
                assert verify_inclusion(leaf, index, size, proof, root)

    def test_proofs_while_tree_grows_match_proofs_after(self) -> None:
        tree = MerkleTree(MemoryNodeStore())
        for n, entry in enumerate(ENTRIES[:33], start=1):
            tree.append_many([leaf_hash(entry)])
            assert tree.inclusion_proof(n - 1, n) == REF.path(n - 1, 0, n)
            assert tree.inclusion_proof(0, n) == REF.path(0, 0, n)

    @pytest.mark.parametrize(
        ("index", "size"),
        [(0, 0), (5, 5), (6, 5), (-1, 5), (0, MAX_LEAVES + 1), (MAX_LEAVES, MAX_LEAVES + 1)],
    )
    def test_impossible_index_or_size_is_rejected(self, index: int, size: int) -> None:
        with pytest.raises(ProofError):
            full_tree().inclusion_proof(index, size)


class TestConsistencyProofs:
    def test_all_pairs_up_to_40_match_reference(self) -> None:
        tree = full_tree()
        for second in range(1, 41):
            for first in range(1, second + 1):
                assert tree.consistency_proof(first, second) == REF.proof(first, second), (
                    first,
                    second,
                )

    @settings(max_examples=300, deadline=None)
    @given(data=st.data())
    def test_random_pairs_up_to_70_match_reference_and_verify(self, data: st.DataObject) -> None:
        second = data.draw(st.integers(1, MAX_LEAVES), label="second")
        first = data.draw(st.integers(1, second), label="first")
        proof = full_tree().consistency_proof(first, second)
        assert proof == REF.proof(first, second)
        first_root, second_root = REF.mth(0, first), REF.mth(0, second)
        assert verify_consistency(first, second, first_root, second_root, proof)
        if first < second:
            assert ref_verify_consistency(first, second, first_root, second_root, proof)

    def test_equal_sizes_give_empty_proof(self) -> None:
        assert full_tree().consistency_proof(17, 17) == []

    def test_from_empty_tree_gives_empty_proof(self) -> None:
        assert full_tree().consistency_proof(0, 9) == []
        assert verify_consistency(0, 9, EMPTY_ROOT, REF.mth(0, 9), [])

    @pytest.mark.parametrize(
        ("first", "second"),
        [(5, 4), (-1, 3), (3, MAX_LEAVES + 1), (0, MAX_LEAVES + 1), (MAX_LEAVES + 1,) * 2],
    )
    def test_impossible_sizes_are_rejected(self, first: int, second: int) -> None:
        with pytest.raises(ProofError):
            full_tree().consistency_proof(first, second)


@pytest.fixture(scope="module")
def counted() -> tuple[MerkleTree, CountingStore]:
    store = CountingStore()
    tree = MerkleTree(store)
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(1000)]
    for start in range(0, 1000, 97):
        tree.append_many(hashes[start : start + 97])
    return tree, store


class TestStorageAccess:
    """Roots and proofs of any size read O(log n) nodes in one batch."""

    @staticmethod
    def bound(size: int) -> int:
        # Siblings plus the decomposition of one unaligned range, plus the
        # existence check of the last leaf.
        return 2 * max(size, 2).bit_length() + 2

    @pytest.mark.parametrize("size", [1, 2, 3, 500, 511, 512, 513, 999, 1000])
    def test_root_of_historic_size_is_one_batched_read(
        self, counted: tuple[MerkleTree, CountingStore], size: int
    ) -> None:
        tree, store = counted
        store.reset()
        tree.root(size)
        assert len(store.get_calls) == 1
        assert len(store.get_calls[0]) <= self.bound(size)
        assert store.size_calls == 0

    @pytest.mark.parametrize(("index", "size"), [(0, 1), (0, 1000), (999, 1000), (300, 777)])
    def test_inclusion_proof_is_one_batched_read(
        self, counted: tuple[MerkleTree, CountingStore], index: int, size: int
    ) -> None:
        tree, store = counted
        store.reset()
        tree.inclusion_proof(index, size)
        assert len(store.get_calls) == 1
        assert len(store.get_calls[0]) <= self.bound(size)
        assert store.size_calls == 0

    @pytest.mark.parametrize(("first", "second"), [(1, 1000), (999, 1000), (300, 777), (5, 6)])
    def test_consistency_proof_is_one_batched_read(
        self, counted: tuple[MerkleTree, CountingStore], first: int, second: int
    ) -> None:
        tree, store = counted
        store.reset()
        tree.consistency_proof(first, second)
        assert len(store.get_calls) == 1
        assert len(store.get_calls[0]) <= self.bound(second)
        assert store.size_calls == 0

    def test_append_reads_only_the_old_frontier(self) -> None:
        store = CountingStore()
        tree = MerkleTree(store)
        tree.append_many([leaf_hash(b"x")] * 1023)
        store.reset()
        tree.append_many([leaf_hash(b"y")])
        assert [len(keys) for keys in store.get_calls] == [10]


class TestVerification:
    @pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 33, MAX_LEAVES])
    def test_inclusion_with_any_hash_flipped_is_rejected(self, size: int) -> None:
        tree = full_tree()
        root = REF.mth(0, size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            leaf = leaf_hash(ENTRIES[index])
            for position in range(len(proof)):
                tampered = list(proof)
                tampered[position] = flip(tampered[position])
                assert not verify_inclusion(leaf, index, size, tampered, root)
            assert not verify_inclusion(flip(leaf), index, size, proof, root)

    @settings(max_examples=300, deadline=None)
    @given(data=st.data())
    def test_inclusion_with_wrong_index_root_or_size_is_rejected(self, data: st.DataObject) -> None:
        size = data.draw(st.integers(2, MAX_LEAVES), label="size")
        index = data.draw(st.integers(0, size - 1), label="index")
        proof = full_tree().inclusion_proof(index, size)
        leaf, root = leaf_hash(ENTRIES[index]), REF.mth(0, size)
        assert verify_inclusion(leaf, index, size, proof, root)

        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
        assert not verify_inclusion(leaf, other, size, proof, root)
        assert not verify_inclusion(leaf, index, size, proof, flip(root))
        assert not verify_inclusion(leaf, index, size, proof, REF.mth(0, size - 1))
        if len(REF.path(index, 0, size + 1)) != len(proof):
            assert not verify_inclusion(leaf, index, size + 1, proof, root)
        assert not verify_inclusion(leaf, index, size, [*proof, root], root)
        if proof:
            assert not verify_inclusion(leaf, index, size, proof[:-1], root)

    def test_inclusion_proof_longer_than_the_tree_is_tall_is_rejected(self) -> None:
        # Hashing on past the root reproduces a larger tree's root; a size-1
        # tree must still not accept a path of length one.
        leaf0, leaf1 = leaf_hash(ENTRIES[0]), leaf_hash(ENTRIES[1])
        assert node_hash(leaf0, leaf1) == REF.mth(0, 2)
        assert not verify_inclusion(leaf1, 0, 1, [leaf0], REF.mth(0, 2))
        assert not ref_verify_inclusion(leaf1, 0, 1, [leaf0], REF.mth(0, 2))

    def test_inclusion_verifier_rejects_malformed_arguments(self) -> None:
        leaf = leaf_hash(ENTRIES[0])
        assert verify_inclusion(leaf, 0, 1, [], leaf)
        assert not verify_inclusion(leaf, 1, 1, [], leaf)
        assert not verify_inclusion(leaf, -1, 1, [], leaf)
        assert not verify_inclusion(leaf[:31], 0, 1, [], leaf[:31])
        assert not verify_inclusion(leaf, 0, 2, [b"short"], leaf)

    @pytest.mark.parametrize("second", [2, 3, 4, 5, 8, 9, 17, 40])
    def test_consistency_with_any_hash_flipped_is_rejected(self, second: int) -> None:
        tree = full_tree()
        for first in range(1, second):
            proof = tree.consistency_proof(first, second)
            first_root, second_root = REF.mth(0, first), REF.mth(0, second)
            assert verify_consistency(first, second, first_root, second_root, proof)
            for position in range(len(proof)):
                tampered = list(proof)
                tampered[position] = flip(tampered[position], bit=7)
                assert not verify_consistency(first, second, first_root, second_root, tampered)

    @settings(max_examples=300, deadline=None)
    @given(data=st.data())
    def test_consistency_with_wrong_roots_or_sizes_is_rejected(self, data: st.DataObject) -> None:
        second = data.draw(st.integers(2, MAX_LEAVES), label="second")
        first = data.draw(st.integers(1, second - 1), label="first")
        proof = full_tree().consistency_proof(first, second)
        first_root, second_root = REF.mth(0, first), REF.mth(0, second)
        assert not verify_consistency(first, second, flip(first_root), second_root, proof)
        assert not verify_consistency(first, second, first_root, flip(second_root), proof)
        assert not verify_consistency(first, second, second_root, first_root, proof)
        assert not verify_consistency(second, first, first_root, second_root, proof)
        assert not verify_consistency(first, second, first_root, second_root, [])
        # Passed off as a proof for a larger tree it must fail whenever that
        # tree's proofs have another length (same-shaped proofs are
        # indistinguishable by design).
        if len(REF.proof(first, second + 1)) != len(proof):
            assert not verify_consistency(first, second + 1, first_root, second_root, proof)
        assert not verify_consistency(first, second, first_root, second_root, [*proof, proof[0]])
        if first + 1 < second:
            assert not verify_consistency(
                first, second - 1, first_root, REF.mth(0, second - 1), proof
            )

    def test_consistency_of_equal_sizes_needs_equal_roots_and_empty_proof(self) -> None:
        root = REF.mth(0, 5)
        assert verify_consistency(5, 5, root, root, [])
        assert not verify_consistency(5, 5, root, flip(root), [])
        assert not verify_consistency(5, 5, root, root, [root])

    def test_consistency_from_empty_tree_needs_empty_root(self) -> None:
        assert not verify_consistency(0, 5, REF.mth(0, 1), REF.mth(0, 5), [])


# ---------------------------------------------------------------------------
# Signed notes and checkpoints
# ---------------------------------------------------------------------------

GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAc"
    "ElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "custody.example/log"


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def vkey(name: str, key: Ed25519PrivateKey) -> str:
    return format_verifier_key(name, key.public_key())


@pytest.fixture
def log_key() -> Ed25519PrivateKey:
    return new_key()


@pytest.fixture
def signed_checkpoint(log_key: Ed25519PrivateKey) -> str:
    return sign_checkpoint(ORIGIN, MAX_LEAVES, REF.mth(0, MAX_LEAVES), [(ORIGIN, log_key)])


class TestKeys:
    def test_key_id_is_truncated_sha256_of_name_newline_type_and_key(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        raw = log_key.public_key().public_bytes_raw()
        expected = _sha256(ORIGIN.encode() + b"\n" + b"\x01" + raw)[:4]
        assert key_id(ORIGIN, log_key.public_key()) == expected
        assert key_id(ORIGIN, raw) == expected

    def test_verifier_key_string_is_name_hex_id_and_base64_typed_key(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        raw = log_key.public_key().public_bytes_raw()
        kid = _sha256(ORIGIN.encode() + b"\n\x01" + raw)[:4]
        typed_key = base64.b64encode(b"\x01" + raw).decode()
        expected = f"{ORIGIN}+{kid.hex()}+{typed_key}"
        assert vkey(ORIGIN, log_key) == expected

    def test_verifier_key_parses_back(self, log_key: Ed25519PrivateKey) -> None:
        parsed = parse_verifier_key(vkey(ORIGIN, log_key))
        assert parsed.name == ORIGIN
        assert parsed.public_key == log_key.public_key().public_bytes_raw()
        assert parsed.key_id == key_id(ORIGIN, log_key.public_key())
        assert str(parsed) == vkey(ORIGIN, log_key)

    def test_go_reference_keys_round_trip(self) -> None:
        name, key = parse_signer_key(GO_SIGNER_KEY)
        assert name == "PeterNeumann"
        assert format_verifier_key(name, key.public_key()) == GO_VERIFIER_KEY
        assert format_signer_key(name, key) == GO_SIGNER_KEY
        assert str(parse_verifier_key(GO_VERIFIER_KEY)) == GO_VERIFIER_KEY

    @pytest.mark.parametrize(
        "bad",
        [
            "",
            "PeterNeumann",
            "PeterNeumann+c74f20a3",
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!",
        ],
    )
    def test_malformed_or_mismatched_verifier_keys_are_rejected(self, bad: str) -> None:
        with pytest.raises(CheckpointError):
            parse_verifier_key(bad)

    @pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname"])
    def test_invalid_key_names_are_rejected(self, name: str, log_key: Ed25519PrivateKey) -> None:
        with pytest.raises(CheckpointError):
            key_id(name, log_key.public_key())


class TestSignNote:
    def test_reproduces_go_sumdb_note_byte_for_byte(self) -> None:
        assert sign_note(GO_TEXT, [parse_signer_key(GO_SIGNER_KEY)]) == GO_NOTE

    def test_layout_is_body_blank_line_and_em_dash_signature_lines(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        witness = new_key()
        body = format_checkpoint(ORIGIN, 3, REF.mth(0, 3))
        note = sign_note(body, [(ORIGIN, log_key), ("witness.example", witness)])
        assert note.startswith(body + "\n")
        lines = note[len(body) + 1 :].splitlines(keepends=True)
        assert len(lines) == 2
        for line, (name, key) in zip(
            lines, [(ORIGIN, log_key), ("witness.example", witness)], strict=True
        ):
            assert line.startswith("\u2014 " + name + " ")
            assert line.endswith("\n")
            blob = base64.b64decode(line.split(" ")[2])
            assert blob[:4] == key_id(name, key.public_key())
            # Raises if the signature is not over the exact body bytes.
            key.public_key().verify(blob[4:], body.encode())

    def test_checkpoint_body_is_origin_size_and_base64_root(self) -> None:
        root = REF.mth(0, 9)
        expected = f"{ORIGIN}\n9\n{base64.b64encode(root).decode()}\n"
        assert format_checkpoint(ORIGIN, 9, root) == expected

    def test_body_without_trailing_newline_is_rejected(self, log_key: Ed25519PrivateKey) -> None:
        with pytest.raises(CheckpointError, match="newline"):
            sign_note("no newline", [(ORIGIN, log_key)])

    def test_body_with_control_characters_is_rejected(self, log_key: Ed25519PrivateKey) -> None:
        with pytest.raises(CheckpointError, match="control"):
            sign_note("bell\a\n", [(ORIGIN, log_key)])

    def test_note_without_signers_is_rejected(self) -> None:
        with pytest.raises(CheckpointError):
            sign_note("text\n", [])


class TestOpenNote:
    def test_go_reference_note_opens(self) -> None:
        opened = open_signed_note(GO_NOTE, [GO_VERIFIER_KEY])
        assert opened.body == GO_TEXT
        assert opened.signed_by == (GO_VERIFIER_KEY,)

    def test_signed_checkpoint_round_trips(
        self, signed_checkpoint: str, log_key: Ed25519PrivateKey
    ) -> None:
        checkpoint = open_note(signed_checkpoint, [vkey(ORIGIN, log_key)])
        assert checkpoint == Checkpoint(
            origin=ORIGIN,
            size=MAX_LEAVES,
            root_hash=REF.mth(0, MAX_LEAVES),
            signed_by=(vkey(ORIGIN, log_key),),
        )

    def test_accepts_utf8_bytes(self, signed_checkpoint: str, log_key: Ed25519PrivateKey) -> None:
        checkpoint = open_note(signed_checkpoint.encode(), [vkey(ORIGIN, log_key)])
        assert checkpoint.size == MAX_LEAVES

    def test_signatures_of_unknown_keys_are_ignored(self, log_key: Ed25519PrivateKey) -> None:
        stranger = new_key()
        body = format_checkpoint(ORIGIN, 1, REF.mth(0, 1))
        note = sign_note(body, [("stranger.example", stranger), (ORIGIN, log_key)])
        # Garble the stranger's signature: unknown keys are never checked.
        first_line = note.index("\u2014 stranger.example ") + len("\u2014 stranger.example ")
        garbled = note[:first_line] + "AAAAAAAA" + note[first_line + 8 :]
        assert open_note(garbled, [vkey(ORIGIN, log_key)]).signed_by == (vkey(ORIGIN, log_key),)

    def test_note_signed_only_by_unknown_keys_is_rejected(self, signed_checkpoint: str) -> None:
        with pytest.raises(CheckpointError, match="not signed by any known"):
            open_note(signed_checkpoint, [vkey(ORIGIN, new_key())])

    def test_key_with_known_name_but_other_id_counts_as_unknown(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        impostor = new_key()
        note = sign_note(format_checkpoint(ORIGIN, 1, REF.mth(0, 1)), [(ORIGIN, impostor)])
        with pytest.raises(CheckpointError, match="not signed by any known"):
            open_note(note, [vkey(ORIGIN, log_key)])

    def test_tampered_body_is_rejected(
        self, signed_checkpoint: str, log_key: Ed25519PrivateKey
    ) -> None:
        tampered = signed_checkpoint.replace(f"\n{MAX_LEAVES}\n", f"\n{MAX_LEAVES + 1}\n")
        with pytest.raises(CheckpointError, match="does not verify"):
            open_note(tampered, [vkey(ORIGIN, log_key)])

    def test_invalid_signature_of_known_key_rejects_even_with_another_valid_one(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        witness = new_key()
        body = format_checkpoint(ORIGIN, 2, REF.mth(0, 2))
        good = sign_note(body, [(ORIGIN, log_key)])
        other_note = sign_note("other text\n", [("witness.example", witness)])
        note = good + other_note.split("\n\n")[1]
        with pytest.raises(CheckpointError, match=r"witness\.example"):
            open_note(note, [vkey(ORIGIN, log_key), vkey("witness.example", witness)])
        # Without the witness key configured, its bad signature is just unknown.
        assert open_note(note, [vkey(ORIGIN, log_key)]).size == 2

    def test_expected_origin_is_enforced(
        self, signed_checkpoint: str, log_key: Ed25519PrivateKey
    ) -> None:
        assert open_note(signed_checkpoint, [vkey(ORIGIN, log_key)], origin=ORIGIN).size
        with pytest.raises(CheckpointError, match="origin"):
            open_note(signed_checkpoint, [vkey(ORIGIN, log_key)], origin="other.example/log")

    def test_extension_lines_are_kept(self, log_key: Ed25519PrivateKey) -> None:
        body = format_checkpoint(ORIGIN, 1, REF.mth(0, 1), ["ext one"])
        checkpoint = open_note(sign_note(body, [(ORIGIN, log_key)]), [vkey(ORIGIN, log_key)])
        assert checkpoint.extensions == ("ext one",)
        assert checkpoint.body() == body

    @pytest.mark.parametrize(
        "body",
        [
            f"{ORIGIN}\n1\n",
            f"{ORIGIN}\n01\n{base64.b64encode(bytes(32)).decode()}\n",
            f"{ORIGIN}\n-1\n{base64.b64encode(bytes(32)).decode()}\n",
            f"{ORIGIN}\n1\n{base64.b64encode(bytes(31)).decode()}\n",
            f"{ORIGIN}\n1\nnot base64!\n",
            f"\n1\n{base64.b64encode(bytes(32)).decode()}\n",
        ],
    )
    def test_malformed_checkpoint_bodies_are_rejected(
        self, body: str, log_key: Ed25519PrivateKey
    ) -> None:
        with pytest.raises(CheckpointError):
            parse_checkpoint(body)
        with pytest.raises(CheckpointError):
            open_note(sign_note(body, [(ORIGIN, log_key)]), [vkey(ORIGIN, log_key)])

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda n: n.replace("\n\n", "\n"),
            lambda n: n.replace("\u2014", "-"),
            lambda n: n.rstrip("\n"),
            lambda n: n + "\n",
            lambda n: n.replace("\n", "\r\n"),
        ],
        ids=["no-blank-line", "ascii-dash", "no-final-newline", "trailing-blank", "crlf"],
    )
    def test_malformed_notes_are_rejected(
        self, mangle: Callable[[str], str], signed_checkpoint: str, log_key: Ed25519PrivateKey
    ) -> None:
        with pytest.raises(CheckpointError):
            open_note(mangle(signed_checkpoint), [vkey(ORIGIN, log_key)])

    def test_ambiguous_verifier_keys_are_rejected(self, signed_checkpoint: str) -> None:
        good = parse_verifier_key(vkey(ORIGIN, new_key()))
        clash = type(good)(good.name, good.key_id, new_key().public_key().public_bytes_raw())
        with pytest.raises(CheckpointError, match="share name"):
            open_note(signed_checkpoint, [good, clash])


class TestKeyRotation:
    @pytest.fixture
    def rotation(self) -> tuple[str, str, str]:
        old, new = new_key(), new_key()
        note = sign_checkpoint(ORIGIN, 5, REF.mth(0, 5), [(ORIGIN, old), (ORIGIN, new)])
        return note, vkey(ORIGIN, old), vkey(ORIGIN, new)

    def test_note_signed_by_old_and_new_key_verifies_with_old_key_alone(
        self, rotation: tuple[str, str, str]
    ) -> None:
        note, old, _ = rotation
        assert open_note(note, [old]).signed_by == (old,)

    def test_note_signed_by_old_and_new_key_verifies_with_new_key_alone(
        self, rotation: tuple[str, str, str]
    ) -> None:
        note, _, new = rotation
        assert open_note(note, [new]).signed_by == (new,)

    def test_both_keys_are_reported_when_both_are_trusted(
        self, rotation: tuple[str, str, str]
    ) -> None:
        note, old, new = rotation
        assert open_note(note, [new, old]).signed_by == (old, new)


# ---------------------------------------------------------------------------
# tlog-proof texts
# ---------------------------------------------------------------------------


class TestProofText:
    INDEX = 37

    @pytest.fixture
    def proof_text(self, signed_checkpoint: str) -> str:
        proof = full_tree().inclusion_proof(self.INDEX, MAX_LEAVES)
        return format_inclusion_proof_text(self.INDEX, proof, signed_checkpoint)

    def test_layout_is_header_index_hashes_blank_line_and_checkpoint(
        self, proof_text: str, signed_checkpoint: str
    ) -> None:
        proof = full_tree().inclusion_proof(self.INDEX, MAX_LEAVES)
        expected = (
            "c2sp.org/tlog-proof@v1\n"
            f"index {self.INDEX}\n"
            + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
            + "\n"
            + signed_checkpoint
        )
        assert proof_text == expected

    def test_parses_back_to_its_parts(self, proof_text: str, signed_checkpoint: str) -> None:
        parsed = parse_inclusion_proof_text(proof_text)
        assert parsed.index == self.INDEX
        assert list(parsed.proof) == full_tree().inclusion_proof(self.INDEX, MAX_LEAVES)
        assert parsed.checkpoint_note == signed_checkpoint
        assert parsed.extra is None

    def test_verifies_leaf_and_returns_checkpoint(
        self, proof_text: str, log_key: Ed25519PrivateKey
    ) -> None:
        checkpoint = verify_proof_text(
            proof_text, leaf_hash(ENTRIES[self.INDEX]), [vkey(ORIGIN, log_key)], origin=ORIGIN
        )
        assert (checkpoint.size, checkpoint.root_hash) == (MAX_LEAVES, REF.mth(0, MAX_LEAVES))

    def test_other_leaf_is_rejected(self, proof_text: str, log_key: Ed25519PrivateKey) -> None:
        with pytest.raises(ProofTextError, match="does not lead"):
            verify_proof_text(proof_text, leaf_hash(ENTRIES[0]), [vkey(ORIGIN, log_key)])

    def test_wrong_index_is_rejected(self, proof_text: str, log_key: Ed25519PrivateKey) -> None:
        moved = proof_text.replace(f"index {self.INDEX}\n", f"index {self.INDEX + 1}\n")
        with pytest.raises(ProofTextError):
            verify_proof_text(moved, leaf_hash(ENTRIES[self.INDEX]), [vkey(ORIGIN, log_key)])

    def test_tampered_proof_hash_is_rejected(
        self, proof_text: str, log_key: Ed25519PrivateKey
    ) -> None:
        lines = proof_text.split("\n")
        lines[3] = base64.b64encode(flip(base64.b64decode(lines[3]))).decode()
        with pytest.raises(ProofTextError):
            verify_proof_text(
                "\n".join(lines), leaf_hash(ENTRIES[self.INDEX]), [vkey(ORIGIN, log_key)]
            )

    def test_checkpoint_from_untrusted_key_is_rejected(self, proof_text: str) -> None:
        with pytest.raises(CheckpointError, match="not signed by any known"):
            verify_proof_text(proof_text, leaf_hash(ENTRIES[self.INDEX]), [vkey(ORIGIN, new_key())])

    def test_single_leaf_tree_has_no_hash_lines(self, log_key: Ed25519PrivateKey) -> None:
        note = sign_checkpoint(ORIGIN, 1, REF.mth(0, 1), [(ORIGIN, log_key)])
        text = format_inclusion_proof_text(0, [], note)
        assert text == "c2sp.org/tlog-proof@v1\nindex 0\n\n" + note
        assert verify_proof_text(text, leaf_hash(ENTRIES[0]), [vkey(ORIGIN, log_key)]).size == 1

    def test_extra_data_round_trips(self, signed_checkpoint: str) -> None:
        text = format_inclusion_proof_text(
            self.INDEX,
            full_tree().inclusion_proof(self.INDEX, MAX_LEAVES),
            signed_checkpoint,
            extra=b"context",
        )
        assert text.split("\n")[1] == "extra " + base64.b64encode(b"context").decode()
        assert parse_inclusion_proof_text(text).extra == b"context"

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda t: t.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
            lambda t: t.replace("index ", "idx "),
            lambda t: t.replace("index 37", "index 037"),
            lambda t: t.replace("\n\n", "\n", 1),
            lambda t: t.replace("=\n", "\n", 1),
        ],
        ids=["header", "index-keyword", "leading-zero", "no-blank-line", "bad-base64"],
    )
    def test_malformed_proof_texts_are_rejected(
        self, mangle: Callable[[str], str], proof_text: str
    ) -> None:
        with pytest.raises(ProofTextError):
            parse_inclusion_proof_text(mangle(proof_text))
