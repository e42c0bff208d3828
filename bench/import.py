"""Benchmark of ``custody import``: capture rate against bare eventsourcing and COPY.

Generates a synthetic Unikum inventory (N students, ten documents each, plus some
general information) and, in three rounds, measures on the same database:

- **import**: ``import_inventory`` into a fresh custody store (file check, records,
  per-student keys, signing, chaining, and on PostgreSQL the rows written by binary
  ``COPY`` under the library's table lock, see ``infrastructure/copy_insert.py``);
- **bare**: a bare ``eventsourcing.application.Application`` saving as many events of the
  same stored size in the same batch sizes (the library's row-by-row insert);
- on PostgreSQL also the **physical anchors** for the insert alone: the import's very
  rows (read back) written again in the same batches, once by the library's insert and
  once by binary ``COPY`` (same lock and notification per batch).

The phases alternate from round to round (import first, then last), so a load spike on
the shared machine does not hit one side only; every figure is the median of the rounds
and the ratio is the median of the per-round ratios. Target on PostgreSQL: import /
bare >= 0.65, and >= 15,000 signed events/s.

    .venv/bin/python bench/import.py              # 5,000 students, ~50,000 rows (~2 min)
    .venv/bin/python bench/import.py --quick      # 1,000 students (< 1 min)
    .venv/bin/python bench/import.py --backend both

PostgreSQL runs in a throwaway database (``custody_bench_<random>``) dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Runnable as a plain script from the repository root or from bench/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from api.demo import SCHOOLS, SyntheticGeneral, inventory_csv, synthetic_students
from application.importing import command_line_archivist, import_inventory
from application.policy import Principal
from bench.common import Rate, Report, Store, Target, fresh_store, load_average, paired_ratio
from domain.record import Record
from infrastructure.bootstrap import bootstrap
from infrastructure.copy_insert import CopyWriter
from infrastructure.signed_events import SignedEventStore

RATIO_TARGET = 0.65
PG_TARGET = 15_000
MUNICIPALITY = 1_100_000
DOCUMENTS = 10
ROUNDS = 3


class Filler(Aggregate):
    """The baseline's aggregate: one creation event padded to the capture event's size."""

    def __init__(self, blob: str) -> None:
        self.blob = blob


class Stopwatch:
    """Wraps a bound method and adds up the time spent in it."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.method(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


@dataclass(frozen=True)
class Imported:
    rows: int
    students: int
    events: int
    seconds: float
    check_seconds: float
    keys_seconds: float
    save_seconds: float
    event_bytes: int
    stored: list[StoredEvent]


def write_inventory(path: Path, students: int) -> None:
    general = [SyntheticGeneral(code, "newsletter", f"Veckobrev v. {week}, {name}")
               for code, name in SCHOOLS.items() for week in range(34, 51)]
    path.write_text(inventory_csv(synthetic_students(students), documents=DOCUMENTS,
                                  general=general), encoding="utf-8")


def capture_rows(app: Application[Any]) -> list[StoredEvent]:
    """The import's stored capture events, in notification order."""
    topics = (Record.StudentDocumentationCaptured.TOPIC, Record.GeneralInformationCaptured.TOPIC)
    found: list[StoredEvent] = []
    start = 0
    while True:
        page = app.recorder.select_notifications(start, 5_000, topics=topics,
                                                 inclusive_of_start=False)
        found += [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                  for n in page]
        if len(page) < 5_000:
            return found
        start = page[-1].id


def run_import(store: Store, name: str, inventory: Path, batch_size: int,
               library_insert: bool = False) -> Imported:
    rt = bootstrap(store.settings(name))
    try:
        if library_insert:  # what the import did before COPY, for comparison
            events = rt.custody.events
            assert isinstance(events, SignedEventStore)
            events._copy_writer = None
        for code, school in SCHOOLS.items():
            rt.custody.register_school(Principal.system(), code, school)
        checked_at: list[float] = []
        save = Stopwatch(rt.custody.save)
        new_subjects = Stopwatch(rt.custody.keys.new_subjects)
        rt.custody.save = save  # type: ignore[method-assign]
        rt.custody.keys.new_subjects = new_subjects  # type: ignore[method-assign]

        def progress(done: int, total: int) -> None:
            if not checked_at:
                checked_at.append(time.perf_counter())

        start = time.perf_counter()
        report = import_inventory(rt.custody, command_line_archivist(), inventory,
                                  progress=progress, batch_size=batch_size)
        seconds = time.perf_counter() - start
        if report.rejected or report.already_captured:
            raise SystemExit(f"unexpected import result: {report.summary()}")
        stored = capture_rows(rt.custody)
    finally:
        rt.close()
    size = round(statistics.fmean(len(s.state) for s in stored))
    return Imported(report.rows, report.captured_students, report.captured, seconds,
                    checked_at[0] - start, new_subjects.seconds, save.seconds, size, stored)


