"""Truthful answers at the edges: bodies over the limit get 413 before they are read whole
(a real uvicorn, a 300 MB body streamed at it), undecodable text gets 422 problem+json,
and every response carries ``Cache-Control: no-store``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psutil
import pytest

from tests.e2e.conftest import Api, make_staff
from tests.e2e.test_server import ROOT, free_port

MB = 1024 * 1024


@dataclass
class Server:
    host: str
    port: int
    pid: int
    token: str

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def rss(self) -> int:
        return int(psutil.Process(self.pid).memory_info().rss)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real service for the module (starting one costs seconds on a busy machine)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    env["CUSTODY_DATA_DIR"] = str(tmp_path_factory.mktemp("limits") / "var")
    env["CUSTODY_MAX_UPLOAD_BYTES"] = str(2 * MB)
    subprocess.run([sys.executable, "-m", "api.cli", "init"], env=env, cwd=ROOT,
                   capture_output=True, check=True, timeout=60)
    token = subprocess.run(
        [sys.executable, "-m", "api.cli", "actors", "add", "Ada Admin", "--role", "admin"],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip().splitlines()[-1]
    port = free_port()
    env["PORT"] = str(port)
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "no service"
            time.sleep(0.2)
        yield Server("127.0.0.1", port, process.pid, token)
    finally:
        process.terminate()
        process.wait(timeout=15)


def stream_body(server: Server, path: str, total: int, headers: dict[str, str]
                ) -> tuple[int, bytes, int]:
    """POST ``total`` bytes in chunks (chunked encoding) while watching the server's RSS;
    return the status, the body of the answer and the highest RSS seen."""
    sock = socket.create_connection((server.host, server.port), timeout=30)
    head = [f"POST {path} HTTP/1.1", f"Host: {server.host}", "Transfer-Encoding: chunked",
            "Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    chunk = b"[" + b"1," * (32 * 1024) + b"1]"
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    stop = threading.Event()
    peak = server.rss()

    def send() -> None:
        sent = 0
        try:
            while sent < total and not stop.is_set():
                sock.sendall(framed)
                sent += len(chunk)
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: what we want

    def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, server.rss())
            time.sleep(0.02)

    threads = [threading.Thread(target=send), threading.Thread(target=watch)]
    for t in threads:
        t.start()
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        head_text, _, rest = answer.partition(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head_text.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(rest) < length:
            data = sock.recv(65536)
            if not data:
                break
            rest += data
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        sock.close()
    status = int(head_text.split(b" ")[1])
    return status, rest, peak


class TestBodyLimits:
    def test_a_300_mb_body_without_a_token_gets_413_and_memory_stays_flat(
        self, served: Server
    ) -> None:
        before = served.rss()
        status, body, peak = stream_body(served, "/api/v1/records", 300 * MB, {})
        assert status == 413
        problem = json.loads(body)
        assert problem["status"] == 413 and "nothing was stored" in problem["detail"]
        assert peak - before < 50 * MB, f"RSS grew by {(peak - before) / MB:.0f} MB"

    def test_a_declared_length_over_the_limit_is_refused_before_reading(
        self, served: Server
    ) -> None:
        sock = socket.create_connection((served.host, served.port), timeout=10)
        sock.sendall(b"POST /api/v1/schools HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n")
        answer = sock.recv(65536)
        sock.close()
        assert answer.startswith(b"HTTP/1.1 413")
        assert b"application/problem+json" in answer

    def test_the_inventory_upload_has_its_own_larger_limit(self, served: Server) -> None:
        auth = {"Authorization": f"Bearer {served.token}", "Content-Type": "text/csv"}
        header = "kind,personnummer,name,school_id,class,title,category,sha256,pages\n"
        small = httpx.post(f"{served.base}/api/v1/inventory", content=header.encode() * 20_000,
                           headers=auth, timeout=60)
        assert small.status_code != 413  # 1.4 MB: over the JSON limit, under the upload's
        status, _, _ = stream_body(served, "/api/v1/inventory", 3 * MB,
                                   {"Authorization": f"Bearer {served.token}"})
        assert status == 413

    def test_a_json_body_over_1_mib_is_413_with_a_token(self, served: Server) -> None:
        response = httpx.post(f"{served.base}/api/v1/schools",
                              content=b'{"id":"x","name":"' + b"a" * (2 * MB) + b'"}',
                              headers={"Authorization": f"Bearer {served.token}",
                                       "Content-Type": "application/json"}, timeout=30)
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"


LONE_SURROGATE = [
    ("admin", "/api/v1/schools", b'{"id": "nya", "name": "Ny\\ud800"}'),
    ("archivist", "/api/v1/records",
     b'{"kind": "general_information", "category": "newsletter", "title": "Brev", '
     b'"school_id": "hol\\udc00mes", "sha256": "' + b"a" * 64 + b'"}'),
    ("archivist", "/api/v1/records",
     b'{"kind": "student_documentation", "personnummer": "20040315-1230", "name": '
     b'"\\ud83d", "school_id": "holmes", "documents": [{"title": "x", "category": "iup", '
     b'"sha256": "' + b"a" * 64 + b'", "pages": 1}]}'),
    ("admin", "/api/v1/actors", b'{"name": "\\udfff", "role": "auditor"}'),
]


class TestUndecodableText:
    @pytest.mark.parametrize(("who", "path", "raw"), LONE_SURROGATE)
    def test_a_lone_surrogate_is_422_problem_json(self, api: Api, who: str, path: str,
                                                   raw: bytes) -> None:
        make_staff(api)
        before = api.client.get("/healthz").json()["events"]
        response = api.client.post(path, content=raw, headers={
            **api.as_(who), "Content-Type": "application/json"})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert api.client.get("/healthz").json()["events"] == before

    def test_invalid_utf8_in_a_query_is_not_a_server_error(self, api: Api) -> None:
        make_staff(api)
        response = api.client.get("/api/v1/records?q=%ED%A0%80&school_id=%FF",
                                  headers=api.as_("archivist"))
        assert response.status_code in (200, 422)
        assert response.headers["content-type"].startswith(
            "application/problem+json" if response.status_code == 422 else "application/json")


class TestNoStore:
    def test_every_api_and_web_response_says_no_store(self, api: Api) -> None:
        make_staff(api)
        for path, headers in (("/api/v1/schools", api.as_("admin")),
                              ("/api/v1/records/not-a-uuid", api.as_("admin")),
                              ("/api/v1/schools", {}),
                              ("/", {}), ("/docs", {}), ("/openapi.json", {})):
            response = api.client.get(path, headers=headers, follow_redirects=False)
            assert response.headers["cache-control"] == "no-store", path
