"""Personal data, external hand-over and archive deliveries through the web forms, on
SQLite and PostgreSQL (issue 15): protected identity set and lifted (nothing of the
student shown to those who may not see it), a new personnummer (both numbers find the
record), the register extract downloaded and its production in the access log page, a
hand-over outside the municipality and its receipt, an archive delivery countersigned by
the archive's custodian with its receipt and the finding aid (page and CSV). Over HTTP
through the browser's own doors (session cookie, CSRF token, forms); the application is
only read back to assert. A refusal for the wrong role says so in Swedish and changes
nothing.
"""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from tests.e2e.test_web_work import ALVA, Desk, captured
from tests.e2e.test_web_work import desk as desk  # the fixture
from tests.factories import pnr

NAME = "Alva Andersson"
REFUSED = "du har inte behörighet till detta"


def protected(desk: Desk, record_id: UUID) -> bool:
    return bool(desk.rt.queries.record(desk.staff.archivist, record_id)["student"]["protected"])


def copy_seen_by_archivist(desk: Desk, record_id: UUID, purpose: str) -> dict[str, Any]:
    record = desk.rt.queries.record(desk.staff.archivist, record_id)
    return next(c for c in record["copies"] if c["purpose"] == purpose
                and c["status"] != "replaced")


class TestProtectedIdentity:
    def test_archivist_protects_nobody_else_sees_the_student_then_lifts(
        self, desk: Desk
    ) -> None:
        record_id = captured(desk)
        web = desk.as_("archivist")
        page = web.get(f"/post/{record_id}").text
        assert "Markera identiteten som skyddad" in page
        done = web.post(f"/post/{record_id}/skydd", reason="Beslut från Skatteverket")
        assert done.status_code == 303
        assert done.headers["location"].startswith(f"/post/{record_id}?klart=protected")
        assert protected(desk, record_id)

        shown = web.get(f"/post/{record_id}", klart="protected").text
        assert "Identiteten är markerad som skyddad" in shown
        assert "Skyddade personuppgifter" in shown and NAME in shown
        assert "Häv skyddet" in shown
        assert "Skyddade personuppgifter" in desk.as_("archive_custodian").get(
            f"/post/{record_id}").text

        for who in ("custodian_holmes", "auditor"):
            hidden = desk.as_(who).get(f"/post/{record_id}")
            assert hidden.status_code == 200, who
            main = hidden.text.split("<main", 1)[1]  # the header names one's own unit
            for leak in (NAME, "Alva", ALVA, ALVA.replace("-", ""), "Holmesskolan",
                         "Skatteverket", "Markera identiteten", "Häv skyddet"):
                assert leak not in main, (who, leak)
            assert "SKYDDAD-" in hidden.text
        teacher = desk.as_("teacher").get(f"/post/{record_id}")
        assert teacher.status_code == 403
        assert NAME not in teacher.text and ALVA not in teacher.text

        lifted = web.post(f"/post/{record_id}/skydd/havning")
        assert lifted.status_code == 303
        assert not protected(desk, record_id)
        assert NAME in desk.as_("custodian_holmes").get(f"/post/{record_id}").text

    def test_a_custodian_or_teacher_may_not_protect_and_nothing_changes(
        self, desk: Desk
    ) -> None:
        record_id = captured(desk)
        custodian = desk.as_("custodian_holmes")
        assert "Markera identiteten som skyddad" not in custodian.get(f"/post/{record_id}").text
        for who in ("custodian_holmes", "teacher"):
            refused = desk.as_(who).post(f"/post/{record_id}/skydd", reason="x")
            assert refused.status_code == 403, who
            assert refused.headers["content-type"].startswith("text/html")
            assert "behörighet" in refused.text, who
        assert not protected(desk, record_id)


