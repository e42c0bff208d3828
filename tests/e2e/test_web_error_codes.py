"""A domain error reaches a Swedish page by its code and an API client by the same code,
on SQLite and PostgreSQL: the lifecycle forms over HTTP (session, CSRF, forms) and the
JSON API with a bearer token, both over the real stores. No English pattern is consulted:
the patterns for these messages are gone (``tests/unit/test_web_messages.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.web import messages
from infrastructure.bootstrap import Runtime
from tests.e2e.test_web_work import Desk, captured
from tests.factories import seed_staff


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[Desk]:
    staff = seed_staff(runtime.custody)
    with TestClient(create_app(runtime=runtime)) as client:
        yield Desk(runtime, staff, client.app)


def filed_and_verified(desk: Desk) -> tuple[UUID, str]:
    """A captured student whose archive copy is printed, filed and verified, through the
    archivist's forms."""
    record_id = captured(desk)
    web = desk.as_("archivist")
    assert web.post(f"/post/{record_id}/utskrift", purpose="archive").status_code == 303
    copy_id = str(desk.copy(record_id, "archive")["id"])
    assert web.post(f"/post/{record_id}/exemplar/{copy_id}/arkivering",
                    box="A001").status_code == 303
    assert web.post(f"/post/{record_id}/exemplar/{copy_id}/kontroll",
                    outcome="ok").status_code == 303
    assert desk.copy(record_id, "archive")["status"] == "verified"
    return record_id, copy_id


class TestNarrowCodes:
    def test_a_missing_box_is_told_beside_the_field_in_swedish_by_its_code(
            self, desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
        record_id = captured(desk)
        web = desk.as_("archivist")
        assert web.post(f"/post/{record_id}/utskrift", purpose="archive").status_code == 303
        copy_id = desk.copy(record_id, "archive")["id"]
        monkeypatch.setattr(messages, "SWEDISH", [])  # nothing to fall back on
        refused = web.post(f"/post/{record_id}/exemplar/{copy_id}/arkivering", box=" ")
        assert refused.status_code == 422
        assert "Ange arkivkartongen." in refused.text
        assert "the archive box is missing" not in refused.text
        assert desk.copy(record_id, "archive")["status"] == "printed"

    def test_a_discrepancy_without_a_note_is_told_in_swedish_by_its_code(
            self, desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
        record_id = captured(desk)
        web = desk.as_("archivist")
        web.post(f"/post/{record_id}/utskrift", purpose="archive")
        copy_id = desk.copy(record_id, "archive")["id"]
        web.post(f"/post/{record_id}/exemplar/{copy_id}/arkivering", box="A001")
        monkeypatch.setattr(messages, "SWEDISH", [])
        refused = web.post(f"/post/{record_id}/exemplar/{copy_id}/kontroll",
                           outcome="discrepancy", note="")
        assert refused.status_code == 422
        assert 'id="verify-note-error"' in refused.text
        assert "Beskriv avvikelsen." in refused.text
        assert "say what the discrepancy is" not in refused.text

    def test_the_api_problem_carries_the_narrow_code_and_the_english_detail(
            self, desk: Desk) -> None:
        record_id, copy_id = filed_and_verified(desk)
        with TestClient(desk.app) as client:
            response = client.post(
                f"/api/v1/records/{record_id}/copies/{copy_id}/verification",
                json={"outcome": "ok"},
                headers={"Authorization": f"Bearer {desk.staff.tokens['archivist']}"})
        assert response.status_code == 409
        assert response.headers["content-type"].startswith("application/problem+json")
        body: dict[str, Any] = response.json()
        assert body["code"] == "archive_copy_not_filed"
        assert body["type"].endswith("/illegal-transition")
        assert body["detail"] == "the archive copy is checked once it is filed; it is verified"
