"""Unit tests for the Merkle tree and its proofs (``infrastructure/transparency/merkle.py``).

The production tree is checked against an independent RFC 9162 reference
(:mod:`tests.unit.merkle_reference`, written straight from the RFC text) and against the
published RFC 6962 test vectors. Signed notes, checkpoints and tlog-proof texts are in
``tests/unit/test_checkpoint.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from tests.unit.merkle_reference import (
    ENTRIES,
    MAX_LEAVES,
    REF,
    Reference,
    build_tree,
    flip,
    full_tree,
    ref_verify_consistency,
    ref_verify_inclusion,
    sha256,
)


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
        assert leaf_hash(b"abc") == sha256(b"\x00abc")

    def test_node_hash_is_sha256_of_one_byte_and_children(self) -> None:
        left, right = sha256(b"l"), sha256(b"r")
        assert node_hash(left, right) == sha256(b"\x01" + left + right)

    def test_leaf_and_node_hashes_are_domain_separated(self) -> None:
        left, right = sha256(b"l"), sha256(b"r")
        assert leaf_hash(left + right) != node_hash(left, right)

    def test_empty_tree_root_is_hash_of_empty_string(self) -> None:
        assert EMPTY_ROOT == sha256(b"")
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
