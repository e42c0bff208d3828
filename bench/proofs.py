"""Benchmark of the transparency-log Merkle tree on its storage backends.

Builds a tree of N leaves in batches, then measures how long roots, inclusion
proofs (random leaf index in a random historic tree size) and consistency
proofs (random pairs of sizes) take to generate, and how fast proofs verify.
Targets at 1,000,000 leaves: inclusion < 2 ms and consistency < 5 ms median.

    .venv/bin/python bench/proofs.py                       # 1M leaves, sqlite + postgres
    .venv/bin/python bench/proofs.py --leaves 10000 --backend memory

SQLite runs in a temporary directory; PostgreSQL in a throwaway database
(``custody_bench_<random>``) on the server named by ``--pg-conninfo``, which is
dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

# Runnable as a plain script from the repository root or from bench/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql

from infrastructure.transparency.merkle import (
    MemoryNodeStore,
    MerkleTree,
    NodeStore,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from infrastructure.transparency.sql_store import (
    PostgresNodeStore,
    SQLiteNodeStore,
)

T = TypeVar("T")

BACKENDS = ("sqlite", "postgres", "memory")
INCLUSION_TARGET_MS = 2.0
CONSISTENCY_TARGET_MS = 5.0


def entry_hash(index: int) -> bytes:
    """Deterministic leaf for ``index``, so verification can recompute it."""
    return leaf_hash(b"bench-event-" + index.to_bytes(8, "big"))


@contextmanager
def open_backend(name: str, pg_conninfo: str) -> Iterator[tuple[NodeStore, Callable[[], str]]]:
    """Yield a fresh store and a function describing its on-disk size."""
    if name == "memory":
        yield MemoryNodeStore(), lambda: "n/a (in memory)"
    elif name == "sqlite":
        with tempfile.TemporaryDirectory(prefix="custody-bench-") as directory:
            path = os.path.join(directory, "merkle.sqlite3")
            with SQLiteNodeStore(path) as sqlite_store:

                def sqlite_size() -> str:
                    total = sum(
                        os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p)
                    )
                    return f"{total / 1e6:.1f} MB (file + WAL)"

                yield sqlite_store, sqlite_size
    else:
        database = f"custody_bench_{secrets.token_hex(4)}"
        with psycopg.connect(pg_conninfo, dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            try:
                with PostgresNodeStore(
                    psycopg.conninfo.make_conninfo(pg_conninfo, dbname=database)
                ) as pg_store:

                    def pg_size() -> str:
                        with psycopg.connect(pg_conninfo, dbname=database) as conn:
                            row = conn.execute(
                                "SELECT pg_total_relation_size('merkle_nodes')"
                            ).fetchone()
                        size = int(row[0]) if row else 0
                        return f"{size / 1e6:.1f} MB (table + primary key)"

                    yield pg_store, pg_size
            finally:
                admin.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(database)
                    )
                )


def build(tree: MerkleTree, leaves: int, batch: int) -> float:
    """Append ``leaves`` leaves in batches; return seconds spent in append_many."""
    spent = 0.0
    for start in range(0, leaves, batch):
        hashes = [entry_hash(i) for i in range(start, min(start + batch, leaves))]
        began = time.perf_counter()
        tree.append_many(hashes)
        spent += time.perf_counter() - began
    return spent


def timed(
    function: Callable[[int, int], T], arguments: Sequence[tuple[int, int]]
) -> tuple[list[float], list[T]]:
    """Call ``function(*args)`` for each pair; return per-call milliseconds and results."""
    times: list[float] = []
    results: list[T] = []
    for first, second in arguments:
        began = time.perf_counter_ns()
        results.append(function(first, second))
        times.append((time.perf_counter_ns() - began) / 1e6)
    return times, results


def describe(label: str, times: Sequence[float], target: float | None = None) -> None:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median = statistics.median(ordered)
    verdict = ""
    if target is not None:
        verdict = f"   target median < {target:g} ms: {'MET' if median < target else 'MISSED'}"
    print(
        f"  {label:<28} median {median:7.3f} ms   p99 {p99:7.3f} ms   "
        f"max {ordered[-1]:7.3f} ms   (n={len(ordered)}){verdict}"
    )


def run(backend: str, leaves: int, batch: int, samples: int, seed: int, pg: str) -> None:
    rng = random.Random(seed)  # sampling, not cryptography
    print(f"\n=== backend: {backend}   leaves: {leaves:,}   batch: {batch:,} ===")
    with open_backend(backend, pg) as (store, storage_size):
        tree = MerkleTree(store)
        seconds = build(tree, leaves, batch)
        print(
            f"  build                        {seconds:7.2f} s   "
            f"{leaves / seconds:,.0f} leaves/s   storage {storage_size()}"
        )

        warmup = [(rng.randrange(1, leaves + 1)) for _ in range(20)]
        for size in warmup:  # lets PostgreSQL prepare the statements first
            tree.inclusion_proof(size - 1, size)
            tree.consistency_proof(max(1, size // 2), size)

        sizes = [rng.randrange(1, leaves + 1) for _ in range(samples)]
        root_times, _ = timed(lambda _, size: tree.root(size), [(0, s) for s in sizes])
        describe("root(size)", root_times)

        inclusion = [(rng.randrange(size), size) for size in sizes]
        inc_times, inc_proofs = timed(tree.inclusion_proof, inclusion)
        describe("inclusion_proof(index,size)", inc_times, INCLUSION_TARGET_MS)

        pairs: list[tuple[int, int]] = []
        for _ in range(samples):
            second = rng.randrange(1, leaves + 1)
            pairs.append((rng.randrange(1, second + 1), second))
        con_times, con_proofs = timed(tree.consistency_proof, pairs)
        describe("consistency_proof(m,n)", con_times, CONSISTENCY_TARGET_MS)

        inclusion_cases = [
            (entry_hash(i), i, s, proof, tree.root(s))
            for (i, s), proof in zip(inclusion, inc_proofs, strict=True)
        ]
        consistency_cases = [
            (m, n, tree.root(m), tree.root(n), proof)
            for (m, n), proof in zip(pairs, con_proofs, strict=True)
        ]

    began = time.perf_counter()
    ok = all(verify_inclusion(*case) for case in inclusion_cases)
    inc_rate = len(inclusion_cases) / (time.perf_counter() - began)
    began = time.perf_counter()
    ok_con = all(verify_consistency(*case) for case in consistency_cases)
    con_rate = len(consistency_cases) / (time.perf_counter() - began)
    mean_inc = statistics.mean(len(p) for p in inc_proofs)
    mean_con = statistics.mean(len(p) for p in con_proofs)
    print(
        f"  verify_inclusion             {inc_rate:10,.0f} proofs/s   "
        f"mean path {mean_inc:.1f} hashes   all valid: {ok}"
    )
    print(
        f"  verify_consistency           {con_rate:10,.0f} proofs/s   "
        f"mean path {mean_con:.1f} hashes   all valid: {ok_con}"
    )
    if not (ok and ok_con):
        raise SystemExit(f"{backend}: generated proofs failed verification")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--leaves", type=int, default=1_000_000, help="tree size to build")
    parser.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="repeatable; default: sqlite and postgres",
    )
    parser.add_argument("--batch", type=int, default=10_000, help="leaves per append_many")
    parser.add_argument("--samples", type=int, default=2_000, help="proofs timed per kind")
    parser.add_argument("--seed", type=int, default=9162)
    parser.add_argument(
        "--pg-conninfo",
        default="host=127.0.0.1 port=5432 user=postgres",
        help="server for the throwaway PostgreSQL database",
    )
    args = parser.parse_args(argv)
    if args.leaves < 1 or args.batch < 1 or args.samples < 1:
        parser.error("--leaves, --batch and --samples must be positive")
    backends = args.backend or ["sqlite", "postgres"]
    print(f"Merkle proof benchmark: {args.leaves:,} leaves, Python {sys.version.split()[0]}")
    for backend in backends:
        run(backend, args.leaves, args.batch, args.samples, args.seed, args.pg_conninfo)


if __name__ == "__main__":
    main()
