"""The culling lists through the web forms, on SQLite and PostgreSQL: an archivist proposes
a list of leavers' school copies (personnummer typed one per line), the school's principal
approves it (never the proposer), the school's custodian confirms each destruction with a
witness, and the signed protocol is fetched as HTML, PDF and JSON (which passes ``custody
verify-certificate``). Refusals and bad input are shown in Swedish beside the field and
leave the store unchanged. Over HTTP with the browser's own doors (session cookie, CSRF,
forms); the application is only read back to assert.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.app import create_app
from application.culling import Culling
from infrastructure.bootstrap import Runtime
from tests.e2e.test_web_work import ENGLISH, RAW_CODES, SAME_IN_SWEDISH, Browser, Desk, visible_text
from tests.factories import pnr, seed_staff, student

ROOT = Path(__file__).resolve().parents[2]
LEO, LISA, MIA = pnr(2002, 3, 3, 3), pnr(2002, 9, 9, 9), pnr(2006, 2, 2, 2)


@pytest.fixture
def desk(runtime: Runtime) -> Iterator[Desk]:
    staff = seed_staff(runtime.custody)
    custody = runtime.custody
    records = {}
    for number, name in ((LEO, "Leo Klar"), (LISA, "Lisa Klar"), (MIA, "Mia Stannar")):
        record_id = custody.capture_student(staff.archivist, student(number, name, "holmes"))
        copy_id = custody.print_copy(staff.archivist, record_id, "school", "holmes")
        custody.deliver_copy(staff.custodians["holmes"], record_id, copy_id, "holmes")
        records[name] = record_id
    for number in (LEO, LISA):
        custody.record_departure(staff.custodians["holmes"], number,
                                 reason="finished_compulsory_school", to_school_id=None,
                                 date="2018-06-15")
    with TestClient(create_app(runtime=runtime)) as client:
        yield Desk(runtime, staff, client.app, records)


def culling(desk: Desk) -> Culling:
    return Culling(desk.rt.custody, desk.rt.queries)


def the_list(desk: Desk, list_id: str) -> dict[str, Any]:
    found: dict[str, Any] = culling(desk).culling_list(desk.staff.archivist, UUID(list_id))
    return found


def propose(web: Browser, *numbers: str) -> str:
    done = web.post("/gallringslistor/ny", basis="BU 2017/503 § 88|4", source="personnummer",
                    personnummer="\n".join(numbers), note="")
    assert done.status_code == 303, done.text[:2000]
    found = re.fullmatch(r"/gallringslistor/([0-9a-f-]{36})\?klart=proposed",
                         done.headers["location"])
    assert found, done.headers["location"]
    return found.group(1)


def custody_events(desk: Desk) -> int:
    """Changes of custody stored so far (the access log's entries for reads excluded)."""
    return sum(not n.topic.startswith("custody:AccessLog")
               for n in desk.rt.custody.recorder.select_notifications(1, 1_000_000))


def error_beside(html: str, fid: str) -> str:
    found = re.search(rf'<p class="field-error" id="{re.escape(fid)}-error"[^>]*>(.*?)</p>',
                      html, re.S)
    assert found, f"no error beside {fid}"
    return re.sub(r"<[^>]+>", "", found.group(1))


class TestCullingAsOnPaper:
    def test_propose_approve_destroy_and_the_signed_protocol(self, desk: Desk,
                                                             tmp_path: Path) -> None:
        archivist = desk.as_("archivist")
        form = archivist.get("/gallringslistor/ny")
        assert form.status_code == 200 and "Föreslå gallringslista" in form.text
        list_id = propose(archivist, LEO, LISA.replace("-", ""))
        listed = the_list(desk, list_id)
        assert listed["status"] == "proposed" and len(listed["items"]) == 2
        page = archivist.get(f"/gallringslistor/{list_id}", klart="proposed")
        assert "Gallringslistan är föreslagen" in page.text
        # The student column: name and personnummer of each item.
        for text in (LEO, "Leo Klar", LISA, "Lisa Klar"):
            assert text in page.text
        assert "Mia Stannar" not in page.text
        assert 'value="approve"' not in page.text  # the proposer is not offered approval
        assert "/gallringslistor/" + list_id in archivist.get("/gallringslistor").text

        principal = desk.as_("principal_holmes")
        offered = principal.get(f"/gallringslistor/{list_id}")
        assert 'value="approve"' in offered.text and "forstoring" not in offered.text
        approved = principal.post(f"/gallringslistor/{list_id}/beslut", outcome="approve",
                                  reason="Kontrollerad mot elevregistret")
        assert approved.status_code == 303
        assert the_list(desk, list_id)["status"] == "approved"

        custodian = desk.as_("custodian_holmes")
        page = custodian.get(f"/gallringslistor/{list_id}")
        assert page.text.count('/forstoring"') == 2 and "Bekräfta förstöring" in page.text
        for item in listed["items"]:
            done = custodian.post(
                f"/gallringslistor/{list_id}/exemplar/{item['copy_id']}/forstoring",
                method="shredding", date="2018-08-20", witness="Rektor Holmes",
                contractor_reference="")
            assert done.status_code == 303, done.text[:2000]
        finished = the_list(desk, list_id)
        assert finished["status"] == "executed"
        assert {i["status"] for i in finished["items"]} == {"destroyed"}
        page = custodian.get(f"/gallringslistor/{list_id}")
        assert "Genomförd" in page.text and "Signerat gallringsprotokoll" in page.text

        html = custodian.get(f"/gallringslistor/{list_id}/protokoll", format="html")
        assert html.status_code == 200 and "Gallringsprotokoll" in html.text
        certificates = [str(i["certificate_id"]) for i in finished["items"]]
        assert all(c in html.text for c in certificates)
        pdf = custodian.get(f"/gallringslistor/{list_id}/protokoll", format="pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert certificates[0] in text.replace("\n", "")
        signed = custodian.get(f"/gallringslistor/{list_id}/protokoll", format="json")
        assert signed.headers["content-type"].startswith("application/json")
        (tmp_path / "protokoll.json").write_text(signed.text)
        keys = desk.app.state.runtime.keyring.all()
        import json
        (tmp_path / "keys.json").write_text(json.dumps({"keys": [k.as_dict() for k in keys]}))
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", "verify-certificate",
             str(tmp_path / "protokoll.json"), "--keys", str(tmp_path / "keys.json")],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        (tmp_path / "protokoll.json").write_text(
            signed.text.replace('"shredding"', '"incineration"', 1))
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", "verify-certificate",
             str(tmp_path / "protokoll.json"), "--keys", str(tmp_path / "keys.json")],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 1

    def test_the_proposer_cannot_approve_and_is_told_so_in_swedish(self, desk: Desk) -> None:
        archivist = desk.as_("archivist")
        list_id = propose(archivist, LEO)
        refused = archivist.post(f"/gallringslistor/{list_id}/beslut", outcome="approve",
                                 reason="")
        assert refused.status_code == 403
        assert "Den som föreslog listan får inte själv attestera den" in refused.text
        assert "proposed it" not in refused.text
        assert the_list(desk, list_id)["status"] == "proposed"
        # A rejection says why, beside the field.
        principal = desk.as_("principal_holmes")
        no_reason = principal.post(f"/gallringslistor/{list_id}/beslut", outcome="reject",
                                   reason=" ")
        assert no_reason.status_code == 422
        assert "Skriv varför listan avslås" in error_beside(no_reason.text, "decide-reason")
        assert the_list(desk, list_id)["status"] == "proposed"

    def test_a_custodian_who_does_not_hold_the_copy_cannot_destroy_it(self, desk: Desk
                                                                       ) -> None:
        list_id = propose(desk.as_("archivist"), LEO)
        desk.as_("principal_holmes").post(f"/gallringslistor/{list_id}/beslut",
                                          outcome="approve", reason="")
        copy_id = the_list(desk, list_id)["items"][0]["copy_id"]
        other = desk.as_("custodian_fryken")
        page = other.get(f"/gallringslistor/{list_id}")
        assert page.status_code == 200 and "/forstoring" not in page.text
        refused = other.post(f"/gallringslistor/{list_id}/exemplar/{copy_id}/forstoring",
                             method="shredding", date="2018-08-20", witness="Någon")
        assert refused.status_code == 403
        assert "Bara den utpekade person som förvarar exemplaret" in refused.text
        assert the_list(desk, list_id)["items"][0]["status"] == "approved"
        assert desk.copy(desk.records["Leo Klar"], "school")["status"] == "at_school"

    @pytest.mark.parametrize(("date", "expected"), [
        ("20-08-2018", "Skriv datumet som ÅÅÅÅ-MM-DD"),
        ("2999-01-01", "Förstöringen bekräftas när den har skett; 2999-01-01 ligger i framtiden"),
    ])
    def test_a_bad_date_is_shown_beside_the_field_and_nothing_changes(
        self, desk: Desk, date: str, expected: str
    ) -> None:
        list_id = propose(desk.as_("archivist"), LEO)
        desk.as_("principal_holmes").post(f"/gallringslistor/{list_id}/beslut",
                                          outcome="approve", reason="")
        copy_id = the_list(desk, list_id)["items"][0]["copy_id"]
        before = custody_events(desk)
        custodian = desk.as_("custodian_holmes")
        refused = custodian.post(f"/gallringslistor/{list_id}/exemplar/{copy_id}/forstoring",
                                 method="shredding", date=date, witness="Rektor Holmes")
        assert refused.status_code == 422
        assert expected in error_beside(refused.text, f"date-{copy_id}")
        assert f'value="{date}"' in refused.text  # what was typed is kept
        assert the_list(desk, list_id)["items"][0]["status"] == "approved"
        assert desk.copy(desk.records["Leo Klar"], "school")["status"] == "at_school"
        no_witness = custodian.post(
            f"/gallringslistor/{list_id}/exemplar/{copy_id}/forstoring",
            method="shredding", date="2018-08-20", witness="", contractor_reference="")
        assert no_witness.status_code == 422
        assert "skriv vittnets namn" in error_beside(no_witness.text, f"witness-{copy_id}")
        assert custody_events(desk) == before

    def test_proposal_errors_are_shown_beside_the_field_in_swedish(self, desk: Desk) -> None:
        archivist = desk.as_("archivist")
        assert archivist.get("/gallringslistor/ny").status_code == 200  # the seed decision
        before = custody_events(desk)
        bad = archivist.post("/gallringslistor/ny", basis="BU 2017/503 § 88|4",
                             source="personnummer", personnummer=f"{LEO}\n20020303-0004")
        assert bad.status_code == 422
        assert "Rad 2: personnummer: kontrollsiffran" in error_beside(bad.text, "personnummer")
        staying = archivist.post("/gallringslistor/ny", basis="BU 2017/503 § 88|4",
                                 source="personnummer", personnummer=MIA)
        assert staying.status_code == 409
        assert "får inte gallras enligt den punkten" in error_beside(staying.text,
                                                                     "personnummer")
        none = archivist.post("/gallringslistor/ny", basis="", source="school", school_id="")
        assert none.status_code == 422
        assert "Välj beslut och punkt" in error_beside(none.text, "basis")
        assert "Välj skolenhet" in error_beside(none.text, "school_id")
        assert culling(desk).lists(desk.staff.archivist) == []
        assert custody_events(desk) == before

    def test_every_leaver_of_a_school_unit_and_withdrawal(self, desk: Desk) -> None:
        archivist = desk.as_("archivist")
        done = archivist.post("/gallringslistor/ny", basis="BU 2017/503 § 88|4",
                              source="school", school_id="holmes", note="Vårterminen 2018")
        assert done.status_code == 303, done.text[:2000]
        list_id = done.headers["location"].split("/")[2].split("?")[0]
        listed = the_list(desk, list_id)
        assert len(listed["items"]) == 2 and listed["note"] == "Vårterminen 2018"
        again = archivist.post("/gallringslistor/ny", basis="BU 2017/503 § 88|4",
                               source="school", school_id="holmes")
        assert again.status_code == 422  # both are on an open list already
        withdrawn = listed["items"][0]["copy_id"]
        custodian = desk.as_("custodian_holmes")
        no_reason = custodian.post(
            f"/gallringslistor/{list_id}/exemplar/{withdrawn}/aterkallelse", reason="")
        assert no_reason.status_code == 422
        assert "Skriv varför" in error_beside(no_reason.text, f"withdraw-{withdrawn}")
        ok = custodian.post(f"/gallringslistor/{list_id}/exemplar/{withdrawn}/aterkallelse",
                            reason="Går om årskurs 9")
        assert ok.status_code == 303
        statuses = {i["copy_id"]: i["status"] for i in the_list(desk, list_id)["items"]}
        assert statuses[withdrawn] == "withdrawn"
        page = custodian.get(f"/gallringslistor/{list_id}", klart="withdrawn")
        assert "Återkallat: Går om årskurs 9" in page.text
        assert "återkallat från listan och bevaras" in page.text
        filtered = archivist.get("/gallringslistor", status="proposed", skola="holmes")
        assert list_id in filtered.text
        assert list_id not in archivist.get("/gallringslistor", status="executed").text
        desk.as_("principal_holmes").post(f"/gallringslistor/{list_id}/beslut",
                                          outcome="approve", reason="")
        kept = next(k for k in statuses if k != withdrawn)
        custodian.post(f"/gallringslistor/{list_id}/exemplar/{kept}/forstoring",
                       method="incineration", date="2018-08-21", witness="",
                       contractor_reference="Stena 4711")
        assert list_id in archivist.get("/gallringslistor", status="executed").text
        protocol = archivist.get(f"/gallringslistor/{list_id}/protokoll")
        assert protocol.status_code == 200
        for text in ("Gallringsprotokoll", "Går om årskurs 9", "Stena 4711", "förbränning",
                     "Förstört", "Återkallat, bevaras"):
            assert text in protocol.text, text
        assert 'class="printable"' in protocol.text  # page numbers, repeated headers
        assert english_or_codes(protocol.text) == []

    def test_a_principal_proposes_their_own_units_copies_and_the_archivist_approves(
        self, desk: Desk
    ) -> None:
        principal = desk.as_("principal_holmes")
        form = principal.get("/gallringslistor/ny")
        assert form.status_code == 200
        assert 'value="holmes"' in form.text and 'value="fryken"' not in form.text
        list_id = propose(principal, LEO)
        assert [i["copy_id"] for i in the_list(desk, list_id)["items"]] == [
            str(desk.copy(desk.records["Leo Klar"], "school")["id"])]
        by_school = principal.post("/gallringslistor/ny", basis="BU 2017/503 § 88|4",
                                   source="school", school_id="holmes")
        assert by_school.status_code == 303  # Lisa, the other leaver not on a list
        other = desk.as_("principal_fryken").post(
            "/gallringslistor/ny", basis="BU 2017/503 § 88|4", source="personnummer",
            personnummer=MIA)
        assert other.status_code == 422
        assert "det finns ingen elev med personnummer" in error_beside(other.text,
                                                                      "personnummer")
        assert 'value="approve"' not in principal.get(f"/gallringslistor/{list_id}").text
        approved = desk.as_("archivist").post(f"/gallringslistor/{list_id}/beslut",
                                              outcome="approve", reason="")
        assert approved.status_code == 303
        assert the_list(desk, list_id)["status"] == "approved"

    def test_a_protected_identity_is_a_reference_on_the_list(self, desk: Desk) -> None:
        list_id = propose(desk.as_("archivist"), LEO)
        desk.rt.custody.protect(desk.staff.archivist, LEO, "skyddad identitet")
        school_page = desk.as_("principal_holmes").get(f"/gallringslistor/{list_id}").text
        assert "Leo Klar" not in school_page and LEO not in school_page
        reference = desk.rt.queries.student(
            desk.staff.principals["holmes"],
            desk.rt.queries.views.get("records", str(desk.records["Leo Klar"])),
            listing=True)["reference"]
        assert reference and reference in school_page

    def test_the_decision_register_reads_and_registers(self, desk: Desk) -> None:
        archivist = desk.as_("archivist")
        page = archivist.get("/gallringsbeslut")
        assert "BU 2017/503 § 88" in page.text and "Registrera gallringsbeslut" in page.text
        bad = archivist.post("/gallringsbeslut", decision="BU 2024/7 § 3", body="Kulturnämnden",
                             date="3 maj", text_1="")
        assert bad.status_code == 422
        assert "ÅÅÅÅ-MM-DD" in error_beside(bad.text, "date")
        assert "minst en punkt" in error_beside(bad.text, "text_1")
        ok = archivist.post("/gallringsbeslut", decision="BU 2024/7 § 3", body="Kulturnämnden",
                            date="2024-05-03", text_1="Skolexemplar gallras vid flytt.",
                            allows_1="school_copy_after_moving_away")
        assert ok.status_code == 303
        ids = [d["id"] for d in culling(desk).decisions(desk.staff.archivist)]
        assert "BU 2024/7 § 3" in ids
        twice = archivist.post("/gallringsbeslut", decision="BU 2024/7 §3", body="Kulturnämnden",
                               date="2024-05-03", text_1="Igen", allows_1="nothing")
        assert twice.status_code == 409
        assert "Beslutet finns redan" in error_beside(twice.text, "decision")
        # Custodians read the register but are not offered the form.
        custodian = desk.as_("custodian_holmes").get("/gallringsbeslut")
        assert "BU 2024/7 § 3" in custodian.text and "Registrera gallringsbeslut" not in (
            custodian.text)
        assert desk.as_("custodian_holmes").post(
            "/gallringsbeslut", decision="X 1", body="Y", date="2024-01-01",
            text_1="Z").status_code == 403


