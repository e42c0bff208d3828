"""Personal data as Swedish law requires (issue 12), over HTTP on SQLite and PostgreSQL:
protected identity, the access log, the register extract, renumbering, no existence
oracle, least privilege for auditors."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import httpx
import pypdf
import pytest
from fastapi.testclient import TestClient

from api.document_models import RegisterExtract
from infrastructure.audit import verify_live
from infrastructure.bootstrap import Runtime
from tests.e2e.conftest import Api, make_staff
from tests.e2e.test_api_story import archive_and_verify, school_copy
from tests.factories import pnr, sha
from tests.integration.tamper import Tamperer

HIDDEN = pnr(2005, 5, 5, 321)
HIDDEN_NAME = "Hedda Hemligsdotter"
HIDDEN_CLASS = "7Q"
OPEN = pnr(2004, 1, 2, 654)
OPEN_NAME = "Olle Öppensson"
UNKNOWN = pnr(2006, 6, 6, 987)

ROLES = ("admin", "archivist", "archive_custodian", "custodian_holmes", "custodian_kvistberg",
         "principal_holmes", "teacher", "other_teacher", "mentor", "auditor")
SEE_PROTECTED = {"archivist", "archive_custodian"}
SCHOOL_READERS = {"archivist", "archive_custodian", "custodian_holmes"}
"""Who sees an unprotected student's name (least privilege: not the admin, not auditors)."""


def capture(api: Api, personnummer: str, name: str, klass: str = "8A") -> str:
    body = {"kind": "student_documentation", "personnummer": personnummer, "name": name,
            "school_id": "holmes", "class": klass,
            "documents": [{"title": f"IUP {name}", "category": "iup",
                           "sha256": sha(personnummer), "pages": 3}]}
    return str(api.post("archivist", "/api/v1/records", body, expect=201).json()["id"])


def reads(hidden: str, open_: str) -> list[tuple[str, dict[str, Any]]]:
    """Every read that can carry a student's personal data (path, params)."""
    return [
        (f"/api/v1/records/{hidden}", {}),
        (f"/api/v1/records/{hidden}/history", {}),
        (f"/api/v1/records/{open_}", {}),
        ("/api/v1/records", {"personnummer": HIDDEN}),
        ("/api/v1/records", {"personnummer": OPEN}),
        ("/api/v1/archive/shelf-list", {}),
        ("/api/v1/archive/shelf-list.csv", {}),
        ("/api/v1/schools/holmes/holdings", {}),
        ("/api/v1/schools/holmes/holdings.csv", {}),
        ("/api/v1/requests", {}),
        ("/api/v1/requests.csv", {}),
        ("/api/v1/culls", {}),
        ("/api/v1/agreement", {}),
        ("/api/v1/progress", {}),
        (f"/api/v1/students/{HIDDEN}/access-log", {}),
        (f"/api/v1/students/{HIDDEN}/extract", {}),
        (f"/api/v1/students/{HIDDEN}/extract", {"format": "html"}),
    ]


@pytest.fixture
def story(api: Api) -> dict[str, str]:
    make_staff(api)
    hidden = capture(api, HIDDEN, HIDDEN_NAME, HIDDEN_CLASS)
    open_ = capture(api, OPEN, OPEN_NAME)
    for record_id in (hidden, open_):
        archive_and_verify(api, record_id)
        school_copy(api, record_id)
    api.post("archivist", f"/api/v1/students/{HIDDEN}/protection",
             {"reason": "skyddad folkbokföring"}, expect=200)
    return {"hidden": hidden, "open": open_}


