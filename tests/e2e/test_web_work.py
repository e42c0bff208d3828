"""Every lifecycle step through the web forms, on SQLite and PostgreSQL: the archivist
prints, files, verifies (a discrepancy, a reprint); a school's custodian records the
delivery, the IST entry, a departure and a hand-over, and the next school its receipt;
holds are placed and lifted. Over HTTP through the browser's own doors (session cookie,
CSRF token, forms); the application is only read back to assert.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.service import DocumentIn, StudentCapture
from application.student_search import find_students
from domain.actor import Role
from domain.culling import CULL_METHODS, GENERAL_INFORMATION_CATEGORIES
from domain.record import CopyStatus, DepartureReason, Kind, Purpose
from domain.request import RequestStatus
from infrastructure.bootstrap import Runtime
from tests.e2e.test_web import seed_migration
from tests.factories import Staff, pnr, seed_staff, student

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """One signed-in person's forms: a cookie session and its CSRF token."""

    def __init__(self, app: Any, token: str) -> None:
        self.client = TestClient(app, raise_server_exceptions=True, follow_redirects=False)
        found = CSRF.search(self.client.get("/login").text)
        assert found
        response = self.client.post("/login", data={"token": token,
                                                     "csrf_token": found.group(1)})
        assert response.status_code == 303, response.text
        found = CSRF.search(self.client.get("/logout").text)
        assert found
        self.csrf = found.group(1)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params or None)

    def post(self, path: str, **data: str) -> httpx.Response:
        return self.client.post(path, data={**data, "csrf_token": self.csrf})


@dataclass
class Desk:
    rt: Runtime
    staff: Staff
    app: Any
    records: dict[str, UUID] = field(default_factory=dict)

    def as_(self, who: str) -> Browser:
        return Browser(self.app, self.staff.tokens[who])

    def record(self, record_id: UUID) -> dict[str, Any]:
        found: dict[str, Any] = self.rt.queries.record(self.staff.admin, record_id)
        return found

    def copy(self, record_id: UUID, purpose: str) -> dict[str, Any]:
        return next(c for c in self.record(record_id)["copies"]
                    if c["purpose"] == purpose and c["status"] != "replaced")


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[Desk]:
    staff = seed_staff(runtime.custody)
    with TestClient(create_app(runtime=runtime)) as client:
        yield Desk(runtime, staff, client.app)


ALVA = pnr(2004, 3, 15, 123)


def captured(desk: Desk, number: str = ALVA, name: str = "Alva Andersson",
             school: str = "holmes") -> UUID:
    return desk.rt.custody.capture_student(desk.staff.archivist, student(number, name, school))


