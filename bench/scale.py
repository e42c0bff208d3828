"""Scale benchmark: does the live projection slow down as the store grows, and what would
a national-size store (1.1 million students) cost?

On SQLite and PostgreSQL, each in fresh stores:

1. builds a **small** store (2,000 students) and a **large** one (as many students as
   fit in the time budget, ``--build-seconds``; the issue asks for 200,000): each
   student captured, its archive copy printed, filed and verified (4 signed events),
   saved in cohorts through the signing store with ``bulk=True`` (binary COPY on
   PostgreSQL); then the views catch up from nothing (the rebuild cost per event) and
   the transparency log seals everything (its cost per event);
2. measures the **per-event live-projection cost** in each store: with no background
   follower, a mix of real commands (a new student captured, a school copy printed for
   a random existing student) is written, then the runner applies the new events one at
   a time, as the subscription does (``apply_live``), timed per event; median of 3
   rounds, the two stores kept open and their rounds alternating (small, large, small,
   ...) so that a change of load falls on both. Target: large / small <= 1.2;
3. times the **shelf list** (every archive copy, one row each) in each store, and the
   real ``custody import`` of a small inventory (10 documents a student) into the small
   store, per student;
4. prints an **extrapolation to 1.1 million students** from the per-unit costs measured
   in the large store: import time, rebuild time, log sealing, shelf list, disk.

The figures are only as good as the machine was quiet: the load average is printed.

    .venv/bin/python bench/scale.py               # ~60 s budget per backend (~3 min)
    .venv/bin/python bench/scale.py --quick       # small 500, large ~8 s (< 1 min)
    .venv/bin/python bench/scale.py --backend postgres --build-seconds 120
    .venv/bin/python bench/scale.py --backend postgres --large 200000   # the issue's size
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

# Runnable as a plain script from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from api.demo import inventory_csv, synthetic_students
from application.importing import command_line_archivist, import_inventory
from application.policy import Principal
from bench.common import (
    BACKENDS,
    Report,
    Store,
    Target,
    custody_runtime,
    fresh_store,
    load_average,
    personnummer,
)
from bench.fixtures import seed_staff, student
from domain.record import Purpose, Record
from infrastructure.bootstrap import Runtime

NATIONAL = 1_100_000
EVENTS_PER_STUDENT = 4  # captured, archive copy printed, filed, verified
COHORT = 250
RATIO = Target(1.2, at_least=False)
IMPORT_DOCUMENTS = 10


@dataclass
class Scale:
    """What one store of one size measured."""

    students: int
    events: int
    build_seconds: float
    catch_up_seconds: float
    seal_seconds: float
    live_per_event: list[float]
    shelf_seconds: float
    shelf_rows: int
    disk_bytes: int

    @property
    def live(self) -> float:
        return statistics.median(self.live_per_event)


def build(rt: Runtime, archivist: Principal, *, students: int | None, budget: float,
          first: int = 0) -> tuple[int, list[UUID], float]:
    """Capture, print, file and verify students in cohorts, each cohort one bulk save,
    until ``students`` are built or ``budget`` seconds are spent."""
    custody, actor = rt.custody, archivist.id
    ids: list[UUID] = []
    began = time.perf_counter()
    number = first
    while (number < first + students if students is not None
           else time.perf_counter() - began < budget):
        size = COHORT if students is None else min(COHORT, first + students - number)
        subjects = iter(rt.vault.new_subjects(2 * size))
        records: list[Record] = []
        for n in range(number, number + size):
            record = custody.prepare(archivist, student(personnummer(n)),
                                     subject=next(subjects))
            copy_id = uuid4()
            record.print_copy(Purpose.ARCHIVE, copy_id=copy_id, subject=next(subjects),
                              school_id=None, actor=actor)
            record.archive(copy_id, box=f"box-{n // 100}", shelf=f"shelf-{n % 7}",
                           actor=actor)
            record.verify(copy_id, outcome="ok", note=None, actor=actor)
            records.append(record)
        custody.save(*records, bulk=True)
        ids += [r.id for r in records]
        number += size
    return number - first, ids, time.perf_counter() - began


def live_round(rt: Runtime, archivist: Principal, targets: Iterator[UUID], events: int,
               first: int) -> float:
    """Seconds per event for the runner to apply ``events`` fresh events one by one."""
    custody = rt.custody
    for k in range(events // 2):
        custody.capture_student(archivist, student(personnummer(first + k)))
        record_id = next(targets)  # a random student, each once: one school copy each
        school = custody.record(record_id).school_id
        custody.print_copy(archivist, record_id, "school", school)
    runner = rt.runner
    position = runner.live_from()
    items = runner.feed.read(position, events + 10)
    began = time.perf_counter()
    for item in items:
        runner.apply_live(item)
    seconds = time.perf_counter() - began
    if rt.views.position() != items[-1].seq:
        raise SystemExit("the live projection did not reach the last event")
    return seconds / len(items)


def disk_bytes(rt: Runtime, store: Store) -> int:
    if store.pg_url is not None:
        with psycopg.connect(store.pg_url) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            return int(row[0]) if row else 0
    return sum(p.stat().st_size for p in rt.settings.data_dir.rglob("*") if p.is_file())


def seal_all(rt: Runtime) -> float:
    began = time.perf_counter()
    rt.log.seal()  # every stored event not yet in the tree, in batches
    return time.perf_counter() - began


@dataclass
class OpenStore:
    """A built store kept open, so that its live rounds can alternate with another's."""

    store: Store
    rt: Runtime
    archivist: Principal
    targets: Iterator[UUID]
    scale: Scale


