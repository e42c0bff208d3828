"""Benchmark of the HTTP service under 32 concurrent clients, next to a bare FastAPI app.

On SQLite (a temporary directory) and on PostgreSQL (a throwaway database
``custody_bench_<random>``, dropped WITH (FORCE) at the end), each in a fresh store:

1. registers an admin with the command line (``python -m api.cli actors add``), starts the
   real service with uvicorn in a subprocess on a free port, and seeds over HTTP one school
   unit, an archivist, its custodian, 32 teachers and two students per teacher (captured,
   school copy printed and delivered, the teacher assigned);
2. runs 32 concurrent clients for a fixed time: teachers ordering their students'
   documentation (``POST /api/v1/requests``), then the archivist reading records
   (``GET /api/v1/records/{id}``); prints requests/s and p50/p99 latency of each;
3. in the same run, on the same database (its own schema or SQLite file), serves
   ``bare_app`` below the same way: a FastAPI app whose plain ``def`` endpoints save one
   small aggregate event with a bare ``eventsourcing.application.Application`` (and read
   one back), under the same 32 clients; prints the ratio service/bare of the throughputs
   (target >= 0.7) and the service's p99 (target < 50 ms).

    .venv/bin/python bench/api.py            # 8 s per phase, about 2.5 minutes in all
    .venv/bin/python bench/api.py --quick    # 1.5 s per phase, about 35 seconds
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

# Runnable as a plain script from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from fastapi import FastAPI, Request

from bench.common import (
    BACKENDS,
    REPO_ROOT,
    Report,
    Store,
    Target,
    fresh_store,
    load_average,
    percentile,
    personnummer,
)

CLIENTS = 32
TEACHERS = 32
STUDENTS_PER_TEACHER = 2
RATIO = Target(0.7, unit="x")
P99 = Target(50, at_least=False, unit="ms")
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


# -- the bare baseline: FastAPI + eventsourcing, nothing else -------------------------------


class Note(Aggregate):
    """One small aggregate whose creation is the one event the baseline saves."""

    def __init__(self, text: str) -> None:
        self.text = text


@asynccontextmanager
async def bare_lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Persistence comes from the environment the benchmark gives the subprocess.
    application: Application[UUID] = Application()
    app.state.events = application
    try:
        yield
    finally:
        application.close()


bare_app = FastAPI(title="bare baseline", lifespan=bare_lifespan)


@bare_app.post("/bare/notes", status_code=201)
def save_note(request: Request) -> dict[str, str]:
    note = Note("bench")
    request.app.state.events.save(note)
    return {"id": str(note.id)}


@bare_app.get("/bare/notes/{note_id}")
def read_note(note_id: UUID, request: Request) -> dict[str, str]:
    note = request.app.state.events.repository.get(note_id)
    return {"id": str(note.id), "text": note.text}


@bare_app.get("/healthz")
def bare_health() -> dict[str, str]:
    return {"status": "ok"}


# -- serving in a subprocess -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    env.update(extra)
    return env


def service_env(store: Store) -> dict[str, str]:
    extra = {"CUSTODY_DATA_DIR": str(store.workdir / "service")}
    if store.pg_url is not None:
        extra["CUSTODY_DATABASE_URL"] = store.pg_url
    return clean_env(**extra)


@contextmanager
def served(target: str, env: dict[str, str], log: Path, *, factory: bool) -> Iterator[str]:
    """``uvicorn <target>`` in a subprocess on a free port, until it answers /healthz."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    if factory:
        command.insert(3, "--factory")
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{target} did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def admin_token(env: dict[str, str]) -> str:
    """The first admin, registered the way an operator does it: the last line of stdout."""
    subprocess.run([sys.executable, "-m", "api.cli", "init"], env=env, cwd=REPO_ROOT,
                   capture_output=True, text=True, timeout=120, check=True)
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "actors", "add", "Bench Admin", "--role", "admin"],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"custody actors add failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


