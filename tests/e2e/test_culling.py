"""Culling as it happens on paper, through the HTTP API on SQLite and PostgreSQL: the
closing proposes, a second person approves, the holder destroys, the protocol is signed."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from api.document_models import CullingProtocol, DeliveryReceipt, FindingAid
from infrastructure.certificates import verify_certificate
from tests.e2e.conftest import Api, make_staff
from tests.e2e.test_api_story import archive_and_verify, capture, copy_of, school_copy
from tests.factories import pnr, sha

LEAVER, OTHER_LEAVER, MOVER, AWAY = (pnr(2002, 3, 3, 3), pnr(2002, 9, 9, 9),
                                     pnr(2006, 2, 2, 2), pnr(2007, 4, 4, 4))
SEED = "BU 2017/503 § 88"
ROOT = Path(__file__).resolve().parents[2]


def depart(api: Api, personnummer: str, reason: str, date: str = "2018-06-15",
           to_school_id: str | None = None, expect: int = 200) -> Any:
    body: dict[str, Any] = {"reason": reason, "date": date}
    if to_school_id:
        body["to_school_id"] = to_school_id
    return api.post("custodian_holmes", f"/api/v1/students/{personnummer}/departure", body,
                    expect=expect)


def closed_year(api: Api) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """Two leavers and a mover at Holmesskolan; the year 2018 closed by the archivist."""
    make_staff(api)
    ids = {}
    for personnummer, name in ((LEAVER, "Leo Klar"), (OTHER_LEAVER, "Lisa Klar"),
                               (MOVER, "Mia Flytt")):
        record_id = capture(api, personnummer, name)
        ids[personnummer] = (record_id, school_copy(api, record_id))
    depart(api, LEAVER, "finished_compulsory_school")
    depart(api, OTHER_LEAVER, "finished_compulsory_school")
    depart(api, MOVER, "moved_within_municipality", to_school_id="fryken")
    closing = api.post("archivist", "/api/v1/school-years/2018/closing", expect=200).json()
    return closing, ids


def keys(api: Api) -> list[str]:
    return [k["vkey"] for k in api.get("auditor", "/api/v1/keys").json()["keys"]]


def destroy(api: Api, who: str, list_id: str, copy_id: str, expect: int = 200) -> Any:
    return api.post(who, f"/api/v1/culling-lists/{list_id}/items/{copy_id}/destruction",
                    {"method": "shredding", "date": "2018-08-20", "witness": "Greta Granskare"},
                    expect=expect)


class TestTheClosingProposes:
    def test_the_closing_culls_nothing_and_puts_the_leavers_on_one_proposed_list(
        self, api: Api
    ) -> None:
        closing, ids = closed_year(api)
        assert set(closing) >= {"year", "transfers", "culling_list_id", "for_archivist"}
        assert [t["record_id"] for t in closing["transfers"]] == [ids[MOVER][0]]
        assert closing["transfers"][0]["to_school_id"] == "fryken"
        listed = api.get("archivist", f"/api/v1/culling-lists/{closing['culling_list_id']}"
                         ).json()
        assert listed["status"] == "proposed"
        assert {i["copy_id"] for i in listed["items"]} == {ids[LEAVER][1], ids[OTHER_LEAVER][1]}
        assert {i["status"] for i in listed["items"]} == {"proposed"}
        for personnummer in (LEAVER, OTHER_LEAVER):
            record = api.get("archivist", f"/api/v1/records/{ids[personnummer][0]}").json()
            assert copy_of(record, ids[personnummer][1])["status"] == "at_school"
            assert record["student"]["name"] is not None
        assert api.get("auditor", "/api/v1/culls").json() in ([], {"items": [],
                                                                   "next_cursor": None})

    def test_a_second_closing_answers_the_same_and_changes_nothing(self, api: Api) -> None:
        closing, _ = closed_year(api)
        events = api.client.get("/healthz").json()["events"]
        again = api.post("archivist", "/api/v1/school-years/2018/closing", expect=200).json()
        assert again == closing
        assert api.client.get("/healthz").json()["events"] == events

    def test_the_transfer_is_in_transit_until_the_receiving_custodian_confirms(
        self, api: Api
    ) -> None:
        _, ids = closed_year(api)
        record_id, copy_id = ids[MOVER]
        record = api.get("archivist", f"/api/v1/records/{record_id}").json()
        assert copy_of(record, copy_id)["status"] == "in_transit"
        api.post("custodian_fryken", f"/api/v1/records/{record_id}/copies/{copy_id}/receipt",
                 expect=200)
        record = api.get("archivist", f"/api/v1/records/{record_id}").json()
        assert copy_of(record, copy_id)["status"] == "at_school"


class TestApprovalAndDestruction:
    def test_four_eyes_and_the_holder_of_the_paper(self, api: Api) -> None:
        closing, ids = closed_year(api)
        list_id = closing["culling_list_id"]
        copy_id = ids[LEAVER][1]
        approval = f"/api/v1/culling-lists/{list_id}/approval"
        destroy(api, "custodian_holmes", list_id, copy_id, expect=409)  # not approved yet
        api.post("archivist", approval, {"approved": True}, expect=403)  # the proposer
        api.post("teacher", approval, {"approved": True}, expect=403)
        api.post("custodian_holmes", approval, {"approved": True}, expect=403)
        approved = api.post("principal_holmes", approval, {"approved": True}, expect=200).json()
        assert approved["status"] == "approved"
        assert {i["status"] for i in approved["items"]} == {"approved"}
        destroy(api, "custodian_fryken", list_id, copy_id, expect=403)  # another unit's
        destroy(api, "archivist", list_id, copy_id, expect=403)  # not the holder
        record = api.get("archivist", f"/api/v1/records/{ids[LEAVER][0]}").json()
        assert copy_of(record, copy_id)["status"] == "at_school"

    def test_the_destroyed_copy_is_culled_and_shredded_and_both_documents_verify_offline(
        self, api: Api, tmp_path: Path
    ) -> None:
        closing, ids = closed_year(api)
        list_id = closing["culling_list_id"]
        api.post("principal_holmes", f"/api/v1/culling-lists/{list_id}/approval",
                 {"approved": True}, expect=200)
        api.get("archivist", f"/api/v1/culling-lists/{list_id}/protocol", expect=409)
        certificate_id = destroy(api, "custodian_holmes", list_id,
                                 ids[LEAVER][1]).json()["certificate_id"]
        api.post("custodian_holmes",
                 f"/api/v1/culling-lists/{list_id}/items/{ids[OTHER_LEAVER][1]}/withdrawal",
                 {"reason": "går om årskurs 9"}, expect=200)
        listed = api.get("archivist", f"/api/v1/culling-lists/{list_id}").json()
        by_copy = {i["copy_id"]: i for i in listed["items"]}
        assert by_copy[ids[LEAVER][1]]["status"] == "destroyed"
        assert by_copy[ids[LEAVER][1]]["certificate_id"] == certificate_id
        assert by_copy[ids[OTHER_LEAVER][1]]["status"] == "withdrawn"
        culled = api.get("archivist", f"/api/v1/records/{ids[LEAVER][0]}").json()
        assert copy_of(culled, ids[LEAVER][1])["status"] == "culled"
        # The withdrawn copy is untouched.
        kept = api.get("archivist", f"/api/v1/records/{ids[OTHER_LEAVER][0]}").json()
        assert copy_of(kept, ids[OTHER_LEAVER][1])["status"] == "at_school"
        # The copy's own sealed contents are gone: its key was destroyed at the destruction.
        rt = api.client.app.state.runtime  # type: ignore[attr-defined]
        from uuid import UUID

        record = rt.custody.record(UUID(ids[LEAVER][0]))
        assert record.copies[UUID(ids[LEAVER][1])].contents is None
        register = api.get("auditor", f"/api/v1/culls/{certificate_id}").json()
        assert register["culling_list_id"] == list_id
        assert register["approved_by"] == api.ids["principal_holmes"]
        assert register["protocol"] == f"/api/v1/culling-lists/{list_id}/protocol"
        # The certificate and the protocol verify offline with only the public keys.
        trusted = keys(api)
        from infrastructure.certificates import certificate_text

        certificate_json = certificate_text(rt, UUID(certificate_id))
        assert verify_certificate(certificate_json, trusted) == []
        protocol = api.get("auditor", f"/api/v1/culling-lists/{list_id}/protocol").text
        assert verify_certificate(protocol, trusted) == []
        body = json.loads(protocol)["protocol"]
        CullingProtocol.model_validate(json.loads(protocol))  # the shape OpenAPI declares
        assert body["proposed_by"] == api.ids["archivist"]
        assert body["approved_by"] == api.ids["principal_holmes"]
        assert [i["certificate_id"] for i in body["items"] if i["status"] == "destroyed"] == [
            certificate_id]
        # Offline, as an auditor does it: the command line, the file and the keys.
        (tmp_path / "protokoll.json").write_text(protocol)
        (tmp_path / "keys.json").write_text(api.get("auditor", "/api/v1/keys").text)
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", "verify-certificate",
             str(tmp_path / "protokoll.json"), "--keys", str(tmp_path / "keys.json")],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        # One byte changed anywhere in what was signed: verification fails.
        flipped = protocol.replace('"shredding"', '"shreddinG"', 1)
        assert flipped != protocol
        assert verify_certificate(flipped, trusted) != []
        (tmp_path / "protokoll.json").write_text(flipped)
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", "verify-certificate",
             str(tmp_path / "protokoll.json"), "--keys", str(tmp_path / "keys.json")],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 1
        # The printable protocol: a real PDF with the certificate ids in it.
        pdf = api.get("auditor", f"/api/v1/culling-lists/{list_id}/protocol",
                      format="pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert certificate_id in text.replace("\n", "")
        page = api.get("auditor", f"/api/v1/culling-lists/{list_id}/protocol", format="html")
        assert certificate_id in page.text and "Gallringsprotokoll" in page.text
        # The record's provenance shows the chain.
        history = api.get("archivist", f"/api/v1/records/{ids[LEAVER][0]}/history").json()
        cull = next(e for e in history["events"] if e["type"] == "CopyCulled")
        assert cull["data"]["culling_list_id"] == list_id
        [chain] = history["culling_lists"]
        assert (chain["proposed_by"], chain["approved_by"]) == (api.ids["archivist"],
                                                                api.ids["principal_holmes"])
        assert chain["items"][0]["certificate_id"] == certificate_id
        assert chain["protocol"] == f"/api/v1/culling-lists/{list_id}/protocol"

    def test_a_principal_approves_only_their_own_units_copies_and_a_rejection_says_why(
        self, api: Api
    ) -> None:
        closing, ids = closed_year(api)
        fryken = capture(api, AWAY, "Ava Bort", school="fryken")
        fryken_copy = school_copy(api, fryken, school="fryken")
        api.post("custodian_fryken", f"/api/v1/students/{AWAY}/departure",
                 {"reason": "finished_compulsory_school", "date": "2018-06-15"}, expect=200)
        mixed = api.post("archivist", "/api/v1/culling-lists", {
            "decision": SEED, "point": 4,
            "items": [{"record_id": fryken, "copy_id": fryken_copy}]}, expect=201).json()
        api.post("principal_holmes", f"/api/v1/culling-lists/{mixed['id']}/approval",
                 {"approved": True}, expect=403)
        # The copies already on the closing's open list cannot be proposed twice.
        api.post("archivist", "/api/v1/culling-lists", {
            "decision": SEED, "point": 4,
            "items": [{"record_id": ids[LEAVER][0], "copy_id": ids[LEAVER][1]}]}, expect=409)
        approval = f"/api/v1/culling-lists/{closing['culling_list_id']}/approval"
        api.post("principal_holmes", approval, {"approved": False}, expect=422)
        rejected = api.post("principal_holmes", approval,
                            {"approved": False, "reason": "fel läsår"}, expect=200).json()
        assert rejected["status"] == "rejected"
        assert {i["status"] for i in rejected["items"]} == {"withdrawn"}
        api.get("auditor", f"/api/v1/culling-lists/{closing['culling_list_id']}/protocol",
                expect=409)
        destroy(api, "custodian_holmes", closing["culling_list_id"], ids[LEAVER][1],
                expect=409)

    def test_a_paper_copy_is_culled_directly_only_from_an_approved_list(self, api: Api
                                                                         ) -> None:
        closing, ids = closed_year(api)
        record_id, copy_id = ids[LEAVER]
        body = {"decision": SEED, "point": 4, "method": "shredding", "witness": "Greta"}
        path = f"/api/v1/records/{record_id}/copies/{copy_id}/cull"
        api.post("custodian_holmes", path, body, expect=409)
        api.post("principal_holmes",
                 f"/api/v1/culling-lists/{closing['culling_list_id']}/approval",
                 {"approved": True}, expect=200)
        certificate = api.post("custodian_holmes", path, body, expect=200).json()
        listed = api.get("archivist",
                         f"/api/v1/culling-lists/{closing['culling_list_id']}").json()
        item = next(i for i in listed["items"] if i["copy_id"] == copy_id)
        assert item["certificate_id"] == certificate["certificate_id"]


class TestConditionsAtDestruction:
    def test_a_departure_in_the_future_or_before_birth_is_refused(self, api: Api) -> None:
        make_staff(api)
        capture(api, LEAVER, "Leo Klar")
        problem = depart(api, LEAVER, "finished_compulsory_school", date="2999-06-15",
                         expect=422).json()
        assert problem["errors"][0]["field"] == "date"
        depart(api, LEAVER, "finished_compulsory_school", date="2001-06-15", expect=422)
        depart(api, LEAVER, "finished_compulsory_school", date="2018-06-15", expect=200)

    def test_no_capture_after_the_agreement_was_terminated(self, api: Api) -> None:
        make_staff(api)
        archive_and_verify(api, capture(api, LEAVER, "Leo Klar"))
        api.post("archivist", "/api/v1/agreement/termination", expect=200)
        late = {"kind": "student_documentation", "personnummer": MOVER, "name": "Sen Elev",
                "school_id": "holmes", "documents": [{"title": "IUP", "category": "iup",
                                                      "sha256": sha("late"), "pages": 1}]}
        problem = api.post("archivist", "/api/v1/records", late, expect=409).json()
        assert "terminated" in problem["detail"]


class TestTheRegisterOfDecisions:
    def test_the_seed_decision_is_registered_with_what_each_point_allows(self, api: Api
                                                                          ) -> None:
        make_staff(api)
        register = api.get("archivist", "/api/v1/culling-decisions").json()["items"]
        seed = next(d for d in register if d["id"] == SEED)
        assert {p["point"]: p["allows"] for p in seed["points"]} == {
            1: "general_information", 2: "nothing", 3: "nothing",
            4: "school_copy_after_finishing"}

    def test_another_municipalitys_decision_allows_what_the_seed_does_not(self, api: Api
                                                                           ) -> None:
        make_staff(api)
        record_id = capture(api, AWAY, "Ava Bort")
        copy_id = school_copy(api, record_id)
        depart(api, AWAY, "moved_away", date="2018-04-01")
        item = {"record_id": record_id, "copy_id": copy_id}
        refused = api.post("archivist", "/api/v1/culling-lists",
                           {"decision": SEED, "point": 4, "items": [item]}, expect=409).json()
        assert refused["items"][0]["copy_id"] == copy_id
        api.post("archivist", "/api/v1/culling-lists",
                 {"decision": "UN 2019/77 § 12", "point": 1, "items": [item]}, expect=422)
        api.post("teacher", "/api/v1/culling-decisions", {
            "id": "UN 2019/77 § 12", "body": "Utbildningsnämnden", "date": "2019-03-20",
            "points": [{"point": 1, "text": "x", "allows": "school_copy_after_moving_away"}]},
            expect=403)
        api.post("archivist", "/api/v1/culling-decisions", {
            "id": "UN 2019/77 § 12", "body": "Utbildningsnämnden", "date": "2019-03-20",
            "points": [{"point": 1, "text": "Skolexemplar för elever som flyttat från kommunen "
                        "gallras.", "allows": "school_copy_after_moving_away"}]}, expect=201)
        listed = api.post("archivist", "/api/v1/culling-lists",
                          {"decision": "UN 2019/77 § 12", "point": 1, "items": [item]},
                          expect=201).json()
        api.post("archivist", "/api/v1/culling-lists",
                 {"decision": "UN 2019/77 § 12", "point": 2, "items": [item]}, expect=422)
        api.post("principal_holmes", f"/api/v1/culling-lists/{listed['id']}/approval",
                 {"approved": True}, expect=200)
        done = destroy(api, "custodian_holmes", listed["id"], copy_id).json()
        cull = api.get("auditor", f"/api/v1/culls/{done['certificate_id']}").json()
        assert (cull["decision"], cull["point"]) == ("UN 2019/77 § 12", 1)

    def test_a_cull_of_general_information_names_a_registered_decision(self, api: Api
                                                                       ) -> None:
        make_staff(api)
        news = api.post("archivist", "/api/v1/records", {
            "kind": "general_information", "category": "newsletter", "title": "Veckobrev",
            "school_id": "holmes", "sha256": sha("news")}, expect=201).json()["id"]
        path = f"/api/v1/records/{news}/cull"
        api.post("archivist", path, {"decision": "KS 1999/1 § 1", "point": 1,
                                     "method": "deletion"}, expect=422)
        api.post("archivist", path, {"decision": SEED, "point": 2, "method": "deletion"},
                 expect=409)
        api.post("archivist", path, {"decision": SEED, "point": 1, "method": "deletion"},
                 expect=200)


class TestDeliveriesAndTheFindingAid:
    def test_a_delivery_is_signed_countersigned_and_printed(self, api: Api) -> None:
        make_staff(api)
        for personnummer, name in ((LEAVER, "Leo Klar"), (MOVER, "Mia Flytt")):
            archive_and_verify(api, capture(api, personnummer, name))
        api.post("archivist", "/api/v1/archive/deliveries", {"boxes": ["nope"]}, expect=422)
        delivery = api.post("archivist", "/api/v1/archive/deliveries", {"boxes": ["A-001"]},
                            expect=201).json()
        assert delivery["status"] == "delivered"
        assert [{k: v for k, v in b.items() if not k.endswith("_reference")}
                for b in delivery["boxes"]] == [{"box": "A-001", "shelf": "1",
                                                 "first_personnummer": LEAVER,
                                                 "last_personnummer": MOVER, "copies": 2}]
        receipt = f"/api/v1/archive/deliveries/{delivery['id']}/receipt"
        api.post("custodian_holmes", receipt, expect=403)
        received = api.post("archive_custodian", receipt, expect=200).json()
        assert received["received_by"] == api.ids["archive_custodian"]
        api.post("archive_custodian", receipt, expect=409)
        DeliveryReceipt.model_validate(  # the shape OpenAPI declares
            api.get("archivist", f"/api/v1/archive/deliveries/{delivery['id']}").json())
        pdf = api.get("archivist", f"/api/v1/archive/deliveries/{delivery['id']}",
                      format="pdf").content
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "A-001" in text and "Leveransreversal" in text
        aid = api.get("archivist", "/api/v1/archive/finding-aid").json()
        FindingAid.model_validate(aid)
        volume = aid["series"][0]["volumes"][0]
        assert (volume["box"], volume["copies"], volume["first_personnummer"],
                volume["last_personnummer"]) == ("A-001", 2, LEAVER, MOVER)
        assert volume["delivery_id"] == delivery["id"]
        csv_text = api.get("archivist", "/api/v1/archive/finding-aid",
                           format="csv").content.decode("utf-8-sig")
        assert csv_text.splitlines()[0].startswith("serie;box")
        api.get("teacher", "/api/v1/archive/finding-aid", expect=403)


class TestHandoverOutsideTheMunicipality:
    def test_the_copy_goes_to_the_new_organiser_with_a_receipt(self, api: Api) -> None:
        make_staff(api)
        record_id = capture(api, AWAY, "Ava Bort")
        copy_id = school_copy(api, record_id)
        path = f"/api/v1/records/{record_id}/copies/{copy_id}/external-handover"
        body = {"organiser": "Karlstads kommun", "school": "Västerstrandskolan"}
        api.post("custodian_holmes", path, body, expect=409)  # not departed yet
        depart(api, AWAY, "moved_away", date="2018-04-01")
        api.post("custodian_fryken", path, body, expect=403)
        api.post("custodian_holmes", path, body, expect=200)
        api.post("custodian_holmes", f"{path}/receipt", {"receipt_reference": "KS 2018/12"},
                 expect=200)
        record = api.get("archivist", f"/api/v1/records/{record_id}").json()
        assert copy_of(record, copy_id)["status"] == "handed_over_externally"