def english_or_codes(html: str) -> list[str]:
    """Raw codes and English phrases in the text a reader sees (as test_web_work checks)."""
    text = visible_text(html)
    words = set(re.findall(r"[a-z_]+", text))
    bad = [c for c in RAW_CODES if ("_" in c and c in text) or (
        "_" not in c and c in words and c not in SAME_IN_SWEDISH)]
    bad += [c for c in ("proposed", "approved", "rejected", "executed", "destroyed",
                        "withdrawn", "general_information", "school_copy_after_finishing")
            if c in words or c in text]
    return bad + [e for e in ENGLISH if e.lower() in text.lower()]


def test_every_state_of_a_list_is_in_swedish_without_codes(desk: Desk) -> None:
    """Proposed, approved (with the holder's forms), executed, and a list from the
    year-end closing: no raw code and no English on the Swedish pages."""
    archivist, custodian = desk.as_("archivist"), desk.as_("custodian_holmes")
    closed = archivist.post("/lasar", year="2018")
    assert closed.status_code == 200
    found = re.search(r'href="/gallringslistor/([0-9a-f-]{36})"', closed.text)
    assert found, "the closing links its proposed list"
    list_id = found.group(1)
    pages: dict[str, str] = {}
    pages["proposed"] = archivist.get(f"/gallringslistor/{list_id}").text
    pages["to approve"] = desk.as_("principal_holmes").get(f"/gallringslistor/{list_id}").text
    assert "Läsåret 2018 avslutades" in pages["proposed"]
    desk.as_("principal_holmes").post(f"/gallringslistor/{list_id}/beslut",
                                      outcome="approve", reason="")
    pages["approved"] = custodian.get(f"/gallringslistor/{list_id}").text
    assert "Bekräfta förstöring" in pages["approved"] and "Återkalla" in pages["approved"]
    for item in the_list(desk, list_id)["items"]:
        custodian.post(f"/gallringslistor/{list_id}/exemplar/{item['copy_id']}/forstoring",
                       method="secure_disposal_bin", date="2018-08-20", witness="Rektor")
    pages["executed"] = custodian.get(f"/gallringslistor/{list_id}").text
    pages["lists"] = archivist.get("/gallringslistor").text
    pages["register"] = archivist.get("/gallringsbeslut").text
    pages["propose"] = archivist.get("/gallringslistor/ny").text
    assert {k: english_or_codes(v) for k, v in pages.items()} == {k: [] for k in pages}
