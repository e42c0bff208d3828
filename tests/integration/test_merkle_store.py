"""Integration tests: the Merkle tree over the SQLite and PostgreSQL node stores.

Every behaviour is compared with the in-memory store, whose tree is itself
checked in ``tests/unit/test_merkle.py`` against the RFC 9162 reference in
``tests/unit/merkle_reference.py``.  The PostgreSQL tests create a throwaway
database on the server at 127.0.0.1:5432 (user ``postgres``, trust auth) and
drop it afterwards.
"""

from __future__ import annotations

import random
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import ConnectionPool

from infrastructure.transparency.merkle import (
    EMPTY_ROOT,
    MemoryNodeStore,
    MerkleTree,
    NodeConflictError,
    NodeKey,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from infrastructure.transparency.sql_store import PostgresNodeStore, SQLiteNodeStore

ADMIN_CONNINFO = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"

SqlStore = SQLiteNodeStore | PostgresNodeStore
StoreFactory = Callable[[], SqlStore]

LEAVES = [leaf_hash(f"event-{i}".encode()) for i in range(300)]
BATCHES = [1, 2, 5, 31, 64, 97, 100]  # sums to 300; batch ends fall on odd positions


@pytest.fixture(scope="module")
def pg_conninfo() -> Iterator[str]:
    try:
        admin = psycopg.connect(ADMIN_CONNINFO, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    name = f"custody_test_merkle_{secrets.token_hex(6)}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"host=127.0.0.1 port=5432 user=postgres dbname={name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Factory for store objects over one fresh table; each call is a new connection."""
    opened: list[SqlStore] = []

    if request.param == "sqlite":
        path = tmp_path / "merkle.sqlite3"

        def factory() -> SqlStore:
            store = SQLiteNodeStore(path)
            opened.append(store)
            return store

    else:
        conninfo: str = request.getfixturevalue("pg_conninfo")
        table = f"merkle_nodes_{secrets.token_hex(4)}"

        def factory() -> SqlStore:
            store = PostgresNodeStore(conninfo, table=table)
            opened.append(store)
            return store

    yield factory
    for store in opened:
        store.close()


def append_in_batches(tree: MerkleTree, leaves: Sequence[bytes], batches: Sequence[int]) -> None:
    start = 0
    for count in batches:
        tree.append_many(leaves[start : start + count])
        start += count


@pytest.fixture
def memory_tree() -> MerkleTree:
    tree = MerkleTree(MemoryNodeStore())
    tree.append_many(LEAVES)
    return tree


class TestTreeOnSqlStores:
    def test_empty_store_has_size_zero_and_empty_root(self, open_store: StoreFactory) -> None:
        tree = MerkleTree(open_store())
        assert tree.size() == 0
        assert tree.root() == EMPTY_ROOT

    def test_roots_of_every_size_match_memory_store(
        self, open_store: StoreFactory, memory_tree: MerkleTree
    ) -> None:
        tree = MerkleTree(open_store())
        append_in_batches(tree, LEAVES, BATCHES)
        assert tree.size() == len(LEAVES)
        for size in range(len(LEAVES) + 1):
            assert tree.root(size) == memory_tree.root(size), size

    def test_inclusion_proofs_match_memory_store_and_verify(
        self, open_store: StoreFactory, memory_tree: MerkleTree
    ) -> None:
        tree = MerkleTree(open_store())
        append_in_batches(tree, LEAVES, BATCHES)
        rng = random.Random(1)
        pairs = [(i, n) for n in range(1, 41) for i in range(n)]
        pairs += [(rng.randrange(n), n) for n in (rng.randint(41, 300) for _ in range(200))]
        for index, size in pairs:
            proof = tree.inclusion_proof(index, size)
            assert proof == memory_tree.inclusion_proof(index, size), (index, size)
            assert verify_inclusion(LEAVES[index], index, size, proof, memory_tree.root(size))

    def test_consistency_proofs_match_memory_store_and_verify(
        self, open_store: StoreFactory, memory_tree: MerkleTree
    ) -> None:
        tree = MerkleTree(open_store())
        append_in_batches(tree, LEAVES, BATCHES)
        rng = random.Random(2)
        pairs = [(m, n) for n in range(1, 25) for m in range(0, n + 1)]
        pairs += [(rng.randint(1, n), n) for n in (rng.randint(25, 300) for _ in range(200))]
        for first, second in pairs:
            proof = tree.consistency_proof(first, second)
            assert proof == memory_tree.consistency_proof(first, second), (first, second)
            assert verify_consistency(
                first, second, memory_tree.root(first), memory_tree.root(second), proof
            )

    def test_sizes_beyond_the_stored_tree_are_rejected(self, open_store: StoreFactory) -> None:
        tree = MerkleTree(open_store())
        tree.append_many(LEAVES[:10])
        with pytest.raises(ProofError):
            tree.root(11)
        with pytest.raises(ProofError):
            tree.inclusion_proof(10, 11)
        with pytest.raises(ProofError):
            tree.consistency_proof(5, 11)

    def test_reopened_store_continues_from_stored_size(
        self, open_store: StoreFactory, memory_tree: MerkleTree
    ) -> None:
        first = open_store()
        MerkleTree(first).append_many(LEAVES[:137])
        first.close()

        reopened = MerkleTree(open_store())
        assert reopened.size() == 137
        assert reopened.root() == memory_tree.root(137)
        assert reopened.append_many(LEAVES[137:]) == len(LEAVES)
        assert reopened.root() == memory_tree.root()
        assert reopened.consistency_proof(137, len(LEAVES)) == memory_tree.consistency_proof(
            137, len(LEAVES)
        )

    def test_get_many_returns_only_stored_keys(self, open_store: StoreFactory) -> None:
        store = open_store()
        MerkleTree(store).append_many(LEAVES[:3])
        keys: list[NodeKey] = [(0, 0), (0, 2), (0, 3), (1, 0), (1, 1), (5, 0)]
        assert store.get_many(keys) == {
            (0, 0): LEAVES[0],
            (0, 2): LEAVES[2],
            (1, 0): MerkleTree(store).root(2),
        }
        assert store.get_many([]) == {}

    def test_large_get_many_is_answered_completely(self, open_store: StoreFactory) -> None:
        store = open_store()
        MerkleTree(store).append_many(LEAVES)
        keys: list[NodeKey] = [(0, i) for i in range(len(LEAVES))]
        assert store.get_many(keys) == {(0, i): h for i, h in enumerate(LEAVES)}

    def test_stale_appender_conflicts_and_its_whole_batch_is_discarded(
        self, open_store: StoreFactory, memory_tree: MerkleTree
    ) -> None:
        store = open_store()
        MerkleTree(store).append_many(LEAVES[:20])

        class StaleView:
            """Another writer that still believes the tree has 18 leaves."""

            def size(self) -> int:
                return 18

            def get_many(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
                return store.get_many(keys)

            def put_many(self, items: Sequence[tuple[int, int, bytes]]) -> None:
                store.put_many(items)

        with pytest.raises(NodeConflictError):
            MerkleTree(StaleView()).append_many([leaf_hash(b"fork") for _ in range(8)])
        assert store.size() == 20
        assert store.get_many([(0, 20), (0, 25)]) == {}
        assert MerkleTree(store).root() == memory_tree.root(20)
        # The losing writer can retry against the real size.
        assert MerkleTree(store).append_many(LEAVES[20:30]) == 30


class TestCallerTransactions:
    """``store.using(conn)`` makes leaf appends part of the caller's transaction."""

    def test_sqlite_append_commits_with_callers_transaction(self, tmp_path: Path) -> None:
        path = tmp_path / "events.sqlite3"
        with SQLiteNodeStore(path) as store, SQLiteNodeStore(path) as observer:
            conn = sqlite3.connect(path)
            try:
                conn.execute("CREATE TABLE events (body TEXT)")
                with conn:
                    conn.execute("INSERT INTO events VALUES ('e0')")
                    MerkleTree(store.using(conn)).append_many(LEAVES[:1])
                    assert observer.size() == 0
                assert observer.size() == 1
                assert conn.execute("SELECT count(*) FROM events").fetchone() == (1,)
            finally:
                conn.close()

    def test_sqlite_append_rolls_back_with_callers_transaction(self, tmp_path: Path) -> None:
        path = tmp_path / "events.sqlite3"
        with SQLiteNodeStore(path) as store:
            MerkleTree(store).append_many(LEAVES[:5])
            conn = sqlite3.connect(path)
            try:
                with pytest.raises(RuntimeError), conn:
                    MerkleTree(store.using(conn.cursor())).append_many(LEAVES[5:9])
                    raise RuntimeError("event write failed")
            finally:
                conn.close()
            assert store.size() == 5

    def test_postgres_append_commits_with_callers_transaction(self, pg_conninfo: str) -> None:
        table = f"merkle_nodes_{secrets.token_hex(4)}"
        with (
            PostgresNodeStore(pg_conninfo, table=table) as store,
            psycopg.connect(pg_conninfo, autocommit=True) as conn,
        ):
            conn.execute("CREATE TEMP TABLE events (body text)")
            with conn.transaction():
                conn.execute("INSERT INTO events VALUES ('e0'), ('e1')")
                MerkleTree(store.using(conn)).append_many(LEAVES[:2])
                assert store.size() == 0  # not yet visible to other connections
            assert store.size() == 2
            assert MerkleTree(store).root() == MerkleTree(store.using(conn)).root()

    def test_postgres_append_rolls_back_with_callers_transaction(self, pg_conninfo: str) -> None:
        table = f"merkle_nodes_{secrets.token_hex(4)}"
        with (
            PostgresNodeStore(pg_conninfo, table=table) as store,
            psycopg.connect(pg_conninfo, autocommit=True) as conn,
        ):
            MerkleTree(store).append_many(LEAVES[:3])
            with pytest.raises(RuntimeError), conn.transaction(), conn.cursor() as cur:
                MerkleTree(store.using(cur)).append_many(LEAVES[3:7])
                raise RuntimeError("event write failed")
            assert store.size() == 3


class TestPostgresConnectionSources:
    def test_store_over_a_connection_pool(self, pg_conninfo: str, memory_tree: MerkleTree) -> None:
        with ConnectionPool(pg_conninfo, min_size=1, max_size=2, open=True) as pool:
            store = PostgresNodeStore(pool, table="pooled_nodes")
            tree = MerkleTree(store)
            append_in_batches(tree, LEAVES[:100], [10, 40, 50])
            assert tree.root() == memory_tree.root(100)
            assert tree.inclusion_proof(42, 77) == memory_tree.inclusion_proof(42, 77)

    def test_store_over_a_non_autocommit_connection_leaves_it_idle(
        self, pg_conninfo: str, memory_tree: MerkleTree
    ) -> None:
        with psycopg.connect(pg_conninfo) as conn:
            store = PostgresNodeStore(conn, table="shared_conn_nodes")
            tree = MerkleTree(store)
            tree.append_many(LEAVES[:50])
            assert tree.root(33) == memory_tree.root(33)
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with PostgresNodeStore(pg_conninfo, table="shared_conn_nodes") as other:
            assert other.size() == 50

    def test_table_in_its_own_schema(self, pg_conninfo: str, memory_tree: MerkleTree) -> None:
        with PostgresNodeStore(pg_conninfo, table="nodes", schema="tlog_test") as store:
            MerkleTree(store).append_many(LEAVES[:9])
            assert MerkleTree(store).root() == memory_tree.root(9)
        with psycopg.connect(pg_conninfo) as conn:
            row = conn.execute("SELECT count(*) FROM tlog_test.nodes WHERE level = 0").fetchone()
            assert row == (9,)

    @pytest.mark.parametrize("bad", ["nodes; DROP TABLE x", "1nodes", "no-dash", ""])
    def test_unsafe_table_names_are_refused(self, pg_conninfo: str, bad: str) -> None:
        with pytest.raises(ValueError, match="table name"):
            PostgresNodeStore(pg_conninfo, table=bad)
