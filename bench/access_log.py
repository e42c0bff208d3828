"""Benchmark: reads of personal data per second with and without the access log.

On SQLite and PostgreSQL, in one fresh store each: captures 200 students (each with an
archive copy), then ``--threads`` threads read records through the application's query
layer (``CustodyQueries.record`` as the archivist: the same path as
``GET /api/v1/records/{id}``, minus HTTP) for ``--seconds`` per phase. Phases alternate
— logged, unlogged, logged, ... — three of each; the figure is the median of the three
paired ratios logged/unlogged (target >= 0.8). "Unlogged" swaps the access recorder for
one that records nothing; everything else is the same code. The views' follower runs in
the background as in the service (it projects the access log too).

    .venv/bin/python bench/access_log.py             # 3 s per phase, about 1 minute
    .venv/bin/python bench/access_log.py --quick     # 1 s per phase
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from uuid import UUID

# Runnable as ``.venv/bin/python bench/access_log.py`` from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from application.access_log import AccessRecorder
from application.policy import Principal
from application.service import DocumentIn, StudentCapture
from bench.common import (
    BACKENDS,
    Rate,
    Report,
    Target,
    custody_runtime,
    fresh_store,
    load_average,
    paired_ratio,
    personnummer,
)
from infrastructure.bootstrap import Runtime

STUDENTS = 200


class Unlogged(AccessRecorder):
    """The same query path with nothing recorded: the baseline."""

    def record(self, *, actor: str, action: str, route: str, outcome: str,
               record_ids: Iterable[str]) -> None:
        return None


def seed(rt: Runtime) -> tuple[Principal, list[UUID]]:
    system = Principal.system()
    rt.custody.register_school(system, "holmes", "Holmesskolan")
    _, token = rt.custody.register_actor(system, "Arne Arkivarie", "archivist", None)
    archivist = rt.custody.authenticate(token)
    ids = []
    for n in range(STUDENTS):
        pnr = personnummer(n)
        record_id = rt.custody.capture_student(archivist, StudentCapture(
            pnr, f"Elev {n}", "holmes", "7A", [DocumentIn("IUP", "iup", "0" * 64, 2)]))
        rt.custody.print_copy(archivist, record_id, "archive", None)
        ids.append(record_id)
    rt.queries.fresh()
    return archivist, ids


def phase(rt: Runtime, who: Principal, ids: list[UUID], threads: int,
          seconds: float) -> tuple[int, float]:
    stop = time.perf_counter() + seconds
    counts = [0] * threads

    def reader(k: int) -> None:
        i = k
        while time.perf_counter() < stop:
            rt.queries.record(who, ids[i % len(ids)])
            counts[k] += 1
            i += threads

    began = time.perf_counter()
    workers = [threading.Thread(target=reader, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts), time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    report = Report()
    print(f"access log: {args.threads} reader threads, {seconds:g} s per phase; "
          f"{load_average()}")
    for backend in BACKENDS:
        with fresh_store(backend) as store, custody_runtime(store) as rt:
            report.heading(backend)
            who, ids = seed(rt)
            rt.runner.start()  # as in the service: the views follow the log in the background
            logged_recorder = rt.queries.access
            unlogged = Unlogged(rt.custody.commit)
            logged, bare = Rate(), Rate()
            for _ in range(3):
                rt.queries.access = logged_recorder
                logged.add(*phase(rt, who, ids, args.threads, seconds))
                rt.queries.access = unlogged
                bare.add(*phase(rt, who, ids, args.threads, seconds))
            rt.queries.access = logged_recorder
            report.figure("record reads/s, unlogged", bare.median, "reads/s",
                          detail=bare.detail())
            report.figure("record reads/s, every read logged", logged.median, "reads/s",
                          detail=logged.detail())
            report.figure("logged/unlogged", paired_ratio(logged, bare), "ratio", fmt=".2f",
                          target=Target(0.8), scope=backend)
            flushes = logged_recorder.flushes
            report.note(f"{logged_recorder.entries:,} entries in {flushes:,} signed saves "
                        f"({logged_recorder.entries / max(flushes, 1):.1f} per save)")
    report.summary("access log")


if __name__ == "__main__":
    main()
