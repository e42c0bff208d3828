"""Capture exists once (issue 16): the HTTP API, the inventory import and the demo all
capture through ``Custody.capture_batch``, so the same pupils captured through each door,
each into a fresh store, leave the same capture events, field by field (ids, data keys,
actors, timestamps and signatures aside). Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.demo import (
    DEMO_DOCUMENTS,
    SyntheticGeneral,
    capture_inventory,
    inventory_csv,
    student_rows,
    synthetic_students,
)
from application.importing import captured_already, import_inventory
from application.service import DocumentIn, StudentCapture
from domain.errors import AlreadyExistsError
from domain.record import Record
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.conftest import new_schema
from tests.factories import seed_staff

PUPILS = synthetic_students(7, coordination=[3])
GENERAL = [SyntheticGeneral("holmes", "newsletter", "Veckobrev v. 47"),
           SyntheticGeneral("fryken", "statistics", "Frånvarostatistik 2016/17")]
CAPTURES = (Record.StudentDocumentationCaptured.TOPIC, Record.GeneralInformationCaptured.TOPIC)
# What differs between stores by design: ids, keys, who and when, the signature chain.
NOT_COMPARED = {"originator_id", "originator_version", "timestamp", "subject", "actor"}

Store = Callable[[str], Runtime]


@pytest.fixture
def fresh_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                ) -> Iterator[Store]:
    """Makes fresh stores (each with its own keys) on the test's backend."""
    made: list[Runtime] = []

    def make(name: str) -> Runtime:
        data_dir = tmp_path / name
        if backend == "sqlite":
            settings = Settings(data_dir=data_dir)
        else:
            url = request.getfixturevalue("pg_url")
            settings = Settings(data_dir=data_dir, database_url=url,
                                database_schema=new_schema(url))
        rt = bootstrap(settings)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()


def capture_events(rt: Runtime) -> list[dict[str, Any]]:
    """Every capture event in the store, decrypted and checked, without what differs
    between stores, in a stable order."""
    found = []
    for notification in rt.custody.recorder.select_notifications(0, 10_000, topics=CAPTURES):
        record_id = UUID(str(notification.originator_id))
        (event,) = rt.custody.events.get(record_id, lte=1)
        fields = {k: v for k, v in vars(event).items() if k not in NOT_COMPARED}
        found.append({"topic": notification.topic, **fields})
    return sorted(found, key=repr)


def through_the_api(rt: Runtime) -> None:
    staff = seed_staff(rt.custody)
    bearer = {"Authorization": f"Bearer {staff.tokens['archivist']}"}
    with TestClient(create_app(runtime=rt)) as client:
        for pupil in PUPILS:
            rows = student_rows(pupil, DEMO_DOCUMENTS)
            body = {"kind": "student_documentation", "personnummer": pupil.personnummer,
                    "name": pupil.name, "school_id": pupil.school_id,
                    "class": pupil.class_name,
                    "documents": [{"title": r[5], "category": r[6], "sha256": r[7],
                                   "pages": int(r[8])} for r in rows]}
            answer = client.post("/api/v1/records", json=body, headers=bearer)
            assert answer.status_code == 201, answer.text
        for item in GENERAL:
            answer = client.post("/api/v1/records", headers=bearer, json={
                "kind": "general_information", "category": item.category,
                "title": item.title, "school_id": item.school_id, "sha256": item.sha256})
            assert answer.status_code == 201, answer.text


def through_the_import(rt: Runtime) -> None:
    staff = seed_staff(rt.custody)
    # The file an archivist would save from Swedish Excel: semicolons and a BOM.
    buffer = io.StringIO()
    rows = csv.reader(io.StringIO(inventory_csv(PUPILS, documents=DEMO_DOCUMENTS,
                                                general=GENERAL)))
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    report = import_inventory(rt.custody, staff.archivist, "\ufeff" + buffer.getvalue())
    assert (report.captured_students, report.captured_general, report.rejected) == (
        len(PUPILS), len(GENERAL), [])


def through_the_demo(rt: Runtime) -> None:
    staff = seed_staff(rt.custody)
    report = capture_inventory(rt.custody, staff.archivist, PUPILS, GENERAL)
    assert (report.captured_students, report.captured_general, report.rejected) == (
        len(PUPILS), len(GENERAL), [])


def test_every_door_stores_the_same_capture_events(fresh_store: Store) -> None:
    stored = {}
    for door, capture in (("api", through_the_api), ("import", through_the_import),
                          ("demo", through_the_demo)):
        rt = fresh_store(door)
        capture(rt)
        stored[door] = capture_events(rt)
    api = stored["api"]
    assert len(api) == len(PUPILS) + len(GENERAL)
    students = [e for e in api if e["topic"] == CAPTURES[0]]
    assert sorted(e["personal"]["personnummer"] for e in students) == sorted(
        p.personnummer for p in PUPILS)
    assert all(len(e["personal"]["documents"]) == DEMO_DOCUMENTS for e in students)
    assert stored["import"] == api
    assert stored["demo"] == api


def test_a_batch_is_captured_whole_or_not_at_all(fresh_store: Store) -> None:
    rt = fresh_store("batch")
    staff = seed_staff(rt.custody)
    report = capture_inventory(rt.custody, staff.archivist, PUPILS[:2])
    assert report.captured_students == 2
    before = rt.custody.recorder.max_notification_id()
    fresh = PUPILS[2]
    new = StudentCapture(fresh.personnummer, fresh.name, fresh.school_id, fresh.class_name,
                         [DocumentIn("IUP", "iup", "a" * 64, 1)])
    again = StudentCapture(PUPILS[0].personnummer, PUPILS[0].name, PUPILS[0].school_id,
                           None, [DocumentIn("IUP", "iup", "b" * 64, 1)])
    with pytest.raises(AlreadyExistsError) as caught:
        rt.custody.capture_batch(staff.archivist, [new, again])
    assert caught.value.existing_id == str(rt.custody.student_record_id(PUPILS[0].personnummer))
    assert rt.custody.recorder.max_notification_id() == before
    ids = [rt.custody.student_record_id(p.personnummer) for p in PUPILS[:3]]
    assert rt.custody.stored_ids(ids) == set(ids[:2])  # ids only: the new one is not there


def test_a_rerun_finds_what_is_stored_by_ids_alone(fresh_store: Store,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: the import's existence check reads no event rows, only ids."""
    rt = fresh_store("rerun")
    staff = seed_staff(rt.custody)
    capture_inventory(rt.custody, staff.archivist, PUPILS[:4])
    candidates = [rt.custody.student_record_id(p.personnummer) for p in PUPILS]

    def no_rows(*_: object, **__: object) -> None:
        raise AssertionError("the existence check read event rows")

    monkeypatch.setattr(rt.custody.recorder, "select_events", no_rows)
    monkeypatch.setattr(rt.custody.recorder, "select_notifications", no_rows)
    assert captured_already(rt.custody, iter(candidates)) == set(candidates[:4])