class TestArchiveCopyThroughTheForms:
    def test_archivist_prints_files_and_verifies_the_archive_copy(self, desk: Desk) -> None:
        record_id = captured(desk)
        web = desk.as_("archivist")
        page = web.get(f"/post/{record_id}")
        assert "Skriv ut arkivexemplaret" in page.text

        done = web.post(f"/post/{record_id}/utskrift", purpose="archive")
        assert done.status_code == 303
        assert done.headers["location"].startswith(f"/post/{record_id}?klart=printed")
        copy_id = desk.copy(record_id, "archive")["id"]

        web.post(f"/post/{record_id}/exemplar/{copy_id}/arkivering", box="A001", shelf="3")
        assert desk.copy(record_id, "archive")["location"] == {"box": "A001", "shelf": "3"}
        web.post(f"/post/{record_id}/exemplar/{copy_id}/kontroll", outcome="ok")
        assert desk.copy(record_id, "archive")["status"] == "verified"
        page = web.get(f"/post/{record_id}", klart="verified")
        assert "Kontrollen är registrerad" in page.text

    def test_discrepancy_without_a_note_is_shown_beside_the_field_in_swedish(
        self, desk: Desk
    ) -> None:
        record_id = captured(desk)
        web = desk.as_("archivist")
        web.post(f"/post/{record_id}/utskrift", purpose="archive")
        copy_id = desk.copy(record_id, "archive")["id"]
        web.post(f"/post/{record_id}/exemplar/{copy_id}/arkivering", box="A001")

        refused = web.post(f"/post/{record_id}/exemplar/{copy_id}/kontroll",
                           outcome="discrepancy", note="")
        assert refused.status_code == 422
        assert 'id="verify-note-error"' in refused.text
        assert "Beskriv avvikelsen" in refused.text
        assert "på engelska" not in refused.text
        assert desk.copy(record_id, "archive")["status"] == "archived"

    def test_discrepancy_then_reprint_replaces_the_archive_copy(self, desk: Desk) -> None:
        record_id = captured(desk)
        web = desk.as_("archivist")
        web.post(f"/post/{record_id}/utskrift", purpose="archive")
        first = desk.copy(record_id, "archive")["id"]
        web.post(f"/post/{record_id}/exemplar/{first}/arkivering", box="A001")
        web.post(f"/post/{record_id}/exemplar/{first}/kontroll", outcome="discrepancy",
                 note="Sidan 3 saknas")
        assert desk.copy(record_id, "archive")["status"] == "discrepancy"
        assert "Skriv ut på nytt" in web.get(f"/post/{record_id}").text

        assert web.post(f"/post/{record_id}/exemplar/{first}/nyutskrift").status_code == 303
        again = desk.copy(record_id, "archive")
        assert again["id"] != first and again["status"] == "printed"

    def test_filing_a_copy_twice_is_refused_with_a_conflict(self, desk: Desk) -> None:
        record_id = captured(desk)
        web = desk.as_("archivist")
        web.post(f"/post/{record_id}/utskrift", purpose="archive")
        copy_id = desk.copy(record_id, "archive")["id"]
        web.post(f"/post/{record_id}/exemplar/{copy_id}/arkivering", box="A001")
        again = web.post(f"/post/{record_id}/exemplar/{copy_id}/arkivering", box="A002")
        assert again.status_code == 409
        assert desk.copy(record_id, "archive")["location"]["box"] == "A001"


class TestSchoolCopyThroughTheForms:
    def test_custodian_records_delivery_ist_departure_and_the_next_school_its_receipt(
        self, desk: Desk
    ) -> None:
        record_id = captured(desk)
        desk.as_("archivist").post(f"/post/{record_id}/utskrift", purpose="school",
                                   school_id="holmes")
        copy_id = desk.copy(record_id, "school")["id"]
        holmes = desk.as_("custodian_holmes")
        assert "Registrera leverans" in holmes.get(f"/post/{record_id}").text
        assert holmes.post(f"/post/{record_id}/exemplar/{copy_id}/leverans").status_code == 303
        assert desk.copy(record_id, "school")["status"] == "at_school"

        holmes.post(f"/post/{record_id}/ist", note="Anpassningar i matte")
        assert desk.record(record_id)["ist_entered"] is not None
        holmes.post(f"/post/{record_id}/avgang", reason="moved_within_municipality",
                    date="2018-06-15", to_school_id="kvistberg")
        assert desk.record(record_id)["departure"]["to_school_id"] == "kvistberg"

        holmes.post(f"/post/{record_id}/exemplar/{copy_id}/overlamning",
                    to_school_id="kvistberg")
        assert desk.copy(record_id, "school")["status"] == "in_transit"
        kvistberg = desk.as_("custodian_kvistberg")
        assert "Bekräfta mottagande" in kvistberg.get(f"/post/{record_id}").text
        kvistberg.post(f"/post/{record_id}/exemplar/{copy_id}/mottagen")
        moved = desk.copy(record_id, "school")
        assert (moved["status"], moved["school_id"]) == ("at_school", "kvistberg")

    def test_departure_without_reason_or_date_names_both_fields(self, desk: Desk) -> None:
        record_id = captured(desk)
        refused = desk.as_("custodian_holmes").post(f"/post/{record_id}/avgang")
        assert refused.status_code == 422
        assert 'id="departure-reason-error"' in refused.text
        assert 'id="departure-date-error"' in refused.text
        assert desk.record(record_id)["departure"] is None

    def test_custodian_of_another_school_may_not_deliver(self, desk: Desk) -> None:
        record_id = captured(desk)
        desk.as_("archivist").post(f"/post/{record_id}/utskrift", purpose="school",
                                   school_id="holmes")
        copy_id = desk.copy(record_id, "school")["id"]
        refused = desk.as_("custodian_fryken").post(
            f"/post/{record_id}/exemplar/{copy_id}/leverans")
        assert refused.status_code == 403
        assert desk.copy(record_id, "school")["status"] == "printed"


