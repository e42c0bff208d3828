"""``Idempotency-Key`` on POST: the first answer again, nothing done twice; on SQLite and
PostgreSQL, through HTTP with real tokens."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api, make_staff
from tests.e2e.test_api_story import school_copy
from tests.factories import pnr, sha

ANNA = pnr(2004, 3, 15, 123)


def student(name: str = "Anna Holm", personnummer: str = ANNA) -> dict[str, Any]:
    return {"kind": "student_documentation", "personnummer": personnummer, "name": name,
            "school_id": "holmes",
            "documents": [{"title": "IUP", "category": "iup", "sha256": sha(name),
                           "pages": 3}]}


def events(api: Api) -> int:
    """Custody events stored so far; the access log's entries (every read of personal
    data is logged, a replayed answer's read too) are not changes of custody."""
    recorder = api.client.app.state.runtime.custody.recorder  # type: ignore[attr-defined]
    return sum(not n.topic.startswith("custody:AccessLog")
               for n in recorder.select_notifications(1, 1_000_000))


def post(api: Api, who: str, path: str, body: Any, key: str) -> Any:
    return api.client.post(path, json=body, headers={**api.as_(who), "Idempotency-Key": key})


class TestIdempotencyKey:
    def test_the_same_key_and_body_get_the_first_answer_and_store_one_event(
        self, api: Api
    ) -> None:
        make_staff(api)
        before = events(api)
        first = post(api, "archivist", "/api/v1/records", student(), "capture-anna-1")
        again = post(api, "archivist", "/api/v1/records", student(), "capture-anna-1")
        assert first.status_code == again.status_code == 201
        assert again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]
        assert again.headers["idempotent-replayed"] == "true"
        assert events(api) == before + 1

    def test_a_repeated_request_is_not_answered_409_already_exists(self, api: Api) -> None:
        """Without a key the second capture is a 409; with the key it is the first 201."""
        make_staff(api)
        post(api, "archivist", "/api/v1/records", student(), "k")
        api.post("archivist", "/api/v1/records", student(), expect=409)
        assert post(api, "archivist", "/api/v1/records", student(), "k").status_code == 201

    def test_the_same_key_with_another_body_is_422_and_changes_nothing(self, api: Api) -> None:
        make_staff(api)
        post(api, "archivist", "/api/v1/records", student(), "order-7")
        before = events(api)
        other = post(api, "archivist", "/api/v1/records",
                     student("Bo Ek", pnr(1999, 8, 30, 456)), "order-7")
        assert other.status_code == 422
        assert other.headers["content-type"] == "application/problem+json"
        assert other.json()["type"].endswith("/idempotency-key-reused")
        assert events(api) == before

    def test_the_same_key_on_another_path_is_422(self, api: Api) -> None:
        make_staff(api)
        post(api, "admin", "/api/v1/schools", {"id": "nya", "name": "Nya"}, "k1")
        response = post(api, "admin", "/api/v1/actors", {"name": "X", "role": "auditor"}, "k1")
        assert response.status_code == 422

    def test_another_actor_with_the_same_key_is_independent(self, api: Api) -> None:
        make_staff(api)
        record_id = api.post("archivist", "/api/v1/records", student(), expect=201).json()["id"]
        school_copy(api, record_id)
        api.post("admin", f"/api/v1/actors/{api.ids['teacher']}/assignments",
                 {"personnummer": ANNA}, expect=201)
        api.post("admin", f"/api/v1/actors/{api.ids['mentor']}/assignments",
                 {"personnummer": ANNA}, expect=201)
        body = {"record_id": record_id, "purpose": "Inför utvecklingssamtal"}
        before = events(api)
        by_teacher = post(api, "teacher", "/api/v1/requests", body, "samtal")
        by_mentor = post(api, "mentor", "/api/v1/requests", body, "samtal")
        assert by_teacher.status_code == by_mentor.status_code == 201, by_mentor.text
        assert by_teacher.json()["id"] != by_mentor.json()["id"]
        assert post(api, "teacher", "/api/v1/requests", body, "samtal").json() == (
            by_teacher.json())
        assert events(api) == before + 2

    def test_a_refusal_is_answered_again_and_logged_once(self, api: Api) -> None:
        make_staff(api)
        record_id = api.post("archivist", "/api/v1/records", student(), expect=201).json()["id"]
        body = {"record_id": record_id, "purpose": "nyfiken"}
        before = events(api)
        first = post(api, "other_teacher", "/api/v1/requests", body, "ask")
        again = post(api, "other_teacher", "/api/v1/requests", body, "ask")
        assert first.status_code == again.status_code == 403
        assert again.json() == first.json()
        assert events(api) == before + 1

    def test_without_a_valid_token_the_key_is_not_kept(self, api: Api) -> None:
        make_staff(api)
        response = api.client.post("/api/v1/schools", json={"id": "nya", "name": "Nya"},
                                   headers={"Idempotency-Key": "k"})
        assert response.status_code == 401
        created = post(api, "admin", "/api/v1/schools", {"id": "nya", "name": "Nya"}, "k")
        assert created.status_code == 201

    def test_a_key_that_is_not_printable_ascii_is_422(self, api: Api) -> None:
        make_staff(api)
        response = post(api, "admin", "/api/v1/schools", {"id": "nya", "name": "Nya"}, "x" * 256)
        assert response.status_code == 422
        assert response.json()["type"].endswith("/invalid-input")

    def test_the_answer_is_stored_with_its_key_in_the_database(self, api: Api) -> None:
        make_staff(api)
        post(api, "admin", "/api/v1/schools", {"id": "nya", "name": "Nya"}, "stored")
        runtime = api.client.app.state.runtime  # type: ignore[attr-defined]
        with runtime.views.db.reading() as cur:
            cur.execute("SELECT actor, status FROM custody_idempotency WHERE key = 'stored'")
            rows = cur.fetchall()
        assert [(str(a), int(s)) for a, s in rows] == [(runtime.custody.authenticate(
            api.tokens["admin"]).id, 201)]
