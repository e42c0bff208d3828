"""Answers that stay true under faults: while another connection terminates the service's
PostgreSQL backends again and again, eight clients write through HTTP; afterwards every
answer is compared with the store. No answer may deny a write that was committed (503
"nothing was stored" or 409), none may claim one that was not, and the service recovers
without a restart."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.conftest import PG_ADMIN_URL
from tests.factories import pnr, seed_staff, sha

CLIENTS = 8
TERMINATIONS = 20


@dataclass
class Answer:
    what: str  # "capture" or "hold"
    personnummer: str
    status: int
    body: dict[str, Any]


@pytest.fixture
def fault_db() -> Iterator[str]:
    """A database of its own: the terminations hit only this test's service."""
    name = f"custody_fault_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def service(fault_db: str, tmp_path: Path) -> Iterator[Runtime]:
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{fault_db}"
    rt = bootstrap(Settings(data_dir=tmp_path / "data", database_url=url))
    rt.start_background()  # the library's runner and the sealer, as in `custody serve`
    yield rt
    rt.close()


def terminate_backends(database: str, stop: threading.Event, done: list[int]) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for _ in range(TERMINATIONS):
            if stop.wait(0.35):
                return
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchall()
            done.append(len(rows))


def capture_body(personnummer: str) -> dict[str, Any]:
    return {"kind": "student_documentation", "personnummer": personnummer,
            "name": "Fela Felsson", "school_id": "holmes", "class": "9B",
            "documents": [{"title": "IUP", "category": "iup", "sha256": sha(personnummer),
                           "pages": 2}]}


def write_until(client: TestClient, token: str, worker: int, stop: threading.Event,
                answers: list[Answer]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    number = 0
    while not stop.is_set():
        number += 1
        personnummer = pnr(2003, 1 + worker, 1 + number % 28, 100 + number)
        response = client.post("/api/v1/records", json=capture_body(personnummer),
                               headers=headers)
        answers.append(Answer("capture", personnummer, response.status_code, response.json()))
        record_id = response.json().get("id") if response.status_code == 201 else None
        if record_id:
            response = client.post(f"/api/v1/records/{record_id}/holds",
                                   json={"reason": "fault test"}, headers=headers)
            answers.append(Answer("hold", personnummer, response.status_code,
                                  response.json()))


def stored_version(rt: Runtime, personnummer: str) -> int:
    """The record's version in the event store (0: not captured)."""
    record_id: UUID = rt.custody.student_record_id(personnummer)
    events = rt.custody.recorder.select_events(record_id)
    return max((e.originator_version for e in events), default=0)


def denies(answer: Answer) -> bool:
    return answer.status == 409 or (
        answer.status == 503 and "outcome-unknown" not in answer.body.get("type", ""))


def test_no_answer_denies_a_committed_write_while_backends_are_terminated(
    service: Runtime, fault_db: str
) -> None:
    staff = seed_staff(service.custody)
    token = staff.tokens["archivist"]
    answers: list[Answer] = []
    terminated: list[int] = []
    stop = threading.Event()
    app = create_app(runtime=service)
    with TestClient(app, raise_server_exceptions=False) as client:
        writers = [threading.Thread(target=write_until,
                                    args=(client, token, w, stop, answers))
                   for w in range(CLIENTS)]
        killer = threading.Thread(target=terminate_backends, args=(fault_db, stop, terminated))
        for thread in writers:
            thread.start()
        killer.start()
        killer.join(timeout=40)
        stop.set()
        for thread in writers:
            thread.join(timeout=30)

        # Recovery without a restart: the next requests all succeed.
        time.sleep(0.3)
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(6):
            response = client.post("/api/v1/records", json=capture_body(
                pnr(1999, 12, 1 + i, 900 + i)), headers=headers)
            assert response.status_code == 201, response.text
        assert client.get("/healthz").status_code == 200

    assert len(terminated) == TERMINATIONS and sum(terminated) > 0
    wrong: list[str] = []
    for answer in answers:
        version = stored_version(service, answer.personnummer)
        stored = version >= (1 if answer.what == "capture" else 2)
        if stored and denies(answer):
            wrong.append(f"{answer.what} {answer.personnummer}: stored, answered "
                         f"{answer.status} {answer.body}")
        if not stored and 200 <= answer.status < 300:
            wrong.append(f"{answer.what} {answer.personnummer}: not stored, answered "
                         f"{answer.status}")
    failed = [a for a in answers if a.status >= 500]
    print(f"{len(answers)} answers, {len(failed)} failed, terminated {sum(terminated)} "
          f"backends in {len(terminated)} rounds")
    assert not wrong, "\n".join(wrong[:20])
    assert len(answers) > 30


def test_the_requests_after_all_connections_were_terminated_succeed(
    service: Runtime, fault_db: str
) -> None:
    """Dead pooled connections are noticed and replaced, not handed to the next requests
    one by one."""
    staff = seed_staff(service.custody)
    headers = {"Authorization": f"Bearer {staff.tokens['archivist']}"}
    with TestClient(create_app(runtime=service), raise_server_exceptions=False) as client:
        for round_ in range(3):
            for i in range(4):  # fill the pools with connections that were just used
                client.post("/api/v1/records", headers=headers,
                            json=capture_body(pnr(1998, 1 + round_, 1 + i, 300 + i)))
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (fault_db,))
            time.sleep(0.1)
            answers = [client.post("/api/v1/records", headers=headers, json=capture_body(
                pnr(1997, 1 + round_, 1 + i, 500 + i))).status_code for i in range(6)]
            assert answers == [201] * 6, answers