class TestHolds:
    def test_archivist_places_and_lifts_a_hold(self, desk: Desk) -> None:
        record_id = captured(desk)
        web = desk.as_("archivist")
        web.post(f"/post/{record_id}/sparr", reason="Begäran om utlämnande")
        holds = desk.record(record_id)["holds"]
        assert [h["reason"] for h in holds] == ["Begäran om utlämnande"]
        empty = web.post(f"/post/{record_id}/sparr/{holds[0]['id']}/havning", reason=" ")
        assert empty.status_code == 422
        web.post(f"/post/{record_id}/sparr/{holds[0]['id']}/havning", reason="Utlämnat")
        assert desk.record(record_id)["holds"] == []


class TestBoxSession:
    def test_scans_file_each_student_show_the_range_and_warn_out_of_order(
        self, desk: Desk
    ) -> None:
        numbers = [pnr(2004, 1, 1 + i, 100 + i) for i in range(4)]
        ids = [captured(desk, n, f"Elev {i}") for i, n in enumerate(numbers)]
        for record_id in ids:
            desk.rt.custody.print_copy(desk.staff.archivist, record_id, "archive", None)
        web = desk.as_("archivist")
        for number in (numbers[0], numbers[2], numbers[1]):
            response = web.post("/arkiv/kartong", box="A001", shelf="3", personnummer=number)
            assert response.status_code == 303
        page = web.get(response.headers["location"])
        assert 'role="alert"' in page.text and "kommer före" in page.text
        assert f"Från {numbers[0]} till {numbers[2]}" in page.text
        assert "autofocus" in page.text
        assert desk.copy(ids[1], "archive")["location"] == {"box": "A001", "shelf": "3"}

        again = web.post("/arkiv/kartong", box="A002", personnummer=numbers[0])
        assert again.status_code == 409
        assert "Redan placerad i kartong A001" in again.text
        assert desk.copy(ids[0], "archive")["location"]["box"] == "A001"

    def test_unknown_and_malformed_personnummer_are_named_in_swedish(self, desk: Desk) -> None:
        web = desk.as_("archivist")
        unknown = web.post("/arkiv/kartong", box="A001", personnummer=pnr(2001, 1, 1, 111))
        assert unknown.status_code == 422
        assert "Ingen elevdokumentation finns" in unknown.text
        bad = web.post("/arkiv/kartong", box="A001", personnummer="20010101-0000")
        assert bad.status_code == 422 and "Kontrollsiffran" in bad.text


