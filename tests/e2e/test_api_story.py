"""The seed story through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api, make_staff
from tests.factories import pnr, sha

ANNA = pnr(2004, 3, 15, 123)
BO = pnr(1999, 8, 30, 456)
CID = pnr(2003, 11, 2, 789, coordination=True)


def capture(api: Api, personnummer: str, name: str, school: str = "holmes") -> str:
    body = {"kind": "student_documentation", "personnummer": personnummer, "name": name,
            "school_id": school, "class": "9B",
            "documents": [{"title": f"IUP {name}", "category": "iup",
                           "sha256": sha(personnummer), "pages": 3}]}
    return str(api.post("archivist", "/api/v1/records", body, expect=201).json()["id"])


def archive_and_verify(api: Api, record_id: str) -> str:
    copy_id = api.post("archivist", f"/api/v1/records/{record_id}/copies",
                       {"purpose": "archive"}, expect=201).json()["id"]
    api.post("archivist", f"/api/v1/records/{record_id}/copies/{copy_id}/archival",
             {"box": "A-001", "shelf": "1"}, expect=200)
    api.post("archivist", f"/api/v1/records/{record_id}/copies/{copy_id}/verification",
             {"outcome": "ok"}, expect=200)
    return str(copy_id)


def school_copy(api: Api, record_id: str, school: str = "holmes") -> str:
    copy_id = str(api.post("archivist", f"/api/v1/records/{record_id}/copies",
                           {"purpose": "school", "school_id": school}, expect=201).json()["id"])
    api.post(f"custodian_{school}", f"/api/v1/records/{record_id}/copies/{copy_id}/delivery",
             {"school_id": school}, expect=200)
    return copy_id


def copy_of(record: dict[str, Any], copy_id: str) -> dict[str, Any]:
    return next(c for c in record["copies"] if c["id"] == copy_id)


class TestTheSeedStory:
    def test_capture_archive_request_transfer_cull_and_terminate(self, api: Api) -> None:
        make_staff(api)
        anna = capture(api, ANNA, "Anna Holm")
        bo = capture(api, BO, "Bo Ek")
        cid = capture(api, CID, "Cai Dahl", "kvistberg")
        news = api.post("archivist", "/api/v1/records", {
            "kind": "general_information", "category": "newsletter",
            "title": "Veckobrev v. 12", "school_id": "holmes", "sha256": sha("news")},
            expect=201).json()["id"]

        # Agreement not ready while archive copies are missing.
        readiness = api.get("archivist", "/api/v1/agreement").json()
        assert readiness["ready"] is False and readiness["students"] == 3
        refused = api.post("archivist", "/api/v1/agreement/termination", expect=409).json()
        assert len(refused["missing"]) == 3

        for record_id in (anna, bo, cid):
            archive_and_verify(api, record_id)
        anna_school = school_copy(api, anna)
        bo_school = school_copy(api, bo)

        # Shelf list in personnummer order (1999 before 2003 before 2004).
        shelf = api.get("archivist", "/api/v1/archive/shelf-list").json()["items"]
        assert [row["personnummer"] for row in shelf] == [BO, CID, ANNA]
        # The auditor checks the same list by pseudonymous references (least privilege).
        pseudonymous = api.get("auditor", "/api/v1/archive/shelf-list").json()["items"]
        assert [row["record_id"] for row in pseudonymous] == [r["record_id"] for r in shelf]
        assert all(row["personnummer"] is None and row["reference"] for row in pseudonymous)
        assert all(row["verified"] for row in shelf)

        # A teacher assigned to Anna orders her documentation from the designated custodian.
        api.post("admin", f"/api/v1/actors/{api.ids['teacher']}/assignments",
                 {"personnummer": ANNA}, expect=201)
        request = api.post("teacher", "/api/v1/requests",
                           {"record_id": anna, "purpose": "utvecklingssamtal"}, expect=201).json()
        assert request["status"] == "pending"
        api.post("custodian_holmes", f"/api/v1/requests/{request['id']}/decision",
                 {"granted": True, "reason": "assigned teacher"}, expect=200)
        handed = api.post("custodian_holmes", f"/api/v1/requests/{request['id']}/handout",
                          expect=200).json()
        assert handed["status"] == "handed_out"
        on_loan = api.get("archivist", f"/api/v1/records/{anna}").json()
        assert copy_of(on_loan, anna_school)["holder"] == api.ids["teacher"]
        # A copy on loan cannot be transferred.
        api.post("custodian_holmes", f"/api/v1/records/{anna}/copies/{anna_school}/transfer",
                 {"to_school_id": "kvistberg"}, expect=409)
        api.post("custodian_holmes", f"/api/v1/requests/{request['id']}/return", expect=200)

        # An unassigned teacher is refused with 403, and the refusal is logged.
        refusal = api.post("other_teacher", "/api/v1/requests",
                           {"record_id": anna, "purpose": "nyfiken"}, expect=403).json()
        assert refusal["type"].endswith("not-authorised")
        log = api.get("auditor", "/api/v1/requests").json()["items"]
        assert [r["status"] for r in log] == ["returned", "refused"]
        assert log[1]["actor"] == api.ids["other_teacher"]
        assert log[1]["id"] == refusal["request_id"]

        # Anna moves within the municipality; her school copy is handed over.
        api.post("custodian_holmes", f"/api/v1/students/{ANNA}/departure",
                 {"reason": "moved_within_municipality", "to_school_id": "kvistberg",
                  "date": "2018-06-10"}, expect=200)
        api.post("custodian_holmes", f"/api/v1/records/{anna}/copies/{anna_school}/transfer",
                 {"to_school_id": "kvistberg"}, expect=200)
        incoming = api.get("custodian_kvistberg", "/api/v1/schools/kvistberg/holdings").json()
        assert [(c["copy_id"], c["status"]) for c in incoming["items"]] == [
            (anna_school, "in_transit")]
        api.post("custodian_kvistberg",
                 f"/api/v1/records/{anna}/copies/{anna_school}/receipt", expect=200)
        holdings = api.get("custodian_kvistberg", "/api/v1/schools/kvistberg/holdings").json()
        assert [(c["copy_id"], c["status"]) for c in holdings["items"]] == [
            (anna_school, "at_school")]

        # Bo finished compulsory school; his school copy goes on a culling list under
        # point 4, the principal approves it, and the custodian who holds it destroys it.
        api.post("custodian_holmes", f"/api/v1/students/{BO}/departure",
                 {"reason": "finished_compulsory_school", "date": "2018-06-15"}, expect=200)
        listed = api.post("archivist", "/api/v1/culling-lists",
                          {"decision": "BU 2017/503 § 88", "point": 4,
                           "items": [{"record_id": bo, "copy_id": bo_school}]},
                          expect=201).json()
        api.post("principal_holmes", f"/api/v1/culling-lists/{listed['id']}/approval",
                 {"approved": True}, expect=200)
        cull = api.post("custodian_holmes", f"/api/v1/records/{bo}/copies/{bo_school}/cull",
                        {"decision": "BU 2017/503 § 88", "point": 4, "method": "shredding",
                         "witness": "Greta Granskare"}, expect=200).json()
        # The general information is culled under point 1.
        api.post("archivist", f"/api/v1/records/{news}/cull",
                 {"decision": "BU 2017/503 § 88", "point": 1, "method": "deletion"},
                 expect=200)
        register = api.get("auditor", "/api/v1/culls").json()["items"]
        assert {c["point"] for c in register} == {1, 4}
        certificate = api.get("auditor", f"/api/v1/culls/{cull['certificate_id']}").json()
        assert certificate["condition"] == "student finished compulsory school on 2018-06-15"
        culled_news = api.get("auditor", f"/api/v1/records/{news}").json()
        assert culled_news["status"] == "culled" and culled_news["title"] is None

        api.post("custodian_kvistberg", f"/api/v1/records/{cid}/ist-entry", {"note": "klart"},
                 expect=200)
        terminated = api.post("archivist", "/api/v1/agreement/termination", expect=200).json()
        assert terminated["terminated"] is True and terminated["verified"] == 3

        history = api.get("auditor", f"/api/v1/records/{anna}/history").json()["events"]
        assert all(e["signature_valid"] for e in history)
        assert [e["seq"] for e in history] == sorted(e["seq"] for e in history)
        assert history[0]["type"] == "StudentDocumentationCaptured"