class TestProtectedIdentity:
    def test_only_the_archivist_and_the_archive_custodian_ever_see_the_protected_name(
        self, api: Api, story: dict[str, str]
    ) -> None:
        """A plaintext grep of every response of a scripted session for the protected
        name, class and school unit finds them only in the two roles' answers."""
        seen: dict[str, list[str]] = {}
        for role in ROLES:
            for path, params in reads(story["hidden"], story["open"]):
                response = api.get(role, path, expect=None, **params)
                text = response.text
                if HIDDEN_NAME in text or f"\"{HIDDEN_CLASS}\"" in text:
                    seen.setdefault(role, []).append(path)
        assert set(seen) == SEE_PROTECTED, seen

    def test_no_other_role_learns_the_protected_pupil_s_school_unit(
        self, api: Api, story: dict[str, str]
    ) -> None:
        hidden = story["hidden"]
        for role in set(ROLES) - SEE_PROTECTED:
            for path in (f"/api/v1/records/{hidden}", f"/api/v1/records/{hidden}/history",
                         "/api/v1/archive/shelf-list", "/api/v1/archive/shelf-list.csv"):
                response = api.get(role, path, expect=None)
                if response.status_code != 200:
                    continue
                if path.endswith("shelf-list"):
                    row = next(r for r in response.json()["items"] if r["record_id"] == hidden)
                    assert row["school_id"] is None, (role, path)
                elif path.endswith(".csv"):
                    line = next(x for x in response.text.splitlines() if hidden in x)
                    assert "holmes" not in line, (role, path)
                else:
                    assert "holmes" not in response.text, (role, path)

    def test_the_school_custodian_reads_the_record_by_reference_without_name_or_school(
        self, api: Api, story: dict[str, str]
    ) -> None:
        record = api.get("custodian_holmes", f"/api/v1/records/{story['hidden']}").json()
        assert record["student"]["name"] is None and record["student"]["class"] is None
        assert record["student"]["personnummer"] is None
        assert record["student"]["reference"].startswith("SKYDDAD-")
        assert record["school_id"] is None
        assert all(c["school_id"] is None for c in record["copies"])
        assert all(d["title"] is None for d in record["documents"])
        full = api.get("archive_custodian", f"/api/v1/records/{story['hidden']}").json()
        assert full["student"]["name"] == HIDDEN_NAME and full["school_id"] == "holmes"
        assert full["student"]["reference"] == record["student"]["reference"]

    def test_the_shelf_list_shows_the_reference_in_personnummer_order(
        self, api: Api, story: dict[str, str]
    ) -> None:
        rows = api.get("auditor", "/api/v1/archive/shelf-list").json()["items"]
        assert [r["record_id"] for r in rows] == [story["open"], story["hidden"]]
        assert rows[1]["reference"].startswith("SKYDDAD-") and rows[1]["school_id"] is None
        assert rows[0]["reference"].startswith("ELEV-") and rows[0]["name"] is None
        for role in SEE_PROTECTED:  # lists and labels travel: a reference even for them
            labels = api.get(role, "/api/v1/archive/shelf-list.csv").text
            assert HIDDEN_NAME not in labels and HIDDEN not in labels
            assert OPEN_NAME in labels

    def test_lifting_the_protection_shows_the_student_to_the_school_again(
        self, api: Api, story: dict[str, str]
    ) -> None:
        response = api.client.delete(f"/api/v1/students/{HIDDEN}/protection",
                                     headers=api.as_("archivist"))
        assert response.status_code == 204
        record = api.get("custodian_holmes", f"/api/v1/records/{story['hidden']}").json()
        assert record["student"]["name"] == HIDDEN_NAME

    def test_only_the_archivist_protects(self, api: Api, story: dict[str, str]) -> None:
        for role in ROLES:
            if role != "archivist":
                api.post(role, f"/api/v1/students/{OPEN}/protection", {}, expect=403)

    def test_a_request_about_a_protected_student_is_decided_at_the_archive(
        self, api: Api, story: dict[str, str]
    ) -> None:
        api.post("admin", f"/api/v1/actors/{api.ids['teacher']}/assignments",
                 {"personnummer": HIDDEN}, expect=201)
        request = api.post("teacher", "/api/v1/requests",
                           {"record_id": story["hidden"], "purpose": "samtal"},
                           expect=201).json()
        api.post("custodian_holmes", f"/api/v1/requests/{request['id']}/decision",
                 {"granted": True, "reason": "x"}, expect=403)
        api.post("archive_custodian", f"/api/v1/requests/{request['id']}/decision",
                 {"granted": True, "reason": "assigned teacher"}, expect=200)