def run_bare(env: dict[str, str], events: int, size: int, batch_size: int) -> float:
    """Seconds a bare Application takes to save ``events`` events of ``size`` bytes."""
    app: Application[Any] = Application(env)
    try:
        empty = Filler("")
        overhead = len(app.mapper.to_stored_event(empty.collect_events()[0]).state)
        blob = "x" * max(size - overhead, 0)
        start = time.perf_counter()  # making the aggregates counts, as the import's do
        for done in range(0, events, batch_size):
            app.save(*(Filler(blob) for _ in range(min(batch_size, events - done))))
        return time.perf_counter() - start
    finally:
        app.close()


def run_rows(env: dict[str, str], stored: Sequence[StoredEvent], batch_size: int, *,
             copy: bool) -> float:
    """Seconds to write these very rows in batches: by COPY, or by the library's insert."""
    app: Application[Any] = Application(env)
    try:
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        insert = CopyWriter(recorder).insert_events if copy else recorder.insert_events
        batches = [list(stored[i:i + batch_size]) for i in range(0, len(stored), batch_size)]
        start = time.perf_counter()
        for batch in batches:
            insert(batch)
        return time.perf_counter() - start
    finally:
        app.close()


def measure(backend: str, inventory: Path, batch_size: int, rounds: int,
            report: Report, library_insert: bool = False) -> None:
    imports, bares, copies, library = Rate(), Rate(), Rate(), Rate()
    results: list[Imported] = []
    with fresh_store(backend) as store:
        for n in range(rounds):
            def phase_import(n: int = n) -> None:
                result = run_import(store, f"import{n}", inventory, batch_size,
                                    library_insert)
                results.append(result)
                imports.add(result.events, result.seconds)

            def phase_bare(n: int = n) -> None:
                template = results[-1]
                bares.add(template.events, run_bare(store.bare_env(f"bare{n}"),
                                                    template.events, template.event_bytes,
                                                    batch_size))

            def phase_rows(n: int = n) -> None:
                if backend != "postgres":
                    return
                stored = results[-1].stored
                copies.add(len(stored), run_rows(store.bare_env(f"copy{n}"), stored,
                                                 batch_size, copy=True))
                library.add(len(stored), run_rows(store.bare_env(f"rows{n}"), stored,
                                                  batch_size, copy=False))

            # Alternate: the import first in even rounds, last in odd ones (the first
            # round must import first: the others need its events).
            order = ([phase_import, phase_bare, phase_rows] if n % 2 == 0 or not results
                     else [phase_rows, phase_bare, phase_import])
            for phase in order:
                phase()
    first = results[0]
    how = " (library insert, no COPY)" if library_insert else ""
    report.heading(f"import{how} on {backend}: {first.students:,} students, {first.rows:,} rows, "
                   f"{first.events:,} signed events of {first.event_bytes:,} bytes, batches "
                   f"of {batch_size}")
    report.note(load_average())
    median_import = statistics.median(r.seconds for r in results)
    parts = {
        "file check": statistics.median(r.check_seconds for r in results),
        "data keys": statistics.median(r.keys_seconds for r in results),
        "save (sign, seal, insert)": statistics.median(r.save_seconds for r in results),
    }
    rest = median_import - sum(parts.values())
    report.note("where the import's time went (medians): " + " | ".join(
        f"{k} {v:.2f} s" for k, v in parts.items()) + f" | documents read again, records "
        f"built {rest:.2f} s")
    report.figure("import", imports.median, "events/s", detail=imports.detail(),
                  target=Target(PG_TARGET, unit="events/s") if backend == "postgres" else None,
                  scope=backend)
    report.figure("bare eventsourcing, same events and batches", bares.median, "events/s",
                  detail=bares.detail())
    report.figure("import / bare", paired_ratio(imports, bares), "", fmt=".2f",
                  target=Target(RATIO_TARGET) if backend == "postgres" else None,
                  detail="median of per-round ratios", scope=backend)
    if backend == "postgres":
        report.figure("the import's rows by the library's insert", library.median,
                      "events/s", detail=library.detail())
        report.figure("the import's rows by binary COPY (anchor)", copies.median,
                      "events/s", detail=copies.detail())
        report.figure("import / COPY anchor", paired_ratio(imports, copies), "", fmt=".2f",
                      detail="what is left besides writing rows")
        report.figure("COPY / library insert, same rows", paired_ratio(copies, library), "",
                      fmt=".2f")
    eta = MUNICIPALITY * median_import / first.students
    report.note(f"1.1 million students at this rate: {eta / 3600:.1f} h ({eta / 60:,.0f} min)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--students", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--quick", action="store_true", help="1,000 students (< 1 min)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"),
                        default="postgres")
    parser.add_argument("--library-insert", action="store_true",
                        help="the import without COPY (as before), for comparison")
    args = parser.parse_args()
    students = args.students or (1_000 if args.quick else 5_000)

    import tempfile

    report = Report()
    with tempfile.TemporaryDirectory(prefix="custody-bench-import-") as directory:
        inventory = Path(directory) / "inventory.csv"
        write_inventory(inventory, students)
        backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
        for backend in backends:
            measure(backend, inventory, args.batch_size, args.rounds, report,
                    args.library_insert)
    report.summary("import")


if __name__ == "__main__":
    main()