def build_store(stack: ExitStack, backend: str, *, students: int | None,
                budget: float, rounds: int, live_events: int) -> OpenStore:
    """One fresh store of one size, built, caught up and sealed; left open on ``stack``."""
    store = stack.enter_context(fresh_store(backend))
    rt = stack.enter_context(custody_runtime(store))
    staff = seed_staff(rt.custody)
    built, ids, build_seconds = build(rt, staff.archivist, students=students, budget=budget)
    began = time.perf_counter()
    rt.runner.catch_up()
    catch_up_seconds = time.perf_counter() - began
    events = rt.custody.recorder.max_notification_id() or 0
    seal_seconds = seal_all(rt)
    targets = iter(random.Random(7).sample(ids, min(len(ids), rounds * live_events)))
    scale = Scale(built, events, build_seconds, catch_up_seconds, seal_seconds, [], 0.0, 0, 0)
    return OpenStore(store, rt, staff.archivist, targets, scale)


def finish_store(opened: OpenStore, *, import_students: int) -> float | None:
    """The shelf list, the disk, and (if asked) the real import's seconds per student."""
    rt, scale = opened.rt, opened.scale
    began = time.perf_counter()
    shelf = rt.queries.shelf_list(opened.archivist)
    scale.shelf_seconds = time.perf_counter() - began
    scale.shelf_rows = len(shelf)
    scale.disk_bytes = disk_bytes(rt, opened.store)
    if not import_students:
        return None
    text = inventory_csv(synthetic_students(import_students, offset=500_000),
                         documents=IMPORT_DOCUMENTS, general=[])
    began = time.perf_counter()
    report = import_inventory(rt.custody, command_line_archivist(), text)
    return (time.perf_counter() - began) / max(report.captured_students, 1)


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds / 3600:,.1f} h"


