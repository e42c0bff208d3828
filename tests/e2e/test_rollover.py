"""The year-end rollover and the agreement's termination through the API."""

from __future__ import annotations

from tests.e2e.conftest import Api, make_staff
from tests.e2e.test_api_story import archive_and_verify, capture, school_copy
from tests.factories import pnr

MOVER, LEAVER, AWAY, STAYER = (pnr(2006, 2, 2, 2), pnr(2002, 3, 3, 3), pnr(2007, 4, 4, 4),
                               pnr(2008, 5, 5, 5))


def inventory(api: Api) -> dict[str, tuple[str, str]]:
    ids = {}
    for personnummer, name in ((MOVER, "Mia Flytt"), (LEAVER, "Leo Klar"),
                               (AWAY, "Ava Bort"), (STAYER, "Sam Kvar")):
        record_id = capture(api, personnummer, name)
        ids[personnummer] = (record_id, school_copy(api, record_id))
    return ids


class TestRollover:
    def test_transfers_and_proposes_culls_then_does_nothing_twice(self, api: Api) -> None:
        make_staff(api)
        ids = inventory(api)
        for personnummer, body in (
            (MOVER, {"reason": "moved_within_municipality", "to_school_id": "fryken",
                     "date": "2018-06-12"}),
            (LEAVER, {"reason": "finished_compulsory_school", "date": "2018-06-15"}),
            (AWAY, {"reason": "moved_away", "date": "2018-04-01"}),
        ):
            api.post("custodian_holmes", f"/api/v1/students/{personnummer}/departure", body,
                     expect=200)
        api.post("custodian_holmes", "/api/v1/school-years/2018/closing", expect=403)
        result = api.post("archivist", "/api/v1/school-years/2018/closing", expect=200).json()
        assert [t["record_id"] for t in result["transfers"]] == [ids[MOVER][0]]
        assert [f["record_id"] for f in result["for_archivist"]] == [ids[AWAY][0]]
        listed = api.get("archivist", f"/api/v1/culling-lists/{result['culling_list_id']}"
                         ).json()
        assert [(i["record_id"], i["status"]) for i in listed["items"]] == [
            (ids[LEAVER][0], "proposed")]
        events = api.client.get("/healthz").json()["events"]
        again = api.post("archivist", "/api/v1/school-years/2018/closing", expect=200).json()
        assert again == result
        assert api.client.get("/healthz").json()["events"] == events
        # The receiving custodian confirms receipt.
        fryken = api.get("custodian_fryken", "/api/v1/schools/fryken/holdings").json()
        assert [c["record_id"] for c in fryken["items"] if c["status"] == "in_transit"] == [
            ids[MOVER][0]]
        api.post("custodian_fryken",
                 f"/api/v1/records/{ids[MOVER][0]}/copies/{ids[MOVER][1]}/receipt", expect=200)
        # The leaver's copy is still at the school until the list is approved and the
        # custodian who holds it destroys it; then it has its certificate.
        leaver = api.get("archivist", f"/api/v1/records/{ids[LEAVER][0]}").json()
        assert {c["status"] for c in leaver["copies"]} == {"at_school"}
        api.post("principal_holmes",
                 f"/api/v1/culling-lists/{result['culling_list_id']}/approval",
                 {"approved": True}, expect=200)
        certificate = api.post(
            "custodian_holmes",
            f"/api/v1/culling-lists/{result['culling_list_id']}/items/{ids[LEAVER][1]}"
            "/destruction", {"method": "shredding", "date": "2018-08-20",
                             "contractor_reference": "Makulera AB 2018-114"},
            expect=200).json()["certificate_id"]
        cull = api.get("auditor", f"/api/v1/culls/{certificate}").json()
        assert cull["point"] == 4 and cull["copy_id"] == ids[LEAVER][1]
        stayer = api.get("archivist", f"/api/v1/records/{ids[STAYER][0]}").json()
        assert {c["status"] for c in stayer["copies"]} == {"at_school"}


class TestTermination:
    def test_refused_with_what_is_missing_until_every_archive_copy_is_verified(
        self, api: Api
    ) -> None:
        make_staff(api)
        first = capture(api, MOVER, "Mia Flytt")
        second = capture(api, LEAVER, "Leo Klar")
        archive_and_verify(api, first)
        refused = api.post("archivist", "/api/v1/agreement/termination", expect=409).json()
        assert [m["record_id"] for m in refused["missing"]] == [second]
        csv_text = api.get("archivist", "/api/v1/agreement.csv").content.decode("utf-8-sig")
        assert second in csv_text and first not in csv_text
        api.post("auditor", "/api/v1/agreement/termination", expect=403)
        archive_and_verify(api, second)
        done = api.post("archivist", "/api/v1/agreement/termination", expect=200).json()
        assert done["terminated"] is True and done["missing"] == []
        api.post("archivist", "/api/v1/agreement/termination", expect=409)


class TestInventoryUpload:
    def test_posting_the_csv_captures_and_names_bad_rows(self, api: Api) -> None:
        make_staff(api)
        header = "kind,personnummer,name,school_id,class,title,category,sha256,pages\n"
        good = (f"student_documentation,{MOVER},Mia Flytt,holmes,7A,IUP,iup,{'a' * 64},2\n")
        bad = (f"student_documentation,{MOVER[:-1]}0,Ny Elev,holmes,7A,IUP,iup,{'b' * 64},2\n"
               if not MOVER.endswith("0") else
               f"student_documentation,{MOVER[:-1]}1,Ny Elev,holmes,7A,IUP,iup,{'b' * 64},2\n")
        response = api.client.post("/api/v1/inventory", content=header + good + bad,
                                   headers={**api.as_("archivist"),
                                            "Content-Type": "text/csv"})
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["captured_students"] == 1
        assert [r["line"] for r in report["rejected"]] == [3]
        assert "check digit" in report["rejected"][0]["reason"]