# -- seeding over HTTP -----------------------------------------------------------------------


@dataclass
class Seeded:
    archivist: str
    teachers: list[str] = field(default_factory=list)
    students: list[list[str]] = field(default_factory=list)
    """The record ids of each teacher's students."""

    @property
    def records(self) -> list[str]:
        return [r for mine in self.students for r in mine]


def seed(base: str, admin: str) -> Seeded:
    with httpx.Client(base_url=base, timeout=30) as client:

        def call(token: str, path: str, body: dict[str, Any], expect: int) -> Any:
            response = client.post(path, json=body,
                                   headers={"Authorization": f"Bearer {token}"})
            if response.status_code != expect:
                raise RuntimeError(f"seeding {path}: {response.status_code} {response.text}")
            return response.json()

        def actor(name: str, role: str, school: str | None = None) -> tuple[str, str]:
            body = call(admin, "/api/v1/actors",
                        {"name": name, "role": role, "school_id": school}, 201)
            return str(body["id"]), str(body["token"])

        call(admin, "/api/v1/schools", {"id": "holmes", "name": "Holmesskolan"}, 201)
        _, archivist = actor("Arne Arkivarie", "archivist")
        _, custodian = actor("Cilla Holmes", "custodian", "holmes")
        seeded = Seeded(archivist)
        for t in range(TEACHERS):
            teacher_id, token = actor(f"Lärare {t}", "teacher", "holmes")
            mine = []
            for s in range(STUDENTS_PER_TEACHER):
                pnr = personnummer(t * STUDENTS_PER_TEACHER + s)
                record = call(archivist, "/api/v1/records", {
                    "kind": "student_documentation", "personnummer": pnr,
                    "name": f"Elev {t}-{s}", "school_id": "holmes",
                    "documents": [{"title": "IUP", "category": "iup", "sha256": SHA,
                                   "pages": 2}]}, 201)["id"]
                copies = f"/api/v1/records/{record}/copies"
                copy = call(archivist, copies, {"purpose": "school", "school_id": "holmes"},
                            201)["id"]
                call(custodian, f"{copies}/{copy}/delivery", {"school_id": "holmes"}, 200)
                call(admin, f"/api/v1/actors/{teacher_id}/assignments",
                     {"personnummer": pnr}, 201)
                mine.append(str(record))
            seeded.teachers.append(token)
            seeded.students.append(mine)
        return seeded


# -- load ------------------------------------------------------------------------------------

Plan = Callable[[int, int], tuple[str, str, dict[str, Any] | None]]
"""(client, iteration) -> (method, path, json)."""


@dataclass
class Load:
    latencies: list[float]
    seconds: float
    failures: Counter[int]
    created: list[str]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) * 1000


async def drive(base: str, tokens: Sequence[str | None], plan: Plan, duration: float,
                warmup: float) -> Load:
    """CLIENTS clients, each with its own connection, sending back to back for ``warmup``
    plus ``duration`` seconds; only what completes after the warm-up is counted."""
    began = time.perf_counter()
    measured_from = began + warmup
    end = measured_from + duration
    latencies: list[float] = []
    failures: Counter[int] = Counter()
    created: list[str] = []

    async def client(index: int) -> None:
        token = tokens[index % len(tokens)]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            iteration = 0
            while time.perf_counter() < end:
                method, path, body = plan(index, iteration)
                iteration += 1
                sent = time.perf_counter()
                response = await http.request(method, path, json=body)
                done = time.perf_counter()
                if done < measured_from or done > end:
                    continue
                if response.is_success:
                    latencies.append(done - sent)
                    if method == "POST" and len(created) < 5000:
                        created.append(response.json()["id"])
                else:
                    failures[response.status_code] += 1

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return Load(latencies, duration, failures, created)


def load(base: str, tokens: Sequence[str | None], plan: Plan, duration: float) -> Load:
    return asyncio.run(drive(base, tokens, plan, duration, warmup=min(1.0, duration / 2)))