def run(backend: str, report: Report, *, small: int, large: int | None, budget: float,
        live_events: int, rounds: int, import_students: int) -> None:
    report.heading(f"scale on {backend}")
    report.note(load_average() + " (before)")
    with ExitStack() as stack:
        small_store = build_store(stack, backend, students=small, budget=0.0, rounds=rounds,
                                  live_events=live_events)
        large_store = build_store(stack, backend, students=large, budget=budget,
                                  rounds=rounds, live_events=live_events)
        # The live rounds alternate between the two stores (small, large, small, ...), so
        # a change of load on the machine falls on both sizes alike.
        for r in range(rounds):
            for opened in (small_store, large_store):
                opened.scale.live_per_event.append(live_round(
                    opened.rt, opened.archivist, opened.targets, live_events,
                    900_000 - (r + 1) * live_events))
        per_import = finish_store(small_store, import_students=import_students)
        finish_store(large_store, import_students=0)
        low, high = small_store.scale, large_store.scale
    report.note(load_average() + " (after)")
    for name, s in (("small", low), ("large", high)):
        report.note(f"{name}: {s.students:,} students, {s.events:,} events; built in "
                    f"{s.build_seconds:.1f} s, views caught up in {s.catch_up_seconds:.1f} s, "
                    f"log sealed in {s.seal_seconds:.1f} s, shelf list of {s.shelf_rows:,} "
                    f"rows in {s.shelf_seconds:.2f} s, {s.disk_bytes / 1e6:,.1f} MB")
    for s in (low, high):
        spread = f"{min(s.live_per_event) * 1e6:,.0f}-{max(s.live_per_event) * 1e6:,.0f}"
        report.figure(f"live projection at {s.students:,} students", s.live * 1e6,
                      "µs/event", detail=f"median of {rounds} rounds of {live_events} "
                      f"events, range {spread}")
    report.figure("large / small", high.live / low.live, "", fmt=".2f", target=RATIO,
                  scope=backend)
    if high.students < 200_000:
        # No growth measured (noise) is not read as a cost falling with size.
        slope = max(0.0, (high.live - low.live) / max(high.students - low.students, 1))
        at_200k = max(low.live, high.live) + slope * (200_000 - high.students)
        report.note(f"the issue asks 200,000 students; {high.students:,} were built in the "
                    f"budget. Extrapolated linearly from the two sizes: "
                    f"{at_200k * 1e6:,.0f} µs/event at 200,000 "
                    f"(ratio {at_200k / low.live:.2f})")

    per_student = high.students
    table = [
        ("import (custody import, 10 documents a student)",
         (per_import or 0.0) * NATIONAL, f"{(per_import or 0.0) * 1e3:.2f} ms/student "
         f"(real import of {import_students:,} students into the small store)"),
        ("build (4 signed events a student, bulk saves)",
         high.build_seconds / per_student * NATIONAL,
         f"{high.build_seconds / high.events * 1e6:,.0f} µs/event"),
        ("rebuild of the views from the log",
         high.catch_up_seconds / high.events * NATIONAL * EVENTS_PER_STUDENT,
         f"{high.catch_up_seconds / high.events * 1e6:,.0f} µs/event"),
        ("transparency log sealing",
         high.seal_seconds / high.events * NATIONAL * EVENTS_PER_STUDENT,
         f"{high.seal_seconds / high.events * 1e6:,.0f} µs/event"),
        ("shelf list (every archive copy)",
         high.shelf_seconds / max(high.shelf_rows, 1) * NATIONAL,
         f"{high.shelf_seconds / max(high.shelf_rows, 1) * 1e6:,.0f} µs/row"),
    ]
    print(f"\n   extrapolation to {NATIONAL:,} students ({EVENTS_PER_STUDENT} events each) "
          f"on {backend}, from the large store's per-unit costs:")
    for label, seconds, unit in table:
        print(f"     {label:<50} {duration(seconds):>10}   ({unit})")
    disk = high.disk_bytes / per_student * NATIONAL
    print(f"     {'disk (events, views, log, keys)':<50} {disk / 1e9:>8.1f} GB   "
          f"({high.disk_bytes / per_student / 1e3:,.1f} kB/student)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=(*BACKENDS, "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small stores, < 1 min")
    parser.add_argument("--small", type=int, default=None)
    parser.add_argument("--build-seconds", type=float, default=None)
    parser.add_argument("--large", type=int, default=None,
                        help="students in the large store (default: as many as the build "
                        "budget allows); the issue asks 200000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    small = args.small or (500 if args.quick else 2_000)
    budget = args.build_seconds or (8.0 if args.quick else 60.0)
    live_events = 40 if args.quick else 100
    import_students = 100 if args.quick else 300
    report = Report()
    backends = BACKENDS if args.backend == "both" else (args.backend,)
    print(f"pid {os.getpid()}; small store {small:,} students, large store: "
          + (f"{args.large:,} students" if args.large else f"build budget {budget:.0f} s"))
    for backend in backends:
        run(backend, report, small=small, large=args.large, budget=budget,
            live_events=live_events,
            rounds=args.rounds, import_students=import_students)
    report.summary("scale")


if __name__ == "__main__":
    main()