class TestTheAccessLog:
    def test_every_read_in_a_session_appears_with_actor_route_and_outcome(
        self, api: Api, story: dict[str, str]
    ) -> None:
        hidden = story["hidden"]
        api.get("custodian_holmes", f"/api/v1/records/{hidden}")
        api.get("archivist", f"/api/v1/records/{hidden}/history")
        api.get("archive_custodian", "/api/v1/records", personnummer=HIDDEN)
        api.get("custodian_kvistberg", f"/api/v1/records/{hidden}", expect=403)
        api.get("auditor", "/api/v1/archive/shelf-list")
        items = api.get("auditor", f"/api/v1/students/{HIDDEN}/access-log").json()
        assert items["next_cursor"] is None
        got = [(i["actor"], i["route"], i["outcome"]) for i in items["items"]]
        expected = [
            (api.ids["custodian_holmes"], "GET /api/v1/records/{record_id}", "allowed"),
            (api.ids["archivist"], "GET /api/v1/records/{record_id}/history", "allowed"),
            (api.ids["archive_custodian"], "GET /api/v1/records", "allowed"),
            (api.ids["custodian_kvistberg"], "GET /api/v1/records/{record_id}", "refused"),
            (api.ids["auditor"], "GET /api/v1/archive/shelf-list", "allowed"),
        ]
        assert all(e in got for e in expected), got
        positions = [got.index(e) for e in expected]
        assert positions == sorted(positions)
        assert all(i["at"] for i in items["items"])

    def test_following_the_cursors_yields_every_entry_once(
        self, api: Api, story: dict[str, str]
    ) -> None:
        for _ in range(5):
            api.get("archivist", f"/api/v1/records/{story['open']}")
        whole = api.get("auditor", f"/api/v1/students/{OPEN}/access-log").json()["items"]
        pages: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = api.get("auditor", f"/api/v1/students/{OPEN}/access-log", **params).json()
            pages.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages[:len(whole)] == whole and len(whole) >= 5
        api.get("auditor", f"/api/v1/students/{OPEN}/access-log", expect=422, cursor="%%%")

    def test_reading_the_access_log_is_for_the_archivist_and_auditors(
        self, api: Api, story: dict[str, str]
    ) -> None:
        for role in ROLES:
            status = 200 if role in ("archivist", "auditor") else 403
            api.get(role, f"/api/v1/students/{HIDDEN}/access-log", expect=status)

    @pytest.mark.parametrize("tamper", ["delete", "edit"])
    def test_deleting_or_editing_an_access_log_row_fails_verification_naming_it(
        self, api: Api, runtime: Runtime, story: dict[str, str], tamper: str
    ) -> None:
        api.get("archivist", f"/api/v1/records/{story['hidden']}")
        api.get("archivist", f"/api/v1/records/{story['open']}")
        runtime.seal()
        assert verify_live(runtime, workers=1).faults == []
        log_id, version = access_log_rows(runtime)[0]
        tamperer = Tamperer(runtime)
        if tamper == "delete":
            tamperer.delete(log_id, version)
        else:
            tamperer.flip_byte(log_id, version)
        faults = [f.line() for f in verify_live(runtime, workers=1).faults]
        assert faults and any(f"record={log_id}" in line or f"record={log_id.hex}" in line
                              for line in faults), faults


def access_log_rows(rt: Runtime) -> list[Any]:
    from uuid import UUID

    rows = []
    for n in rt.custody.recorder.select_notifications(1, 100_000):
        if n.topic == "custody:AccessLog.Recorded":
            rows.append((UUID(str(n.originator_id)), n.originator_version))
    return rows