class TestVerificationSessionAndDeliveries:
    def test_verification_session_and_a_schools_deliveries_at_once(self, desk: Desk) -> None:
        custody, archivist = desk.rt.custody, desk.staff.archivist
        numbers = [pnr(2005, 2, 1 + i, 200 + i) for i in range(3)]
        ids = [captured(desk, n, f"Elev {i}") for i, n in enumerate(numbers)]
        for record_id in ids:
            copy_id = custody.print_copy(archivist, record_id, "archive", None)
            custody.archive_copy(archivist, record_id, copy_id, box="A001", shelf=None)
            custody.print_copy(archivist, record_id, "school", "holmes")
        web = desk.as_("archivist")
        web.post("/arkiv/kontroll", personnummer=numbers[0], outcome="ok")
        web.post("/arkiv/kontroll", personnummer=numbers[1], outcome="discrepancy",
                 note="Sida saknas")
        twice = web.post("/arkiv/kontroll", personnummer=numbers[0], outcome="ok")
        assert twice.status_code == 409 and "redan kontrollerat" in twice.text
        assert [desk.copy(i, "archive")["status"] for i in ids] == [
            "verified", "discrepancy", "archived"]

        holmes = desk.as_("custodian_holmes")
        assert "Registrera leverans av alla 3" in holmes.get("/skola/leverans").text
        done = holmes.post("/skola/leverans", alla="1")
        assert done.headers["location"].endswith("antal=3")
        assert {desk.copy(i, "school")["status"] for i in ids} == {"at_school"}


class TestYearAndAgreement:
    def test_archivist_closes_the_year_and_terminates_the_agreement(self, desk: Desk) -> None:
        custody, archivist = desk.rt.custody, desk.staff.archivist
        record_id = captured(desk)
        copy_id = custody.print_copy(archivist, record_id, "archive", None)
        custody.archive_copy(archivist, record_id, copy_id, box="A001", shelf=None)
        school_copy = custody.print_copy(archivist, record_id, "school", "holmes")
        custody.deliver_copy(desk.staff.custodians["holmes"], record_id, school_copy, "holmes")
        custody.record_departure(desk.staff.custodians["holmes"], ALVA,
                                 reason="moved_within_municipality",
                                 to_school_id="kvistberg", date="2018-06-10")
        web = desk.as_("archivist")
        assert "Säg upp arkiveringsavtalet" not in web.get("/oversikt").text
        closed = web.post("/lasar", year="2018")
        assert closed.status_code == 200 and "Överlämnade skolexemplar: 1" in closed.text
        assert desk.copy(record_id, "school")["status"] == "in_transit"
        assert web.post("/lasar", year="två").status_code == 422

        early = web.post("/avtal/uppsagning")
        assert early.status_code == 409
        custody.verify_copy(archivist, record_id, copy_id, outcome="ok", note=None)
        assert "Säg upp arkiveringsavtalet" in web.get("/oversikt").text
        done = web.post("/avtal/uppsagning")
        assert done.headers["location"] == "/oversikt?klart=terminated"
        assert desk.rt.queries.readiness(desk.staff.archivist)["terminated"]


SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "inventory-sv.csv"


class TestSwedishExcelInventory:
    def test_the_shipped_sample_with_semicolons_bom_and_crlf_imports_through_the_page(
        self, desk: Desk
    ) -> None:
        raw = SAMPLE.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and b";" in raw
        web = desk.as_("archivist")
        response = web.client.post("/inventering", data={"csrf_token": web.csrf},
                                   files={"file": ("inventering.csv", raw, "text/csv")})
        assert response.status_code == 200, response.text
        assert "<dt>Avvisade rader</dt><dd>0</dd>" in response.text
        names = {hit.name for hit in find_students(desk.rt.queries, desk.staff.archivist)}
        assert names == {"Astrid Lindqvist", "Björn Åkesson", "Örjan Ström"}

    def test_a_semicolon_file_with_a_bad_row_names_it_in_swedish(self, desk: Desk) -> None:
        good, bad = pnr(2006, 8, 8, 808), pnr(2006, 9, 9, 909)
        wrong = bad[:-1] + str((int(bad[-1]) + 1) % 10)
        text = ("\ufeffkind;personnummer;name;school_id;class;title;category;sha256;pages\r\n"
                f"student_documentation;{good};Siri Svensson;holmes;8B;IUP;iup;{'a' * 64};3\r\n"
                f"student_documentation;{wrong};Tage Tall;holmes;8B;IUP;iup;{'b' * 64};2\r\n")
        web = desk.as_("archivist")
        response = web.client.post("/inventering", data={"csrf_token": web.csrf},
                                   files={"file": ("x.csv", text.encode(), "text/csv")})
        assert response.status_code == 422
        assert "kontrollsiffran ska vara" in response.text
        assert desk.rt.custody.exists(desk.rt.custody.student_record_id(good))