class TestRenumbering:
    def test_both_numbers_find_the_record_after_the_new_one(self, desk: Desk) -> None:
        old = pnr(2004, 3, 15, 123, coordination=True)
        record_id = captured(desk, old)
        new = pnr(2004, 3, 15, 457)
        web = desk.as_("archivist")
        done = web.post(f"/post/{record_id}/personnummer", new_personnummer=new)
        assert done.status_code == 303, done.text[:300]
        for number in (old, new):
            assert desk.rt.custody.student_record_id(number) == record_id
            found = web.post("/elev", personnummer=number)
            assert found.status_code == 303, number
            assert found.headers["location"] == f"/post/{record_id}"
        page = web.get(f"/post/{record_id}").text
        assert "Tidigare personnummer" in page and old in page and new in page

    def test_a_wrong_check_digit_is_shown_beside_the_field_in_swedish(
        self, desk: Desk
    ) -> None:
        record_id = captured(desk)
        good = pnr(2004, 3, 15, 457)
        bad = good[:-1] + str((int(good[-1]) + 1) % 10)
        refused = desk.as_("archivist").post(f"/post/{record_id}/personnummer",
                                             new_personnummer=bad)
        assert refused.status_code == 422
        assert 'id="renumber-new-error"' in refused.text
        assert "kontrollsiffran ska vara" in refused.text
        assert f'value="{bad}"' in refused.text
        assert desk.rt.custody.student_record_id(ALVA) == record_id
        assert "previous_personnummer" not in desk.rt.queries.record(
            desk.staff.archivist, record_id)["student"]

    def test_the_auditor_may_not_renumber(self, desk: Desk) -> None:
        record_id = captured(desk)
        refused = desk.as_("auditor").post(f"/post/{record_id}/personnummer",
                                           new_personnummer=pnr(2004, 3, 15, 457))
        assert refused.status_code == 403
        assert "behörighet" in refused.text
        assert "previous_personnummer" not in desk.rt.queries.record(
            desk.staff.archivist, record_id)["student"]


class TestExtractAndAccessLog:
    def test_extract_downloads_and_its_production_is_in_the_access_log_page(
        self, desk: Desk
    ) -> None:
        record_id = captured(desk)
        web = desk.as_("archivist")
        page = web.get(f"/post/{record_id}").text
        assert f"/post/{record_id}/registerutdrag?format=pdf" in page
        assert f"/post/{record_id}/atkomstlogg" in page

        as_html = web.get(f"/post/{record_id}/registerutdrag", format="html")
        assert as_html.status_code == 200
        assert as_html.headers["content-type"].startswith("text/html")
        assert "attachment" in as_html.headers["content-disposition"]
        assert "Registerutdrag" in as_html.text and NAME in as_html.text
        as_pdf = web.get(f"/post/{record_id}/registerutdrag", format="pdf")
        assert as_pdf.status_code == 200
        assert as_pdf.content.startswith(b"%PDF")
        as_json = web.get(f"/post/{record_id}/registerutdrag", format="json")
        assert as_json.json()["student"]["personnummer"] == ALVA

        log = web.get(f"/post/{record_id}/atkomstlogg")
        assert log.status_code == 200
        assert "Åtkomstlogg" in log.text
        assert "Registerutdrag" in log.text and "Arne Arkivarie" in log.text
        assert "Webbsidorna" in log.text
        assert "/registerutdrag" not in log.text.split("<main", 1)[-1].split("</table>")[0]
        audited = desk.as_("auditor").get(f"/post/{record_id}/atkomstlogg")
        assert audited.status_code == 200 and "Registerutdrag" in audited.text

    def test_access_log_pages_with_a_next_link(self, desk: Desk) -> None:
        record_id = captured(desk)
        for _ in range(101):
            desk.rt.queries.record(desk.staff.archivist, record_id)
        web = desk.as_("archivist")
        first = web.get(f"/post/{record_id}/atkomstlogg")
        assert first.text.count("<tr>") == 101  # the header row and 100 entries
        assert 'rel="next"' in first.text
        cursor = first.text.split("atkomstlogg?fran=", 1)[1].split('"', 1)[0]
        second = web.get(f"/post/{record_id}/atkomstlogg?fran={cursor}")
        assert second.status_code == 200
        assert "Första sidan" in second.text
        assert 1 < second.text.count("<tr>") < 101

    def test_a_custodian_gets_neither_the_extract_nor_the_access_log(
        self, desk: Desk
    ) -> None:
        record_id = captured(desk)
        holmes = desk.as_("custodian_holmes")
        page = holmes.get(f"/post/{record_id}").text
        assert "registerutdrag" not in page and "atkomstlogg" not in page
        for path in ("registerutdrag", "atkomstlogg"):
            refused = holmes.get(f"/post/{record_id}/{path}")
            assert refused.status_code == 403, path
            assert NAME not in refused.text
        assert not [e for e in desk.rt.queries.access_log(desk.staff.archivist, record_id)[
            "items"] if e["action"] == "extract"]


