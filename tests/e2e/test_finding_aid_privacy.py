"""The finding aid and the delivery receipts show a box's first and last personnummer as
every other list shows a student (on SQLite and PostgreSQL, over real HTTP and the web
pages): the archivist and the archive's custodian see the numbers, auditors and the admin
the references, a protected pupil is a reference to all who may not see protected
identities, and each read is in the access log."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from application.deliveries import ArchiveDeliveries
from domain.delivery import ArchiveDelivery
from tests.e2e.test_web_records import filed
from tests.e2e.test_web_work import Desk
from tests.e2e.test_web_work import desk as desk  # the fixture
from tests.factories import pnr

LOW = pnr(2004, 1, 5, 111)  # protected, the box's first number
HIGH = pnr(2006, 9, 9, 222)  # the box's last number
NUMBERS = [LOW, HIGH, LOW.replace("-", ""), HIGH.replace("-", ""), LOW[2:], HIGH[2:]]


def _no_number(text: str) -> None:
    for number in NUMBERS:
        assert number not in text


@pytest.fixture
def boxed(desk: Desk) -> tuple[Desk, str]:
    """Two pupils in box A001, the first one with protected identity, the box delivered."""
    low = filed(desk, LOW, "Lo Skydd", "A001")
    filed(desk, HIGH, "Hugo Hög", "A001")
    desk.rt.custody.protect(desk.staff.archivist, LOW, "Beslut från Skatteverket")
    delivery = ArchiveDeliveries(desk.rt.custody, desk.rt.queries).deliver(
        desk.staff.archivist, ["A001"])
    desk.records["low"] = low
    return desk, str(delivery["id"])


def _api(desk: Desk, who: str, path: str, **params: Any) -> Any:
    client = TestClient(desk.app)
    response = client.get(path, params=params or None,
                          headers={"Authorization": f"Bearer {desk.staff.tokens[who]}"})
    assert response.status_code == 200, response.text
    return response


def _entries(desk: Desk, who: str, action: str) -> list[dict[str, Any]]:
    desk.rt.queries.fresh_all()
    return [e for e in desk.rt.queries._access_items(str(desk.records["low"]))
            if e["actor"] == getattr(desk.staff, who).id and e["action"] == action]


class TestTheBoundsPerCaller:
    @pytest.mark.parametrize("who", ["auditor", "admin"])
    def test_auditor_and_admin_see_references_only(self, boxed: tuple[Desk, str],
                                                   who: str) -> None:
        desk, delivery_id = boxed
        aid = _api(desk, who, "/api/v1/archive/finding-aid")
        volume = aid.json()["series"][0]["volumes"][0]
        assert (volume["first_personnummer"], volume["last_personnummer"]) == (None, None)
        assert volume["first_reference"].startswith("SKYDDAD-")
        assert volume["last_reference"].startswith("ELEV-")
        _no_number(aid.text)
        html = _api(desk, who, "/api/v1/archive/finding-aid", format="html").text
        _no_number(html)
        assert volume["first_reference"] in html and volume["last_reference"] in html
        sheet = _api(desk, who, "/api/v1/archive/finding-aid", format="csv").content
        _no_number(sheet.decode("utf-8-sig"))
        assert volume["first_reference"] in sheet.decode("utf-8-sig")

        path = f"/api/v1/archive/deliveries/{delivery_id}"
        receipt = _api(desk, who, path)
        (box,) = receipt.json()["boxes"]
        assert (box["first_personnummer"], box["last_personnummer"]) == (None, None)
        assert box["first_reference"] == volume["first_reference"]
        _no_number(receipt.text)
        _no_number(_api(desk, who, path, format="html").text)

        web = desk.as_(who)
        for page in ("/arkiv/forteckning", "/arkiv/forteckning.csv",
                     f"/arkiv/leveranser/{delivery_id}"):
            shown = web.get(page)
            assert shown.status_code == 200
            _no_number(shown.content.decode("utf-8-sig"))
            assert volume["first_reference"] in shown.content.decode("utf-8-sig")

    @pytest.mark.parametrize("who", ["archivist", "archive_custodian"])
    def test_those_who_see_protected_identities_see_the_numbers(
            self, boxed: tuple[Desk, str], who: str) -> None:
        desk, delivery_id = boxed
        volume = _api(desk, who, "/api/v1/archive/finding-aid").json()["series"][0]["volumes"][0]
        assert (volume["first_personnummer"], volume["last_personnummer"]) == (LOW, HIGH)
        receipt = _api(desk, who, f"/api/v1/archive/deliveries/{delivery_id}").json()
        assert (receipt["boxes"][0]["first_personnummer"],
                receipt["boxes"][0]["last_personnummer"]) == (LOW, HIGH)
        sheet = desk.as_(who).get("/arkiv/forteckning.csv").content.decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(sheet), delimiter=";"))
        assert (rows[0]["första personnummer"], rows[0]["sista personnummer"]) == (LOW, HIGH)

    def test_the_sip_copy_keeps_the_numbers(self, boxed: tuple[Desk, str]) -> None:
        desk, delivery_id = boxed
        deliveries = ArchiveDeliveries(desk.rt.custody, desk.rt.queries)
        volume = deliveries.archival_finding_aid()["series"][0]["volumes"][0]
        assert (volume["first_personnummer"], volume["last_personnummer"]) == (LOW, HIGH)
        box = deliveries.archival_receipt(UUID(delivery_id))["boxes"][0]
        assert (box["first_personnummer"], box["last_personnummer"]) == (LOW, HIGH)


class TestTheReadIsLogged:
    def test_finding_aid_and_receipt_reads_are_in_the_access_log(
            self, boxed: tuple[Desk, str]) -> None:
        desk, delivery_id = boxed
        assert _entries(desk, "auditor", "finding aid") == []
        _api(desk, "auditor", "/api/v1/archive/finding-aid", format="csv")
        _api(desk, "archivist", f"/api/v1/archive/deliveries/{delivery_id}")
        desk.as_("admin").get("/arkiv/forteckning")
        (aid,) = _entries(desk, "auditor", "finding aid")
        assert aid["route"] == "GET /api/v1/archive/finding-aid"
        assert aid["outcome"] == "allowed"
        # the fixture's delivery answered the receipt too (route "application")
        assert [e["route"] for e in _entries(desk, "archivist", "delivery receipt")] == [
            "application", "GET /api/v1/archive/deliveries/{delivery_id}"]
        assert [e["route"] for e in _entries(desk, "admin", "finding aid")] == [
            "GET /arkiv/forteckning"]


class TestADeliveryFromBefore:
    def test_a_receipt_without_the_bounds_records_finds_them_by_number(
            self, desk: Desk) -> None:
        """A delivery signed before the bounds' records were kept with it."""
        filed(desk, LOW, "Lo Skydd", "A001")
        filed(desk, HIGH, "Hugo Hög", "A001")
        custody = desk.rt.custody
        custody.protect(desk.staff.archivist, LOW, "Beslut från Skatteverket")
        old = ArchiveDelivery.deliver(uuid4(), boxes=[
            {"box": "A001", "shelf": "3", "first_personnummer": LOW,
             "last_personnummer": HIGH, "copies": 2}],
            subject=custody.keys.new_subject(), actor=desk.staff.archivist.id)
        custody.commit(old)
        deliveries = ArchiveDeliveries(custody, desk.rt.queries)
        (box,) = deliveries.delivery(desk.staff.auditor, old.id)["boxes"]
        assert (box["first_personnummer"], box["last_personnummer"]) == (None, None)
        assert box["first_reference"].startswith("SKYDDAD-")
        assert box["last_reference"].startswith("ELEV-")
        assert "first_record_id" not in box
        (box,) = deliveries.delivery(desk.staff.archivist, old.id)["boxes"]
        assert (box["first_personnummer"], box["last_personnummer"]) == (LOW, HIGH)
