"""HTTP benchmark driven by wrk, a C load generator in its own process, next to a bare app
doing the same database round trips — service and bare phases alternating, medians of 3.

Why not the Python client of ``bench/api.py``: on 2 cores a Python client takes the CPU the
server needs and holds the bare baseline back (it measured the bare app at 760-950 req/s,
wrk at 1,320-1,490). wrk is installed from Debian's packages if it is missing.

For each backend (SQLite in a temporary directory, PostgreSQL in a throwaway database):
1. the real service (``uvicorn --factory api.app:create_app``) and the bare app below run
   side by side, each in its own process; the service is seeded over HTTP like
   ``bench/api.py`` (one school unit, 32 teachers with two students each);
2. three rounds, each: service ``POST /api/v1/requests`` (32 connections, the teachers'
   tokens in turn), bare ``POST /bare/requests``, service ``GET /api/v1/records/{id}``,
   bare ``GET /bare/notes/{id}``; per phase: requests/s, p50/p99 from wrk, and the server
   process's CPU time per request (user + system, from /proc);
3. a fixed-rate phase at about 200 requests/s (wrk's ``delay()`` per connection) for the
   service's POST and GET: p99 there (target < 50 ms).

The bare app's POST does what the service's does in round trips: it reads two aggregates
(the record and the asking teacher) and saves one new aggregate; its GET reads the log's
head (the service's read-your-writes check) and one aggregate.

    .venv/bin/python bench/http_load.py            # 6 s per phase, about 4 minutes
    .venv/bin/python bench/http_load.py --quick    # 2 s per phase
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from eventsourcing.application import Application
from fastapi import FastAPI, Request

from bench.api import Note, admin_token, clean_env, free_port, seed, service_env
from bench.common import BACKENDS, REPO_ROOT, Report, Store, Target, fresh_store

RATIO = Target(0.65, unit="x")
P99_AT_200 = Target(50, at_least=False, unit="ms")
CONNECTIONS = 32
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the bare app: the same round trips, nothing else ------------------------------------------


@asynccontextmanager
async def bare_lifespan(app: FastAPI) -> AsyncIterator[None]:
    application: Application[UUID] = Application()
    app.state.events = application
    first, second = Note("record"), Note("teacher")
    application.save(first, second)
    app.state.known = (first.id, second.id)
    try:
        yield
    finally:
        application.close()


bare_app = FastAPI(title="bare baseline (same round trips)", lifespan=bare_lifespan)


@bare_app.post("/bare/requests", status_code=201)
def bare_request(request: Request) -> dict[str, str]:
    events = request.app.state.events
    for known in request.app.state.known:
        events.repository.get(known)
    note = Note("request")
    events.save(note)
    return {"id": str(note.id), "status": "pending"}


@bare_app.get("/bare/notes/{note_id}")
def bare_read(note_id: UUID, request: Request) -> dict[str, str]:
    events = request.app.state.events
    events.recorder.max_notification_id()
    note = events.repository.get(note_id)
    return {"id": str(note.id), "text": note.text}


@bare_app.get("/healthz")
def bare_health() -> dict[str, str]:
    return {"status": "ok"}


# -- processes ----------------------------------------------------------------------------------


@dataclass
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK


@contextmanager
def serve(target: str, env: dict[str, str], log: Path, *, factory: bool) -> Iterator[Server]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port",
               str(port), "--no-access-log", "--log-level", "warning"]
    if factory:
        command.insert(3, "--factory")
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
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
            yield Server(base, process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk from Debian's packages ...", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=False,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and apt-get could not install it")
    return found


# -- wrk -------------------------------------------------------------------------------------------


def lua_script(path: Path, requests: Sequence[tuple[str, str, dict[str, str], str | None]],
               delay_ms: float | None = None) -> Path:
    """A wrk script that sends the given requests in turn (each connection its own turn)."""
    # Requests are formatted in init(): only then does wrk know the Host header.
    lines = ["local reqs = {}", "function init(args)"]
    for method, target, headers, body in requests:
        lua_headers = "{" + ", ".join(f"[{json.dumps(k)}]={json.dumps(v)}"
                                      for k, v in headers.items()) + "}"
        lua_body = json.dumps(body) if body is not None else "nil"
        lines.append(f"reqs[#reqs+1] = wrk.format({json.dumps(method)}, {json.dumps(target)}, "
                     f"{lua_headers}, {lua_body})")
    lines += ["end", "local i = 0",
              "request = function()", "  i = i % #reqs + 1", "  return reqs[i]", "end",
              # Count answers by status per thread, and print the sums at the end.
              "local threads = {}",
              "function setup(thread) table.insert(threads, thread) end",
              "statuses = {}",
              "function response(status, headers, body)",
              "  statuses[status] = (statuses[status] or 0) + 1", "end",
              "function done(summary, latency, requests)",
              "  local sums = {}",
              "  for _, t in ipairs(threads) do",
              "    for code, n in pairs(t:get('statuses')) do",
              "      sums[code] = (sums[code] or 0) + n end end",
              "  for code, n in pairs(sums) do",
              "    io.write(string.format('STATUS %d %d\\n', code, n)) end",
              "end"]
    if delay_ms is not None:
        lines += ["delay = function()", f"  return {delay_ms:.1f}", "end"]
    path.write_text("\n".join(lines) + "\n")
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Phase:
    rate: float
    p50: float
    p99: float
    requests: int
    errors: int
    cpu_ms_per_request: float
    statuses: dict[int, int]


def run_wrk(wrk: str, server: Server, script: Path, *, seconds: float,
            connections: int = CONNECTIONS) -> Phase:
    before = server.cpu_seconds()
    done = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", "--timeout", "10s",
         "-s", str(script), server.base],
        capture_output=True, text=True, check=True)
    cpu = server.cpu_seconds() - before
    out = done.stdout
    latency = {m.group(1): float(m.group(2)) * _UNITS[m.group(3)]
               for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    statuses = {int(m.group(1)): int(m.group(2))
                for m in re.finditer(r"^STATUS (\d+) (\d+)$", out, re.M)}
    errors = sum(n for code, n in statuses.items() if code >= 300)
    # Only successful answers count towards throughput.
    rate = rate * (requests - errors) / requests if requests else 0.0
    return Phase(rate, latency.get("50", float("nan")), latency.get("99", float("nan")),
                 requests, errors, cpu * 1000 / requests if requests else float("nan"),
                 statuses)


def median(phases: Sequence[Phase], attribute: str) -> float:
    return statistics.median(getattr(p, attribute) for p in phases)


# -- one backend ----------------------------------------------------------------------------------


def measure(store: Store, wrk: str, seconds: float, report: Report, backend: str) -> None:
    env = service_env(store)
    admin = admin_token(env)
    scripts = Path(tempfile.mkdtemp(prefix="wrk-"))
    with serve("api.app:create_app", env, store.workdir / "service.log",
               factory=True) as service, \
            serve("bench.http_load:bare_app", clean_env(**store.bare_env("bare")),
                  store.workdir / "bare.log", factory=False) as bare:
        seeded = seed(service.base, admin)
        json_headers = {"Content-Type": "application/json"}
        posts = [("POST", "/api/v1/requests",
                  {**json_headers, "Authorization": f"Bearer {token}"},
                  json.dumps({"record_id": record, "purpose": "utvecklingssamtal"}))
                 for token, mine in zip(seeded.teachers, seeded.students, strict=True)
                 for record in mine]
        reads = [("GET", f"/api/v1/records/{record}",
                  {"Authorization": f"Bearer {seeded.archivist}"}, None)
                 for record in seeded.records]
        notes = [httpx.post(f"{bare.base}/bare/requests", timeout=10).json()["id"]
                 for _ in range(64)]
        bare_posts = [("POST", "/bare/requests", json_headers, "{}")]
        bare_reads = [("GET", f"/bare/notes/{n}", {}, None) for n in notes]
        s_post = lua_script(scripts / "s_post.lua", posts)
        s_get = lua_script(scripts / "s_get.lua", reads)
        b_post = lua_script(scripts / "b_post.lua", bare_posts)
        b_get = lua_script(scripts / "b_get.lua", bare_reads)
        # Warm both up (first reads catch the views up with the seeding).
        run_wrk(wrk, service, s_get, seconds=1, connections=4)
        run_wrk(wrk, bare, b_get, seconds=1, connections=4)
        results: dict[str, list[Phase]] = {k: [] for k in ("sp", "bp", "sg", "bg")}
        for _ in range(3):
            results["sp"].append(run_wrk(wrk, service, s_post, seconds=seconds))
            results["bp"].append(run_wrk(wrk, bare, b_post, seconds=seconds))
            results["sg"].append(run_wrk(wrk, service, s_get, seconds=seconds))
            results["bg"].append(run_wrk(wrk, bare, b_get, seconds=seconds))
        # About 200 requests/s: 10 connections, each waiting so that 10 x 1000 / (delay +
        # latency) is about 200; the achieved rate is printed beside the p99.
        fixed = {
            "POST": run_wrk(wrk, service, lua_script(scripts / "f_post.lua", posts, 45.0),
                            seconds=max(seconds, 4), connections=10),
            "GET": run_wrk(wrk, service, lua_script(scripts / "f_get.lua", reads, 47.0),
                           seconds=max(seconds, 4), connections=10),
        }
    for label, s_key, b_key in (("POST /api/v1/requests vs bare POST (same round trips)",
                                 "sp", "bp"),
                                ("GET /api/v1/records/{id} vs bare GET (same round trips)",
                                 "sg", "bg")):
        service_phases, bare_phases = results[s_key], results[b_key]
        report.note(label)
        report.figure("service: throughput (median of 3)", median(service_phases, "rate"),
                      "req/s")
        report.figure("bare: throughput (median of 3)", median(bare_phases, "rate"), "req/s")
        ratios = [s.rate / b.rate for s, b in zip(service_phases, bare_phases, strict=True)]
        report.figure("throughput service/bare (median of paired rounds)",
                      statistics.median(ratios), "x", fmt=".2f", target=RATIO,
                      scope=f"{backend} {label.split(' vs')[0]}")
        report.figure("service: CPU per request", median(service_phases, "cpu_ms_per_request"),
                      "ms", fmt=".2f")
        report.figure("bare: CPU per request", median(bare_phases, "cpu_ms_per_request"),
                      "ms", fmt=".2f")
        report.figure("service: p50 under 32 connections",
                      median(service_phases, "p50"), "ms", fmt=".1f")
        report.figure("service: p99 under 32 connections", median(service_phases, "p99"), "ms",
                      fmt=".1f")
        for who, phases in (("service", service_phases), ("bare", bare_phases)):
            failed: dict[int, int] = {}
            for phase in phases:
                for code, n in phase.statuses.items():
                    if code >= 300:
                        failed[code] = failed.get(code, 0) + n
            if failed:
                report.note(f"{who}: answers that were not a success, by status: {failed}")
    for method, phase in fixed.items():
        report.note(f"fixed rate, service {method}: {phase.rate:.0f} req/s achieved")
        report.figure(f"service {method}: p99 at ~200 req/s", phase.p99, "ms", fmt=".1f",
                      target=P99_AT_200, scope=f"{backend} {method} at 200/s")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s per phase")
    parser.add_argument("--backend", choices=BACKENDS, action="append")
    args = parser.parse_args(argv)
    wrk = ensure_wrk()
    seconds = 2.0 if args.quick else 6.0
    report = Report()
    for backend in args.backend or BACKENDS:
        report.heading(f"HTTP under wrk, {backend}")
        with fresh_store(backend) as store:
            measure(store, wrk, seconds, report, backend)
    report.summary("HTTP (wrk)")


if __name__ == "__main__":
    main()