class TestExternalHandover:
    def moved_away(self, desk: Desk) -> tuple[UUID, str]:
        record_id = captured(desk)
        desk.as_("archivist").post(f"/post/{record_id}/utskrift", purpose="school",
                                   school_id="holmes")
        copy_id = desk.copy(record_id, "school")["id"]
        holmes = desk.as_("custodian_holmes")
        holmes.post(f"/post/{record_id}/exemplar/{copy_id}/leverans")
        left = holmes.post(f"/post/{record_id}/avgang", reason="moved_away",
                           date="2018-06-15")
        assert left.status_code == 303, left.text[:300]
        return record_id, copy_id

    def test_custodian_hands_over_and_records_the_receipt(self, desk: Desk) -> None:
        record_id, copy_id = self.moved_away(desk)
        holmes = desk.as_("custodian_holmes")
        assert "Överlämning till skola utanför kommunen" in holmes.get(
            f"/post/{record_id}").text
        path = f"/post/{record_id}/exemplar/{copy_id}"

        missing = holmes.post(f"{path}/extern-overlamning", organiser="",
                              school="Västerstrandskolan")
        assert missing.status_code == 422
        assert 'id="handover-organiser-error"' in missing.text
        assert "Ange mottagande huvudman." in missing.text
        assert 'value="Västerstrandskolan"' in missing.text
        assert desk.copy(record_id, "school")["status"] == "at_school"

        done = holmes.post(f"{path}/extern-overlamning", organiser="Karlstads kommun",
                           school="Västerstrandskolan")
        assert done.status_code == 303
        assert "klart=handed_over_externally" in done.headers["location"]
        copy = copy_seen_by_archivist(desk, record_id, "school")
        assert copy["status"] == "handed_over_externally"
        assert copy["external_handover"]["organiser"] == "Karlstads kommun"

        page = holmes.get(f"/post/{record_id}").text
        assert "Kvittens från mottagande huvudman" in page
        assert "Västerstrandskolan" in page
        receipt = holmes.post(f"{path}/extern-kvittens", receipt_reference="KS 2018/1234")
        assert receipt.status_code == 303
        copy = copy_seen_by_archivist(desk, record_id, "school")
        assert copy["external_handover"]["receipt_reference"] == "KS 2018/1234"
        assert "Kvittens från mottagande huvudman" not in holmes.get(f"/post/{record_id}").text

    def test_another_schools_custodian_may_not_hand_over(self, desk: Desk) -> None:
        record_id, copy_id = self.moved_away(desk)
        fryken = desk.as_("custodian_fryken")
        refused = fryken.post(f"/post/{record_id}/exemplar/{copy_id}/extern-overlamning",
                              organiser="Karlstads kommun", school="Västerstrandskolan")
        assert refused.status_code == 403
        assert desk.copy(record_id, "school")["status"] == "at_school"
        assert "utanför kommunen" not in desk.as_("archivist").get(f"/post/{record_id}").text


def filed(desk: Desk, number: str, name: str, box: str) -> UUID:
    """A record whose archive copy is printed and filed (set-up, not under test)."""
    custody, archivist = desk.rt.custody, desk.staff.archivist
    record_id = captured(desk, number, name)
    custody.print_copy(archivist, record_id, "archive", None)
    custody.archive_copy(archivist, record_id, UUID(desk.copy(record_id, "archive")["id"]),
                         box=box, shelf="3")
    return record_id


