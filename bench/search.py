"""Benchmark of the records search (``GET /api/v1/records?q=``): lookups per second.

Imports N synthetic students (one document each) into a fresh store, lets the projector
build the keyed name index, then times searches through ``CustodyQueries.records_page``
(what the route calls): by surname, by given name + surname, by personnummer, and, as the
baseline measured in the same run, the exact look-up of a record by id
(``CustodyQueries.record``). The name index holds one posting list per (keyed token,
shard of 16), so a search costs a few primary-key reads plus decrypting the page it
returns — not a scan of the sealed views.

    .venv/bin/python bench/search.py                      # 20,000 students, SQLite
    .venv/bin/python bench/search.py --backend postgres   # the same on PostgreSQL
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Runnable as a plain script from the repository root or from bench/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.demo import inventory_csv, synthetic_students
from application.importing import command_line_archivist, import_inventory
from application.policy import Principal
from bench.common import custody_runtime, fresh_store
from infrastructure.bootstrap import Runtime


def rate(name: str, calls: list[Callable[[], object]], seconds: float = 4.0) -> float:
    done = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        calls[done % len(calls)]()
        done += 1
    per_second = done / (time.perf_counter() - began)
    print(f"  {name:<44} {per_second:>9,.0f} lookups/s")
    return per_second


def run(rt: Runtime, students: int) -> None:
    people = synthetic_students(students)
    system = Principal.system()
    for school in sorted({p.school_id for p in people}):
        rt.custody.register_school(system, school, school.title())
    began = time.perf_counter()
    report = import_inventory(rt.custody, command_line_archivist(), inventory_csv(
        people, documents=1))
    rt.queries.fresh()
    print(f"  imported and indexed {report.captured_students:,} students in "
          f"{time.perf_counter() - began:.1f} s")
    auditor_id, token = rt.custody.register_actor(system, "Bench Auditor", "auditor", None)
    auditor = rt.custody.authenticate(token)
    rt.queries.fresh()
    sample = random.Random(7).sample(people, 200)
    surnames = [p.name.split()[-1] for p in sample]
    full = [p.name for p in sample]
    pnrs = [p.personnummer.replace("-", "") for p in sample]
    ids = [rt.custody.student_record_id(p.personnummer) for p in sample]
    hits = [len(rt.queries.records_page(auditor, q=s, limit=10).items) for s in surnames[:20]]
    print(f"  a surname matches {sum(hits) / len(hits):.1f} records on a page of 10 "
          "(on average over 20)")
    queries = rt.queries
    base = rate("baseline: record by id (queries.record)",
                [lambda i=i: queries.record(auditor, i) for i in ids])
    by_name = rate("search by full name, page of 10",
                   [lambda q=q: queries.records_page(auditor, q=q, limit=10) for q in full])
    rate("search by surname, page of 10",
         [lambda q=q: queries.records_page(auditor, q=q, limit=10) for q in surnames])
    rate("search by personnummer (12 digits)",
         [lambda q=q: queries.records_page(auditor, q=q, limit=10) for q in pnrs])
    print(f"  full-name search / record by id: {by_name / base:.2f}")
    del auditor_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    print(f"records search, {args.students:,} students, {args.backend}")
    with fresh_store(args.backend) as store, custody_runtime(store) as rt:
        run(rt, args.students)


if __name__ == "__main__":
    main()