class TestNoExistenceOracle:
    def test_unknown_and_captured_but_forbidden_get_the_same_answer(
        self, api: Api, story: dict[str, str]
    ) -> None:
        for role in ROLES:
            for path, method, body in [
                ("/api/v1/records?personnummer={p}", "GET", None),
                ("/api/v1/students/{p}/departure", "POST",
                 {"reason": "moved_away", "date": "2019-06-12"}),
                ("/api/v1/students/{p}/access-log", "GET", None),
                ("/api/v1/students/{p}/extract", "GET", None),
                ("/api/v1/students/{p}/protection", "POST", {}),
                ("/api/v1/students/{p}/renumbering", "POST",
                 {"new_personnummer": pnr(2007, 7, 7, 111)}),
            ]:
                captured = send(api, role, method, path.format(p=OPEN), body)
                if captured.status_code < 400 and not (
                        path.startswith("/api/v1/records") and captured.json() == []):
                    continue  # this role may read (or change) it: no oracle to close
                unknown = send(api, role, method, path.format(p=UNKNOWN), body)
                assert (unknown.status_code, unknown.text) == (
                    captured.status_code, captured.text), (role, path)


def send(api: Api, role: str, method: str, path: str, body: Any) -> httpx.Response:
    return api.client.request(method, path, json=body, headers=api.as_(role))


class TestTheRegisterExtract:
    def test_names_every_recipient_and_both_numbers_and_opens_as_a_pdf(
        self, api: Api, story: dict[str, str]
    ) -> None:
        record_id = story["open"]
        api.post("admin", f"/api/v1/actors/{api.ids['teacher']}/assignments",
                 {"personnummer": OPEN}, expect=201)
        request = api.post("teacher", "/api/v1/requests",
                           {"record_id": record_id, "purpose": "utvecklingssamtal"},
                           expect=201).json()
        api.post("custodian_holmes", f"/api/v1/requests/{request['id']}/decision",
                 {"granted": True, "reason": "assigned teacher"}, expect=200)
        api.post("custodian_holmes", f"/api/v1/requests/{request['id']}/handout", expect=200)
        api.post("custodian_holmes", f"/api/v1/requests/{request['id']}/return", expect=200)
        record = api.get("archivist", f"/api/v1/records/{record_id}").json()
        copy_id = next(c["id"] for c in record["copies"] if c["purpose"] == "school")
        api.post("custodian_holmes", f"/api/v1/records/{record_id}/copies/{copy_id}/transfer",
                 {"to_school_id": "kvistberg"}, expect=200)
        new = pnr(2004, 1, 2, 777)
        api.post("archivist", f"/api/v1/students/{OPEN}/renumbering",
                 {"new_personnummer": new}, expect=200)

        response = api.get("archivist", f"/api/v1/students/{new}/extract")
        assert response.headers["cache-control"] == "no-store"
        extract = response.json()
        assert extract["student"]["personnummer_history"] == [OPEN, new]
        assert extract["student"]["name"] == OPEN_NAME
        recipients = {r["asked_by_name"] for r in extract["recipients"]}
        assert "Tove Lärare" in recipients
        assert extract["recipients"][0]["handed_out_at"] and extract["recipients"][0][
            "returned_at"]
        moves = {(m["event"], m.get("to_school_id")) for m in extract["movements"]}
        assert ("CopyTransferred", "kvistberg") in moves
        assert any(m["event"] == "CopyLent" and m["to_actor_name"] == "Tove Lärare"
                   for m in extract["movements"])
        assert any(a["action"] == "extract" for a in extract["access_log"])

        pdf = api.get("archivist", f"/api/v1/students/{OPEN}/extract", format="pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(page.extract_text() for page in pypdf.PdfReader(
            io.BytesIO(pdf.content)).pages)
        for expected in (OPEN, new, OPEN_NAME, "Tove Lärare", "kvistberg"):
            assert expected in text, expected
        html = api.get("archivist", f"/api/v1/students/{OPEN}/extract", format="html").text
        assert "Tove Lärare" in html and new in html

    def test_only_the_archivist_produces_an_extract(self, api: Api,
                                                   story: dict[str, str]) -> None:
        for role in ROLES:
            api.get(role, f"/api/v1/students/{OPEN}/extract",
                    expect=200 if role == "archivist" else 403)
        RegisterExtract.model_validate(  # the shape OpenAPI declares
            api.get("archivist", f"/api/v1/students/{OPEN}/extract").json())


