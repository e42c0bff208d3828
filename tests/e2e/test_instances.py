"""Two service instances on one PostgreSQL database: both serve, exactly one follows the
log and seals checkpoints, and when it dies (kill -9) the other takes over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import new_schema
from tests.e2e.test_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def _wait_healthy(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise AssertionError("the service did not start")
        time.sleep(0.2)


def _health(base: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base}/healthz", timeout=5).json()
    return body


@pytest.fixture
def two_instances(tmp_path: Path, pg_url: str
                  ) -> Iterator[tuple[list[str], list[subprocess.Popen[str]], dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    env.update(CUSTODY_DATA_DIR=str(tmp_path / "var"), CUSTODY_DATABASE_URL=pg_url,
               CUSTODY_DATABASE_SCHEMA=new_schema(pg_url), CUSTODY_LEASE_INTERVAL="0.5")
    subprocess.run([sys.executable, "-m", "api.cli", "init"], env=env, cwd=ROOT,
                   capture_output=True, check=True, timeout=60)
    token = subprocess.run(
        [sys.executable, "-m", "api.cli", "actors", "add", "Ada Admin", "--role", "admin"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip().splitlines()[-1]
    bases: list[str] = []
    processes: list[subprocess.Popen[str]] = []
    try:
        for _ in range(2):
            port = free_port()
            process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"],
                                       env={**env, "PORT": str(port)}, cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       text=True)
            processes.append(process)
            bases.append(f"http://127.0.0.1:{port}")
            _wait_healthy(bases[-1], process)
        yield bases, processes, {"Authorization": f"Bearer {token}"}
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=15)


def _leaders(bases: list[str], timeout: float) -> list[bool]:
    deadline = time.monotonic() + timeout
    while True:
        leaders = [bool(_health(base).get("leader")) for base in bases]
        if sum(leaders) == 1 or time.monotonic() > deadline:
            return leaders
        time.sleep(0.1)


def test_exactly_one_instance_leads_and_the_other_takes_over_within_five_seconds(
    two_instances: tuple[list[str], list[subprocess.Popen[str]], dict[str, str]]
) -> None:
    bases, processes, auth = two_instances
    leaders = _leaders(bases, timeout=5)
    assert sum(leaders) == 1, leaders
    leader = leaders.index(True)
    survivor = 1 - leader

    # Both serve writes; the views follow wherever the write came in.
    for i, base in enumerate(bases):
        created = httpx.post(f"{base}/api/v1/schools", json={"id": f"s{i}", "name": f"S{i}"},
                             headers=auth, timeout=10)
        assert created.status_code == 201, created.text

    processes[leader].send_signal(signal.SIGKILL)
    processes[leader].wait(timeout=10)
    killed_at = time.monotonic()
    while not _health(bases[survivor]).get("leader"):
        assert time.monotonic() - killed_at < 5, "the survivor did not take the lease over"
        time.sleep(0.1)

    created = httpx.post(f"{bases[survivor]}/api/v1/schools", json={"id": "s9", "name": "S9"},
                         headers=auth, timeout=10)
    assert created.status_code == 201, created.text
    # The survivor now seals: a checkpoint covers every event, and the views hold each
    # event once (position == events, no lag).
    deadline = time.monotonic() + 10
    while True:
        health = _health(bases[survivor])
        note = httpx.get(f"{bases[survivor]}/api/v1/log/checkpoint", headers=auth, timeout=5)
        size = int(note.text.split("\n")[1]) if note.status_code == 200 else -1
        if size == health["events"] and health["projection"]["lag"] == 0:
            break
        assert time.monotonic() < deadline, (health, note.text)
        time.sleep(0.2)
    assert health["status"] == "ok"
    assert health["projection"]["position"] == health["events"]