class TestArchiveDeliveries:
    def test_deliver_countersign_receipt_and_finding_aid(self, desk: Desk) -> None:
        filed(desk, ALVA, NAME, "A001")
        filed(desk, pnr(2005, 1, 2, 222), "Bo Ek", "A002")
        web = desk.as_("archivist")
        page = web.get("/arkiv/leveranser").text
        assert "Inga leveranser är gjorda ännu." in page
        assert 'value="A001"' in page and 'value="A002"' in page

        made = web.post("/arkiv/leveranser", box="A001")
        assert made.status_code == 303, made.text[:300]
        receipt_path = made.headers["location"].split("?", 1)[0]
        delivery_id = receipt_path.rsplit("/", 1)[1]
        receipt = web.get(receipt_path).text
        assert "Leveransreversal" in receipt and "Väntar på kvittens" in receipt
        assert "Kvittera mottagandet" not in receipt  # the archivist does not countersign
        assert 'value="A001"' not in web.get("/arkiv/leveranser").text

        refused = web.post(f"{receipt_path}/kvittens", note="själv")
        assert refused.status_code == 403
        assert "behörighet" in refused.text
        custodian = desk.as_("archive_custodian")
        assert "Kvittera mottagandet" in custodian.get(receipt_path).text
        signed = custodian.post(f"{receipt_path}/kvittens", note="Hylla H3")
        assert signed.status_code == 303
        receipt = custodian.get(receipt_path).text
        assert "Kvitterad" in receipt and "Asta Arkivet" in receipt
        assert "Kvittera mottagandet" not in receipt
        pdf = custodian.get(f"{receipt_path}/leveransreversal.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

        aid = web.get("/arkiv/forteckning").text
        assert "Arkivförteckning" in aid and "A001" in aid and "A002" in aid
        assert f"/arkiv/leveranser/{delivery_id}" in aid
        sheet = web.get("/arkiv/forteckning.csv")
        assert sheet.status_code == 200
        assert sheet.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig")),
                                   delimiter=";"))
        assert [r["volym"] for r in rows] == ["A001", "A002"]
        assert rows[0]["första personnummer"] == ALVA
        assert rows[0]["leverans"] == delivery_id and rows[1]["leverans"] == ""
        assert rows[0]["serie"] == "F1" and rows[0]["antal exemplar"] == "1"

    def test_no_box_chosen_is_shown_beside_the_field(self, desk: Desk) -> None:
        filed(desk, ALVA, NAME, "A001")
        refused = desk.as_("archivist").post("/arkiv/leveranser")
        assert refused.status_code == 422
        assert 'id="boxes-error"' in refused.text
        assert "Välj minst en kartong." in refused.text
        assert desk.rt.queries.views.all("deliveries") == []

    def test_school_custodian_and_teacher_are_refused(self, desk: Desk) -> None:
        filed(desk, ALVA, NAME, "A001")
        for who in ("custodian_holmes", "teacher"):
            for path in ("/arkiv/leveranser", "/arkiv/forteckning", "/arkiv/forteckning.csv"):
                assert desk.as_(who).get(path).status_code == 403, (who, path)
        refused = desk.as_("archive_custodian").post("/arkiv/leveranser", box="A001")
        assert refused.status_code == 403
        assert desk.rt.queries.views.all("deliveries") == []


# -- every new page in both languages: translated, labelled, no raw code or English ---------


