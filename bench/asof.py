"""Benchmark of as-of answers: a record's custody and a school's holdings and the shelf
list as they stood at a moment, read from indexed history (the record's own events; the
copies' state history ``copy_states``) — next to the old way, a replay of the whole log,
measured in the same run.

On SQLite and PostgreSQL, each in a fresh store: writes N events (cohorts of students
captured, archive and school copy printed, archive copy filed and verified, as in
``bench/projections.py``; every school copy at one school unit, the worst case for its
holdings), catches the views up, then times, at a moment in the middle of the log:

- ``record_as_of`` for random records (median and p99; target < 50 ms);
- ``holdings(school, as_of)`` (median; target < 1 s) — it reads the states of the
  copies that were ever at that school (one indexed query), whatever the log's size;
- ``shelf_list(as_of)``;
- one replay of the whole log up to that moment (what every as-of query did before).

    .venv/bin/python bench/asof.py            # 20,000 events
    .venv/bin/python bench/asof.py --events 5000 --backend sqlite
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# Runnable as a plain script from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Report, Target, cpu_count, custody_runtime, fresh_store, percentile
from bench.fixtures import seed_staff
from bench.projections import write_log
from infrastructure.bootstrap import Runtime

RECORD_AS_OF = Target(50, at_least=False, unit="ms")
HOLDINGS_AS_OF = Target(1000, at_least=False, unit="ms")


def times_ms(call: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        out.append((time.perf_counter() - began) * 1000)
    return out


def run(backend: str, report: Report, events: int) -> None:
    with fresh_store(backend) as store, custody_runtime(store) as rt:
        staff = seed_staff(rt.custody)
        began = time.perf_counter()
        students = write_log(rt, staff.archivist, events)
        rt.queries.fresh()
        written = rt.custody.recorder.max_notification_id() or 0
        print(f"[{backend}] wrote {written:,} events ({students:,} students) and caught the "
              f"views up in {time.perf_counter() - began:.1f} s")
        measure(backend, rt, staff.auditor, report, written)


def measure(backend: str, rt: Runtime, auditor: object, report: Report, written: int) -> None:
    feed = rt.queries.feed
    middle = feed.read(written // 2, 1)[0].event.timestamp
    records = [d["id"] for d in rt.views.find("records", school_id="holmes")]
    rng = random.Random(7)
    sample = [rng.choice(records) for _ in range(40)]
    from uuid import UUID

    record_ms = []
    for record_id in sample:
        began = time.perf_counter()
        rt.queries.record_as_of(auditor, UUID(record_id), middle)  # type: ignore[arg-type]
        record_ms.append((time.perf_counter() - began) * 1000)
    holdings_ms = times_ms(lambda: rt.queries.holdings(auditor, "holmes", middle), 3)  # type: ignore[arg-type]
    held = rt.queries.holdings(auditor, "holmes", middle)  # type: ignore[arg-type]
    shelf_ms = times_ms(lambda: rt.queries.shelf_list(auditor, middle), 3)  # type: ignore[arg-type]
    states = len(rt.views.find("copy_states", school_id="holmes"))
    replay_ms = times_ms(lambda: rt.queries.replay(middle), 1)[0]
    r_med, r_p99 = statistics.median(record_ms), percentile(record_ms, 0.99)
    h_med = statistics.median(holdings_ms)
    print(f"[{backend}] record as of (own events): median {r_med:.1f} ms, p99 {r_p99:.1f} ms "
          f"over {len(sample)} records")
    print(f"[{backend}] holdings as of: median {h_med:.0f} ms for "
          f"{len(held['copies']) + len(held['incoming']):,} copies held then "
          f"({states:,} states ever at the school) = {h_med * 1000 / max(states, 1):.0f} µs "
          "per state")
    print(f"[{backend}] shelf list as of: median {statistics.median(shelf_ms):.0f} ms")
    print(f"[{backend}] for comparison, one replay of the log up to that moment: "
          f"{replay_ms:.0f} ms for {written // 2:,} events")
    per_state_us = h_med * 1000 / max(states, 1)
    print(f"[{backend}] extrapolated to 1,000,000 events: a record as of stays at its own "
          f"events (~10); holdings of a school of 1,000 pupils (~4 states each) "
          f"≈ {per_state_us * 4000 / 1000:.0f} ms; the replay ≈ "
          f"{replay_ms * 2_000_000 / max(written, 1) / 1000:.0f} s")
    report.figure("record as of, p99", r_p99, "ms", fmt=",.1f", target=RECORD_AS_OF,
                  scope=backend)
    report.figure("holdings as of, median", h_med, "ms", target=HOLDINGS_AS_OF,
                  scope=backend, detail=f"{states:,} states at the school")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgres"),
                        help="repeatable; default: both")
    args = parser.parse_args(argv)
    print(f"As-of benchmark: {args.events:,} events; Python {sys.version.split()[0]}, "
          f"{cpu_count()} cores")
    report = Report()
    for backend in args.backend or ("sqlite", "postgres"):
        run(backend, report, args.events)
    report.summary("asof")


if __name__ == "__main__":
    main()
