"""The real service started the way `make run` starts it, spoken to over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    env["CUSTODY_DATA_DIR"] = str(tmp_path / "var")
    subprocess.run([sys.executable, "-m", "api.cli", "init"], env=env, cwd=ROOT,
                   capture_output=True, check=True, timeout=60)
    token = subprocess.run(
        [sys.executable, "-m", "api.cli", "actors", "add", "Ada Admin", "--role", "admin"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip().splitlines()[-1]
    port = free_port()
    env["PORT"] = str(port)
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError("the service did not start")
            time.sleep(0.2)
        yield base, {"Authorization": f"Bearer {token}"}
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_the_service_answers_over_http_and_issues_checkpoints(
    server: tuple[str, dict[str, str]]
) -> None:
    base, auth = server
    assert httpx.get(f"{base}/api/v1/schools", timeout=5).status_code == 401
    created = httpx.post(f"{base}/api/v1/schools", json={"id": "holmes", "name": "Holmesskolan"},
                         headers=auth, timeout=5)
    assert created.status_code == 201, created.text
    schools = httpx.get(f"{base}/api/v1/schools", headers=auth, timeout=5).json()
    assert [s["id"] for s in schools["items"]] == ["holmes"]
    # The background sealer signs a checkpoint within its interval (default 1 s): the
    # admin with a first token (two events), the seed culling decision (registered on
    # the first start) and the school unit.
    deadline = time.monotonic() + 10
    while True:
        note = httpx.get(f"{base}/api/v1/log/checkpoint", headers=auth, timeout=5)
        if note.status_code == 200 and note.text.split("\n")[1] == "4":
            break
        assert time.monotonic() < deadline, note.text
        time.sleep(0.2)
    assert note.headers["content-type"].startswith("text/plain")
    assert note.text.startswith("records-custody\n")