def full_story(desk: Desk) -> dict[str, str]:
    """Every new page with something on it: a protected student, a renumbered one, a copy
    handed over outside the municipality awaiting its receipt, a delivery awaiting its
    countersignature and one countersigned. The pages, by who sees them."""
    custody, staff = desk.rt.custody, desk.staff
    alva = filed(desk, ALVA, NAME, "A001")
    bo = filed(desk, pnr(2005, 1, 2, 222), "Bo Ek", "A002")
    filed(desk, pnr(2005, 3, 4, 333), "Cia Berg", "A003")
    custody.protect(staff.archivist, pnr(2005, 1, 2, 222), "skyddad folkbokföring")
    custody.renumber(staff.archivist, ALVA, pnr(2004, 3, 15, 457))
    desk.rt.queries.extract(staff.archivist, alva)
    moved = captured(desk, pnr(2006, 6, 6, 606), "Dan Flytt")
    custody.print_copy(staff.archivist, moved, "school", "holmes")
    school_copy = UUID(desk.copy(moved, "school")["id"])
    custody.deliver_copy(staff.custodians["holmes"], moved, school_copy, "holmes")
    custody.record_departure(staff.custodians["holmes"], pnr(2006, 6, 6, 606),
                             reason="moved_away", to_school_id=None, date="2018-06-15")
    custody.hand_over_externally(staff.custodians["holmes"], moved, school_copy,
                                 organiser="Karlstads kommun", school="Västerstrandskolan",
                                 receipt_reference=None)
    from application.deliveries import ArchiveDeliveries

    deliveries = ArchiveDeliveries(custody, desk.rt.queries)
    waiting = deliveries.deliver(staff.archivist, ["A001"])["id"]
    received = deliveries.deliver(staff.archivist, ["A002"])["id"]
    deliveries.receive(staff.archive_custodian, UUID(received), "Hylla H3")
    return {
        "archivist": [f"/post/{alva}", f"/post/{bo}", f"/post/{alva}/atkomstlogg",
                      "/arkiv/leveranser", f"/arkiv/leveranser/{waiting}",
                      f"/arkiv/leveranser/{received}", "/arkiv/forteckning"],
        "auditor": [f"/post/{bo}", f"/post/{bo}/atkomstlogg", "/arkiv/leveranser"],
        "archive_custodian": [f"/post/{bo}", f"/arkiv/leveranser/{waiting}",
                              "/arkiv/forteckning"],
        "custodian_holmes": [f"/post/{moved}", f"/post/{bo}"],
    }


def test_new_pages_are_complete_in_both_languages_and_plain_swedish(desk: Desk) -> None:
    import re

    from tests.e2e.test_web_i18n import assert_page_is_complete
    from tests.e2e.test_web_work import ENGLISH, RAW_CODES, SAME_IN_SWEDISH, visible_text

    pages = full_story(desk)
    found: dict[str, list[str]] = {}
    for who, paths in pages.items():
        web = desk.as_(who)
        for path in paths:
            for lang in ("sv", "en"):
                web.client.cookies.set("custody_lang", lang)
                response = web.get(path)
                assert response.status_code == 200, (who, path, lang)
                assert_page_is_complete(response.text, lang)
            web.client.cookies.set("custody_lang", "sv")
            text = visible_text(web.get(path).text)
            words = set(re.findall(r"[a-z_]+", text))
            bad = [c for c in RAW_CODES if ("_" in c and c in text) or (
                "_" not in c and c in words and c not in SAME_IN_SWEDISH)]
            bad += [e for e in ENGLISH if e.lower() in text.lower()]
            bad += [w for w in ("delivered", "received", "protected", "receipt", "delivery",
                                "allowed", "refused", "extract", "lookup", "access log")
                    if w in words or w in text]
            if bad:
                found[f"{who} {path}"] = bad
    assert found == {}


def test_the_api_lists_deliveries_in_pages(desk: Desk) -> None:
    from fastapi.testclient import TestClient

    from application.deliveries import ArchiveDeliveries

    for index in range(3):
        filed(desk, pnr(2005, 1, 2 + index, 222 + index), f"Elev {index}", f"A00{index}")
        ArchiveDeliveries(desk.rt.custody, desk.rt.queries).deliver(desk.staff.archivist,
                                                                    [f"A00{index}"])
    client = TestClient(desk.app)
    auditor = {"Authorization": f"Bearer {desk.staff.tokens['auditor']}"}
    first = client.get("/api/v1/archive/deliveries", params={"limit": 2}, headers=auditor)
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    rest = client.get("/api/v1/archive/deliveries", headers=auditor,
                      params={"limit": 2, "cursor": body["next_cursor"]}).json()
    assert rest["next_cursor"] is None
    boxes = [b for d in body["items"] + rest["items"] for b in d["boxes"]]
    assert sorted(boxes) == ["A000", "A001", "A002"]
    teacher = {"Authorization": f"Bearer {desk.staff.tokens['teacher']}"}
    assert client.get("/api/v1/archive/deliveries", headers=teacher).status_code == 403