class TestRenumbering:
    def test_both_numbers_find_the_record_and_the_shelf_order_stays(
        self, api: Api, story: dict[str, str]
    ) -> None:
        # Renumbered to a number that sorts after the protected student's: the shelf
        # still lists the record under the number it was filed by.
        new = pnr(2009, 9, 9, 555)
        body = api.post("archivist", f"/api/v1/students/{OPEN}/renumbering",
                        {"new_personnummer": new}, expect=200).json()
        assert body["student"]["personnummer"] == new
        for number in (OPEN, new):
            found = api.get("archivist", "/api/v1/records", personnummer=number).json()["items"]
            assert [r["id"] for r in found] == [story["open"]]
        rows = api.get("archivist", "/api/v1/archive/shelf-list").json()["items"]
        assert [r["record_id"] for r in rows] == [story["open"], story["hidden"]]
        assert rows[0]["personnummer"] == new
        history = api.get("archivist", f"/api/v1/records/{story['open']}/history").json()
        assert any(e["type"] == "Renumbered" and e["signature_valid"]
                   for e in history["events"])

    def test_a_number_in_use_is_a_conflict(self, api: Api, story: dict[str, str]) -> None:
        api.post("archivist", f"/api/v1/students/{OPEN}/renumbering",
                 {"new_personnummer": HIDDEN}, expect=409)


class TestLeastPrivilegeForAuditors:
    def test_the_auditor_reads_the_registers_without_names_or_personnummer(
        self, api: Api, story: dict[str, str]
    ) -> None:
        for path, params in reads(story["hidden"], story["open"]):
            response = api.get("auditor", path, expect=None, **params)
            for secret in (HIDDEN_NAME, OPEN_NAME, HIDDEN, OPEN):
                assert secret not in response.text, (path, secret)
        record = api.get("auditor", f"/api/v1/records/{story['open']}").json()
        assert record["student"]["reference"].startswith("ELEV-")
        assert record["school_id"] == "holmes"
        assert json.dumps(record).count("null") > 0


class TestTheWebPagesDoNotLeak:
    def test_no_page_shows_the_protected_name_but_to_the_two_roles(
        self, api: Api, story: dict[str, str]
    ) -> None:
        pages = ["/oversikt", f"/post/{story['hidden']}", "/inkorg", "/bestallningar",
                 "/arkiv/hyllforteckning", "/arkiv/hyllforteckning/etiketter", "/gallring",
                 "/granskning"]
        seen: dict[str, list[str]] = {}
        for role in ROLES:
            with TestClient(api.client.app) as browser:
                csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                                 browser.get("/login").text)
                assert csrf
                signed = browser.post("/login", data={"token": api.tokens[role],
                                                      "csrf_token": csrf.group(1)},
                                      follow_redirects=False)
                assert signed.status_code == 303, signed.text
                for page in pages:
                    text = browser.get(page).text
                    if HIDDEN_NAME in text or HIDDEN in text:
                        seen.setdefault(role, []).append(page)
        # Box labels and the shelf list show the reference even to the two.
        assert set(seen) <= SEE_PROTECTED, seen
        assert seen.get("archive_custodian") == [f"/post/{story['hidden']}"], seen
        assert seen.get("archivist") == [f"/post/{story['hidden']}"], seen