class TestListsAtScale:
    def test_shelf_list_is_paged_searchable_by_name_and_filtered_by_box(
        self, desk: Desk
    ) -> None:
        custody, archivist = desk.rt.custody, desk.staff.archivist
        for i in range(105):
            record_id = captured(desk, pnr(2004, 1 + i % 12, 1 + i % 28, 100 + i), f"Elev {i}")
            copy_id = custody.print_copy(archivist, record_id, "archive", None)
            if i < 3:
                custody.archive_copy(archivist, record_id, copy_id, box="A007", shelf="1")
        web = desk.as_("archivist")
        first = web.get("/arkiv/hyllforteckning")
        assert first.text.count('<tr>') - 1 == 100
        assert "Visar 1\u2013100 av 105" in first.text
        second = web.get("/arkiv/hyllforteckning", sida="2")
        assert second.text.count('<tr>') - 1 == 5
        found = web.get("/arkiv/hyllforteckning", q="elev 42")
        assert ">Elev 42<" in found.text and ">Elev 41<" not in found.text
        boxed = web.get("/arkiv/hyllforteckning", kartong="A007")
        assert boxed.text.count('<tr>') - 1 == 3

    def test_find_student_by_part_of_the_name(self, desk: Desk) -> None:
        captured(desk, ALVA, "Alva Åström")
        captured(desk, pnr(2005, 5, 5, 555), "Bo Berg")
        page = desk.as_("archivist").get("/elev", q="astrom")
        assert "Alva Åström" in page.text and "Bo Berg" not in page.text
        assert ALVA in page.text

    def test_request_log_and_own_orders_have_a_student_column(self, desk: Desk) -> None:
        custody, archivist = desk.rt.custody, desk.staff.archivist
        record_id = captured(desk)
        copy_id = custody.print_copy(archivist, record_id, "archive", None)
        custody.archive_copy(archivist, record_id, copy_id, box="A001", shelf=None)
        custody.assign(desk.staff.admin, desk.staff.teacher_id, ALVA)
        desk.as_("teacher").post("/bestall", personnummer=ALVA, purpose="Utvecklingssamtal")
        mine = desk.as_("teacher").get("/bestall")
        assert "Alva Andersson" in mine.text
        log = desk.as_("archive_custodian").get("/bestallningar", q="alva")
        assert "Alva Andersson" in log.text and "Utvecklingssamtal" in log.text

    def test_the_whole_missing_list_is_paged_with_students(self, desk: Desk) -> None:
        for i in range(3):
            captured(desk, pnr(2003, 3, 3 + i, 300 + i), f"Saknas {i}")
        page = desk.as_("archivist").get("/oversikt/saknas", orsak="not_printed")
        assert all(f"Saknas {i}" in page.text for i in range(3))
        assert "Arkivexemplaret är inte utskrivet" in page.text


class TestSwedishEverywhere:
    def test_a_mistyped_web_address_gets_a_swedish_page_and_the_api_keeps_json(
        self, desk: Desk
    ) -> None:
        web = desk.as_("archivist")
        page = web.get("/ui/hyllforteckning")
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "Sidan eller posten finns inte" in page.text
        api = web.get("/api/v1/finns-inte")
        assert api.status_code == 404
        assert api.headers["content-type"].startswith("application/problem+json")

    def test_a_refused_page_is_swedish_without_an_english_label(self, desk: Desk) -> None:
        page = desk.as_("teacher").get("/arkiv/kartong")
        assert page.status_code == 403
        assert "Du har inte behörighet" in page.text
        assert "engelska" not in page.text and "may not" not in page.text


