"""Benchmark of ``custody import``: capture rate against a bare eventsourcing baseline.

Generates a synthetic Unikum inventory (N students, ten documents each, plus some
general information), imports it into a fresh SQLite store and a fresh PostgreSQL
database, and prints the capture rate in signed events/s and inventory rows/s. In the
same run, on the same database, a bare ``eventsourcing.application.Application`` saves
the same number of events of the same stored size in the same batch sizes; the ratio of
the two is the price of signing, chaining, per-student encryption and checking the file.
Targets: ratio >= 0.7, and >= 15,000 signed events/s on PostgreSQL.

    .venv/bin/python bench/import.py                  # 10,000 students, ~100,000 rows
    .venv/bin/python bench/import.py --students 1000  # a quick run

PostgreSQL runs in a throwaway database (``custody_bench_<random>``) created through the
``postgres`` database of ``--pg-conninfo`` and dropped (WITH FORCE) at the end.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Runnable as a plain script from the repository root or from bench/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from application.demo import SCHOOLS, SyntheticGeneral, inventory_csv, synthetic_students
from application.importing import command_line_archivist, import_inventory
from application.policy import Principal
from domain.record import Record
from infrastructure.bootstrap import bootstrap
from infrastructure.settings import Settings

RATIO_TARGET = 0.7
PG_TARGET = 15_000
MUNICIPALITY = 1_100_000
DOCUMENTS = 10


class Filler(Aggregate):
    """The baseline's aggregate: one creation event padded to the capture event's size."""

    def __init__(self, blob: str) -> None:
        self.blob = blob


@dataclass(frozen=True)
class Result:
    backend: str
    rows: int
    students: int
    events: int
    check_seconds: float
    keys_seconds: float
    save_seconds: float
    seconds: float
    event_bytes: int
    baseline_per_second: float

    @property
    def build_seconds(self) -> float:
        """Reading the documents again, grouping, record ids, building the records."""
        return self.seconds - self.check_seconds - self.keys_seconds - self.save_seconds

    @property
    def store_ratio(self) -> float:
        """The ratio counting only the time inside ``save`` (sign, seal, insert)."""
        return (self.events / self.save_seconds) / self.baseline_per_second

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds

    @property
    def ratio(self) -> float:
        return self.events_per_second / self.baseline_per_second


@contextmanager
def postgres_database(conninfo: str) -> Iterator[str]:
    name = f"custody_bench_{secrets.token_hex(4)}"
    admin = conninfo.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield conninfo.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_inventory(path: Path, students: int) -> None:
    general = [SyntheticGeneral(code, "newsletter", f"Veckobrev v. {week}, {name}")
               for code, name in SCHOOLS.items() for week in range(34, 51)]
    path.write_text(inventory_csv(synthetic_students(students), documents=DOCUMENTS,
                                  general=general), encoding="utf-8")


def capture_event_size(app: Application[Any]) -> int:
    """Mean stored size of the capture events (signed envelope with sealed personal data)."""
    page = app.recorder.select_notifications(0, 500, topics=(
        Record.StudentDocumentationCaptured.TOPIC,), inclusive_of_start=False)
    return round(statistics.fmean(len(n.state) for n in page))


def baseline(env: dict[str, str], events: int, size: int, batch_size: int) -> float:
    """Events/s of a bare Application saving ``events`` events of ``size`` bytes."""
    app: Application[Any] = Application(env)
    try:
        empty = Filler("")
        overhead = len(app.mapper.to_stored_event(empty.collect_events()[0]).state)
        blob = "x" * max(size - overhead, 0)
        start = time.perf_counter()
        for done in range(0, events, batch_size):
            app.save(*(Filler(blob) for _ in range(min(batch_size, events - done))))
        return events / (time.perf_counter() - start)
    finally:
        app.close()


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


def run(backend: str, settings: Settings, bare_env: dict[str, str], inventory: Path,
        batch_size: int) -> Result:
    rt = bootstrap(settings)
    try:
        for code, name in SCHOOLS.items():
            rt.custody.register_school(Principal.system(), code, name)
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
        size = capture_event_size(rt.custody)
    finally:
        rt.close()
    base = baseline(bare_env, report.captured, size, batch_size)
    return Result(backend, report.rows, report.captured_students, report.captured,
                  checked_at[0] - start, new_subjects.seconds, save.seconds, seconds, size, base)


def print_result(r: Result) -> None:
    ratio_mark = "ok" if r.ratio >= RATIO_TARGET else "BELOW TARGET"
    per_student = r.seconds / r.students
    eta = MUNICIPALITY * per_student
    print(f"\n[{r.backend}]")
    print(f"  imported          {r.rows:,} rows -> {r.students:,} students, {r.events:,} "
          f"signed events ({r.event_bytes:,} bytes each) in {r.seconds:.1f} s")
    print(f"  where the time went  file check {r.check_seconds:.1f} s | documents read "
          f"again, grouped, records built {r.build_seconds:.1f} s | data keys "
          f"{r.keys_seconds:.1f} s | save (sign, seal, insert) {r.save_seconds:.1f} s")
    print(f"  capture rate      {r.events_per_second:,.0f} events/s, "
          f"{r.rows / r.seconds:,.0f} rows/s")
    print(f"  bare baseline     {r.baseline_per_second:,.0f} events/s (Application.save, "
          "same database, event size and batch size)")
    print(f"  ratio             {r.ratio:.2f} (target >= {RATIO_TARGET}: {ratio_mark}); "
          f"counting only the time in save: {r.store_ratio:.2f}")
    if r.backend == "postgres":
        mark = "ok" if r.events_per_second >= PG_TARGET else "BELOW TARGET"
        print(f"  absolute          {r.events_per_second:,.0f} signed events/s "
              f"(target >= {PG_TARGET:,}: {mark})")
    print(f"  1.1 million students at this rate: {eta / 3600:.1f} h "
          f"({eta / 60:,.0f} min)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-conninfo", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="custody-bench-import-") as directory:
        tmp = Path(directory)
        inventory = tmp / "inventory.csv"
        write_inventory(inventory, args.students)
        size_mb = inventory.stat().st_size / 1e6
        print(f"inventory: {args.students:,} students x {DOCUMENTS} documents + general "
              f"information, {size_mb:.1f} MB; batches of {args.batch_size}")
        results = []
        if args.backend in ("sqlite", "both"):
            bare = {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "SQLITE_DBNAME": str(tmp / "bare.sqlite")}
            results.append(run("sqlite", Settings(data_dir=tmp / "sqlite"), bare, inventory,
                               args.batch_size))
        if args.backend in ("postgres", "both"):
            with postgres_database(args.pg_conninfo) as url:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("CREATE SCHEMA bare")
                database = url.rsplit("/", 1)[1]
                bare = {"PERSISTENCE_MODULE": "eventsourcing.postgres",
                        "POSTGRES_DBNAME": database, "POSTGRES_HOST": "127.0.0.1",
                        "POSTGRES_PORT": "5432", "POSTGRES_USER": "postgres",
                        "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": "bare"}
                host = psycopg.conninfo.conninfo_to_dict(url)
                bare["POSTGRES_HOST"] = str(host.get("host", "127.0.0.1"))
                bare["POSTGRES_PORT"] = str(host.get("port", 5432))
                bare["POSTGRES_USER"] = str(host.get("user", "postgres"))
                results.append(run("postgres", Settings(data_dir=tmp / "pg", database_url=url),
                                   bare, inventory, args.batch_size))
        for result in results:
            print_result(result)


if __name__ == "__main__":
    main()