# -- one backend -----------------------------------------------------------------------------


@dataclass
class Figures:
    requests: Load
    records: Load
    bare_saves: Load
    bare_reads: Load


def measure(store: Store, duration: float) -> Figures:
    env = service_env(store)
    admin = admin_token(env)
    with served("api.app:create_app", env, store.workdir / "service.log", factory=True) as base:
        seeded = seed(base, admin)
        requests = load(base, seeded.teachers, lambda c, i: (
            "POST", "/api/v1/requests",
            {"record_id": seeded.students[c % TEACHERS][i % STUDENTS_PER_TEACHER],
             "purpose": "utvecklingssamtal"}), duration)
        records_ = seeded.records
        # The first read waits until the views have caught up with the writes above.
        httpx.get(f"{base}/api/v1/records/{records_[0]}", timeout=60,
                  headers={"Authorization": f"Bearer {seeded.archivist}"}).raise_for_status()
        records = load(base, [seeded.archivist], lambda c, i: (
            "GET", f"/api/v1/records/{records_[(c * 7 + i) % len(records_)]}", None), duration)
    bare_env = clean_env(**store.bare_env("bare"))
    with served("bench.api:bare_app", bare_env, store.workdir / "bare.log",
                factory=False) as base:
        saves = load(base, [None], lambda c, i: ("POST", "/bare/notes", None), duration)
        notes = saves.created or ["00000000-0000-4000-8000-000000000000"]
        reads = load(base, [None], lambda c, i: (
            "GET", f"/bare/notes/{notes[(c * 7 + i) % len(notes)]}", None), duration)
    return Figures(requests, records, saves, reads)


def print_figures(report: Report, backend: str, figures: Figures) -> None:
    pairs = [("POST /api/v1/requests", "32 teachers order documents", figures.requests,
              "bare save of one event", figures.bare_saves),
             ("GET /api/v1/records/{id}", "the archivist reads records", figures.records,
              "bare read of one aggregate", figures.bare_reads)]
    for endpoint, who, service, bare_label, bare in pairs:
        scope = f"{backend} {endpoint}"
        report.note(f"{endpoint} ({who})  vs  {bare_label}")
        report.figure("service: throughput", service.rate, "req/s")
        report.figure("service: p50 latency", service.ms(0.50), "ms", fmt=",.1f")
        report.figure("service: p99 latency", service.ms(0.99), "ms", fmt=",.1f", target=P99,
                      scope=scope)
        report.figure("bare: throughput", bare.rate, "req/s")
        report.figure("bare: p50 latency", bare.ms(0.50), "ms", fmt=",.1f")
        report.figure("bare: p99 latency", bare.ms(0.99), "ms", fmt=",.1f")
        ratio = service.rate / bare.rate if bare.rate else float("nan")
        report.figure("throughput service/bare", ratio, "x", fmt=".2f", target=RATIO,
                      scope=scope)
        failed = service.failures + bare.failures
        if failed:
            report.note(f"non-2xx responses, not counted: {dict(failed)}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1.5 s per phase: a smoke run")
    parser.add_argument("--seconds", type=float, default=None,
                        help="measured seconds per phase (default 8, or 1.5 with --quick)")
    parser.add_argument("--backend", choices=BACKENDS, action="append",
                        help="only this backend (repeatable; default both)")
    args = parser.parse_args(argv)
    duration = args.seconds or (1.5 if args.quick else 8.0)
    report = Report()
    print(f"{CLIENTS} concurrent clients, {duration:g} s measured per phase after a "
          f"warm-up; {load_average()}")
    for backend in args.backend or BACKENDS:
        report.heading(f"{backend}: the service next to a bare FastAPI + eventsourcing app")
        with fresh_store(backend) as store:
            print_figures(report, backend, measure(store, duration))
        report.note(load_average())
    report.summary("HTTP API under load")


if __name__ == "__main__":
    main()