class TestAssignments:
    def test_admin_links_a_whole_class_and_the_teacher_may_then_order(
        self, desk: Desk
    ) -> None:
        custody, archivist = desk.rt.custody, desk.staff.archivist
        ids = [captured(desk, pnr(2004, 4, 1 + i, 400 + i), f"Sjua {i}") for i in range(3)]
        other = captured(desk, pnr(2004, 5, 5, 500), "Annan Klass")
        for record_id in ids:
            copy_id = custody.print_copy(archivist, record_id, "archive", None)
            custody.archive_copy(archivist, record_id, copy_id, box="A001", shelf=None)
        admin = desk.as_("admin")
        done = admin.post("/personal/kopplingar", actor_id=str(desk.staff.teacher_id),
                          school_id="holmes", class_name="7a")
        assert done.headers["location"].endswith("antal=4")  # the factory's class is 7A
        teacher = desk.rt.custody.actor_now(desk.staff.teacher_id)
        assert set(ids) | {other} == set(teacher.assignments)
        ordered = desk.as_("teacher").post("/bestall", personnummer=pnr(2004, 4, 1, 400),
                                           purpose="Utvecklingssamtal")
        assert ordered.status_code == 303

        page = admin.get("/personal/kopplingar")
        assert "Sjua 0" in page.text
        admin.post(f"/personal/kopplingar/{desk.staff.teacher_id}/{other}/slut")
        assert other not in desk.rt.custody.actor_now(desk.staff.teacher_id).assignments

    def test_a_wrong_personnummer_is_named_beside_the_field(self, desk: Desk) -> None:
        refused = desk.as_("admin").post("/personal/kopplingar",
                                         actor_id=str(desk.staff.teacher_id),
                                         personnummer="20040101-0000")
        assert refused.status_code == 422
        assert "Kontrollsiffran" in refused.text


class TestBoxLabels:
    def test_a_box_label_carries_a_code128_barcode_of_the_box(self, desk: Desk) -> None:
        record_id = captured(desk)
        custody = desk.rt.custody
        copy_id = custody.print_copy(desk.staff.archivist, record_id, "archive", None)
        custody.archive_copy(desk.staff.archivist, record_id, copy_id, box="A001", shelf="2")
        page = desk.as_("archivist").get("/arkiv/hyllforteckning/etiketter", kartong="A001")
        found = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)"',
                          page.text)
        assert found and found.group(2) == "Streckkod för kartong A001"
        assert b"<svg" in base64.b64decode(found.group(1))


# -- complete Swedish: no raw code, no English message on a Swedish page ---------------------

RAW_CODES = sorted({
    *(s.value for s in CopyStatus), *(r.value for r in DepartureReason),
    *(k.value for k in Kind), *(p.value for p in Purpose), *(s.value for s in RequestStatus),
    *CULL_METHODS, *GENERAL_INFORMATION_CATEGORIES, *(r.value for r in Role),
    "development_talk", "learning_log", "support_measure", "iup_missing",
})
SAME_IN_SWEDISH = ("iup", "mentor")
"""Codes that are also the Swedish word (Mentor, IUP)."""
ENGLISH = ("may not", "does not", "is missing", "must be", "already", "not registered",
           "check digit", "only the", "refused and logged", "the student", "archive copy",
           "school copy", "på engelska", "in English", "Not found", "Method not allowed")
