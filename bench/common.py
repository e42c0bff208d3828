"""Shared plumbing for the benchmarks: throwaway stores, timing, synthetic data, output.

Every benchmark runs on SQLite (a temporary directory) and on PostgreSQL (a throwaway
database ``custody_bench_<random>`` created through the ``postgres`` database and
dropped ``WITH (FORCE)`` afterwards), so nothing is left behind even after an error.
Results are printed as aligned, labelled lines; figures with a target are collected and
summarised as one verdict line each at the end.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from uuid import UUID

# Runnable as ``.venv/bin/python bench/<name>.py`` without the editable install.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql

from domain.personnummer import synthetic
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent

BACKENDS = ("sqlite", "postgres")
PG_ADMIN_CONNINFO = os.environ.get(
    "CUSTODY_BENCH_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
LABEL_WIDTH = 50


# -- throwaway stores ------------------------------------------------------------------


@dataclass(frozen=True)
class Store:
    """Where one benchmark run keeps its data: a temporary directory, plus on PostgreSQL
    a throwaway database (``pg_url``) in which each application gets its own schema."""

    backend: str
    workdir: Path
    pg_url: str | None = None

    def new_schema(self, prefix: str) -> str:
        """A fresh, empty schema in the throwaway database (PostgreSQL only)."""
        if self.pg_url is None:
            raise ValueError("schemas exist on PostgreSQL only")
        schema = f"{prefix}_{secrets.token_hex(3)}"
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        return schema

    def settings(self, name: str = "custody") -> Settings:
        """Settings for a fresh custody runtime of its own (own data dir, own schema)."""
        data_dir = self.workdir / name
        if self.pg_url is None:
            return Settings(data_dir=data_dir)
        return Settings(data_dir=data_dir, database_url=self.pg_url,
                        database_schema=self.new_schema(name))

    def bare_env(self, name: str = "bare") -> dict[str, str]:
        """eventsourcing environment for a bare application beside the custody one: a
        separate SQLite file, or a separate schema in the same PostgreSQL database, with
        the same pool and timeout settings the custody service uses."""
        if self.pg_url is None:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.workdir / f"{name}.sqlite"),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        conninfo = psycopg.conninfo.conninfo_to_dict(self.pg_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(conninfo["dbname"]),
            "POSTGRES_HOST": str(conninfo.get("host", "127.0.0.1")),
            "POSTGRES_PORT": str(conninfo.get("port", 5432)),
            "POSTGRES_USER": str(conninfo.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(conninfo.get("password", "")),
            "POSTGRES_SCHEMA": self.new_schema(name),
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_MAX_WAITING": "30",
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": "5",
            "POSTGRES_MAX_OVERFLOW": "10",
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        }


@contextmanager
def pg_database(admin_conninfo: str = PG_ADMIN_CONNINFO) -> Iterator[str]:
    """A throwaway database ``custody_bench_<random>``; yields its URL, drops it after."""
    name = f"custody_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        info = psycopg.conninfo.conninfo_to_dict(admin_conninfo)
        user = info.get("user", "postgres")
        password = f":{info['password']}" if info.get("password") else ""
        host = info.get("host", "127.0.0.1")
        port = info.get("port", 5432)
        yield f"postgresql://{user}{password}@{host}:{port}/{name}"
    finally:
        with psycopg.connect(admin_conninfo, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def fresh_store(backend: str) -> Iterator[Store]:
    """A temporary directory, and on PostgreSQL a throwaway database; both removed after."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    with tempfile.TemporaryDirectory(prefix="custody-bench-") as directory:
        if backend == "sqlite":
            yield Store(backend, Path(directory))
        else:
            with pg_database() as url:
                yield Store(backend, Path(directory), url)


@contextmanager
def custody_runtime(store: Store, name: str = "custody") -> Iterator[Runtime]:
    """A freshly bootstrapped custody runtime on ``store``; closed afterwards."""
    rt = bootstrap(store.settings(name))
    try:
        yield rt
    finally:
        rt.close()


# -- timing ----------------------------------------------------------------------------


