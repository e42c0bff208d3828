"""Benchmark of the reports read from the views: the shelf list (whole, and its first
page), a school unit's holdings (first page), the migration's progress and the
agreement's readiness.

On SQLite and PostgreSQL, in a fresh store of ``--students`` students (each captured,
its archive copy printed, filed and verified, a school copy printed for its school unit:
5 signed events, saved in bulk), once the views have caught up: each report is timed
``--rounds`` times (median), the views caught up again between two (the reads append
to the access log). Every figure is per call, with the rows it returned.

The script uses only the queries' public methods, so the same file can be run against
an older checkout for a before/after comparison in one sitting:

    .venv/bin/python bench/reports.py                    # 3,000 students, both backends
    .venv/bin/python bench/reports.py --quick            # 1,000 students
    .venv/bin/python bench/reports.py --backend postgres --students 20000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

# Runnable as a plain script from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from application.policy import Principal
from bench.common import BACKENDS, custody_runtime, fresh_store, load_average, personnummer
from bench.fixtures import seed_staff, student
from domain.record import Purpose, Record
from infrastructure.bootstrap import Runtime

COHORT = 250
SCHOOL = "holmes"


def build(rt: Runtime, archivist: Principal, students: int) -> None:
    custody, actor = rt.custody, archivist.id
    for first in range(0, students, COHORT):
        size = min(COHORT, students - first)
        subjects = iter(rt.vault.new_subjects(3 * size))
        records: list[Record] = []
        for n in range(first, first + size):
            record = custody.prepare(archivist, student(personnummer(n), school=SCHOOL),
                                     subject=next(subjects))
            copy_id = uuid4()
            record.print_copy(Purpose.ARCHIVE, copy_id=copy_id, subject=next(subjects),
                              school_id=None, actor=actor)
            record.archive(copy_id, box=f"box-{n // 100}", shelf=f"shelf-{n % 7}",
                           actor=actor)
            record.verify(copy_id, outcome="ok", note=None, actor=actor)
            record.print_copy(Purpose.SCHOOL, copy_id=uuid4(), subject=next(subjects),
                              school_id=SCHOOL, actor=actor)
            records.append(record)
        custody.save(*records, bulk=True)


def rows_of(result: Any) -> int:
    if isinstance(result, list):
        return len(result)
    items = getattr(result, "items", None)
    return len(items) if items is not None else 0


def measure(rt: Runtime, label: str, call: Callable[[], Any], rounds: int) -> None:
    times = []
    rows = 0
    for _ in range(rounds):
        rt.queries.fresh_all()  # the previous read's access log: not part of this one
        began = time.perf_counter()
        rows = rows_of(call())
        times.append(time.perf_counter() - began)
    print(f"   {label:<34} {statistics.median(times) * 1e3:>10,.1f} ms   ({rows:,} rows; "
          f"range {min(times) * 1e3:,.1f}-{max(times) * 1e3:,.1f} ms)", flush=True)


def run(backend: str, students: int, rounds: int) -> None:
    print(f"\n== reports on {backend}, {students:,} students ==", flush=True)
    print(f"   {load_average()} (before)", flush=True)
    with fresh_store(backend) as store, custody_runtime(store) as rt:
        staff = seed_staff(rt.custody)
        began = time.perf_counter()
        build(rt, staff.archivist, students)
        rt.runner.catch_up()
        print(f"   built and projected in {time.perf_counter() - began:,.1f} s", flush=True)
        q = rt.queries
        archivist, auditor = staff.archivist, staff.auditor
        measure(rt, "shelf list, whole", lambda: q.shelf_list(archivist), rounds)
        measure(rt, "shelf list, first page of 100",
                lambda: q.shelf_list_page(archivist, 100, None), rounds)
        measure(rt, "holdings, first page of 100",
                lambda: q.holdings_page(auditor, SCHOOL, 100, None), rounds)
        measure(rt, "progress", lambda: q.progress(Principal.system()), rounds)
        measure(rt, "readiness", lambda: q.readiness(Principal.system())["missing"], rounds)
    print(f"   {load_average()} (after)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--students", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="1,000 students")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    students = args.students or (1000 if args.quick else 3000)
    for backend in (BACKENDS if args.backend == "both" else (args.backend,)):
        run(backend, students, args.rounds)


if __name__ == "__main__":
    main()