SWEDISH_PAGES = (
    ("archivist", "/oversikt"), ("archivist", "/oversikt/saknas"), ("archivist", "/elev?q=a"),
    ("archivist", "/post/{Alva Andersson}"), ("archivist", "/post/{Greta Holm}"),
    ("archivist", "/post/{Ines Jonsson}"), ("archivist", "/post/{Samtal}"),
    ("archivist", "/arkiv/hyllforteckning"), ("archivist", "/arkiv/hyllforteckning/etiketter"),
    ("archivist", "/arkiv/kartong?kartong=A001"), ("archivist", "/arkiv/kontroll"),
    ("archivist", "/lasar"), ("archivist", "/inventering"), ("archivist", "/gallring"),
    ("archivist", "/bestallningar"), ("archivist", "/ui/finns-inte"),
    ("admin", "/personal/kopplingar"), ("custodian_holmes", "/inkorg"),
    ("custodian_holmes", "/skola/leverans"), ("custodian_holmes", "/skola/innehav"),
    ("custodian_holmes", "/post/{David Ek}"), ("teacher", "/bestall"),
    ("teacher", "/arkiv/kartong"), ("teacher", "/post/{Alva Andersson}"),
    ("principal_holmes", "/bestallningar"), ("auditor", "/granskning"),
    ("archivist", "/gallringslistor"), ("archivist", "/gallringslistor/ny"),
    ("archivist", "/gallringsbeslut"), ("custodian_holmes", "/gallringslistor"),
    ("archivist", "/post/{Alva Andersson}/atkomstlogg"), ("archivist", "/arkiv/leveranser"),
    ("archivist", "/arkiv/forteckning"), ("auditor", "/post/{Alva Andersson}/atkomstlogg"),
    ("archive_custodian", "/arkiv/leveranser"),
)


class VisibleText(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.fixture
def story(runtime: Runtime) -> Iterator[Desk]:
    staff, records, _ = seed_migration(runtime)
    talk = runtime.custody.capture_student(staff.archivist, StudentCapture(
        pnr(2006, 6, 6, 606), "Samtal Svensson", "holmes", "7B",
        [DocumentIn("Utvecklingssamtal ht 2017", "development_talk", "c" * 64, 2)]))
    records["Samtal"] = talk
    with TestClient(create_app(runtime=runtime)) as client:
        yield Desk(runtime, staff, client.app, records)


def test_swedish_pages_show_no_raw_code_and_no_english_message(story: Desk) -> None:
    records = story.records
    found: dict[str, list[str]] = {}
    browsers: dict[str, Browser] = {}
    for who, path in SWEDISH_PAGES:
        web = browsers.setdefault(who, story.as_(who))
        url = re.sub(r"\{([^}]+)\}", lambda m: str(records[m.group(1)]), path)
        text = visible_text(web.get(url).text)
        words = set(re.findall(r"[a-z_]+", text))
        bad = [c for c in RAW_CODES if ("_" in c and c in text) or (
            "_" not in c and c in words and c not in SAME_IN_SWEDISH)]
        bad += [e for e in ENGLISH if e.lower() in text.lower()]
        if bad:
            found[f"{who} {path}"] = bad
    assert found == {}


class TestPrintingInBulk:
    def test_archivist_records_every_missing_archive_copy_and_a_schools_copies(
        self, desk: Desk
    ) -> None:
        ids = [captured(desk, pnr(2003, 3, 3 + i, 300 + i), f"Tryck {i}") for i in range(3)]
        kvist = captured(desk, pnr(2003, 4, 4, 444), "Annan Skola", school="kvistberg")
        web = desk.as_("archivist")
        page = web.get("/oversikt/saknas")
        assert "Registrera utskrift av alla saknade arkivexemplar" in page.text
        done = web.post("/arkiv/utskrift", purpose="archive")
        assert done.headers["location"].endswith("antal=4")
        assert {desk.copy(i, "archive")["status"] for i in [*ids, kvist]} == {"printed"}
        assert web.post("/arkiv/utskrift", purpose="archive").headers[
            "location"].endswith("antal=0")
        web.post("/arkiv/utskrift", purpose="school", school_id="holmes")
        assert {desk.copy(i, "school")["school_id"] for i in ids} == {"holmes"}
        assert all(c["purpose"] != "school" for c in desk.record(kvist)["copies"])