def timed(function: Callable[[], T]) -> tuple[T, float]:
    """Call ``function`` once; return its result and the wall-clock seconds it took."""
    began = time.perf_counter()
    result = function()
    return result, time.perf_counter() - began


@dataclass
class Rate:
    """Events per second over repeated rounds; the median round is the figure."""

    rounds: list[tuple[int, float]] = field(default_factory=list)

    def add(self, events: int, seconds: float) -> None:
        self.rounds.append((events, seconds))

    @property
    def per_round(self) -> list[float]:
        return [events / seconds for events, seconds in self.rounds if seconds > 0]

    @property
    def median(self) -> float:
        return statistics.median(self.per_round) if self.rounds else 0.0

    @property
    def events(self) -> int:
        return sum(events for events, _ in self.rounds)

    def detail(self) -> str:
        rates = self.per_round
        if len(rates) < 2:
            return f"{self.events:,} events"
        return (f"median of {len(rates)} rounds, range {min(rates):,.0f}-{max(rates):,.0f}; "
                f"{self.events:,} events")


def paired_ratio(numerator: Rate, denominator: Rate) -> float:
    """Median over rounds of numerator/denominator, each pair measured back to back, so
    that load from elsewhere on the machine hits both sides of each ratio alike."""
    pairs = [a / b for a, b in zip(numerator.per_round, denominator.per_round, strict=True)]
    return statistics.median(pairs) if pairs else float("nan")


def load_average() -> str:
    """The 1-minute load average and the core count: a busy machine skews every figure."""
    return f"load average {os.getloadavg()[0]:.2f} on {cpu_count()} cores"


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


# -- synthetic data -------------------------------------------------------------------


def personnummer(index: int) -> str:
    """A valid synthetic personnummer, distinct for each ``index`` below 1,000,000."""
    birth = dt.date(2008, 1, 1) + dt.timedelta(days=index // 1000)
    return synthetic(birth, index % 1000).formatted()


def subject_supply(rt: Runtime, count: int, *, ahead: bool) -> Callable[[], UUID]:
    """Subject keys for captures: made one per call (one insert each, the real path), or
    ``count`` of them in one bulk insert now (``ahead``), handed out one per call."""
    if not ahead:
        return rt.vault.new_subject
    made = iter(rt.vault.new_subjects(count))
    return lambda: next(made)


# -- output ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A bound a figure should meet: ``at_least`` a value, or stay ``below`` it."""

    bound: float
    at_least: bool = True
    unit: str = ""

    def met(self, value: float) -> bool:
        return value >= self.bound if self.at_least else value < self.bound

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"target {'>=' if self.at_least else '<'} {self.bound:,g}{unit}"


@dataclass
class Report:
    """Prints aligned result lines and remembers every targeted figure for the verdicts."""

    verdicts: list[tuple[str, str, bool]] = field(default_factory=list)

    @staticmethod
    def heading(text: str) -> None:
        print(f"\n== {text} ==", flush=True)

    @staticmethod
    def note(text: str) -> None:
        print(f"   {text}", flush=True)

    def figure(self, label: str, value: float, unit: str, *, fmt: str = ",.0f",
               target: Target | None = None, detail: str = "", scope: str = "") -> None:
        """One labelled figure, with its target and whether it is met, if it has one."""
        text = f"{value:{fmt}}"
        line = f"  {label:<{LABEL_WIDTH}} {text:>10} {unit:<9}"
        if target is not None:
            ok = target.met(value)
            line += f" [{target}: {'met' if ok else 'NOT MET'}]"
            name = f"{scope}: {label}" if scope else label
            self.verdicts.append((name, f"{text} {unit} ({target})", ok))
        if detail:
            line += f" ({detail})"
        print(line, flush=True)

    def summary(self, title: str) -> None:
        """One verdict line per targeted figure."""
        self.heading(f"{title}: verdicts")
        width = max((len(name) for name, _, _ in self.verdicts), default=0)
        for name, value, ok in self.verdicts:
            print(f"  {'met    ' if ok else 'NOT MET'}  {name:<{width}}  {value}")


def cpu_count() -> int:
    """Cores this process may use (the number of verification workers)."""
    return os.cpu_count() or 1
