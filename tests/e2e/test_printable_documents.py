"""The printable documents in Swedish (issue 15): the register extract, the culling
protocol and the delivery receipt, as HTML and PDF, through the HTTP API and the web
routes, on SQLite and PostgreSQL. The Swedish version shows every code through its
Swedish label (no ``development_talk``, ``destroyed``, ``shredding``…) and none of the
app's English words; ``lang=en`` (API) or the English web language gives English. The
culling certificate is a web page: it is checked the same way. The JSON stays as it was:
the extract keeps its keys and the signed protocol is byte-identical whatever the language.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from api.app import create_app
from application.culling import Culling, Destruction, ItemIn
from application.deliveries import ArchiveDeliveries
from application.service import DocumentIn, StudentCapture
from domain.culling import DECISION_ID, POINT_SCHOOL_COPY_AT_ROLLOVER
from infrastructure.bootstrap import Runtime
from tests.e2e.test_web_work import ENGLISH, RAW_CODES, SAME_IN_SWEDISH, Browser, visible_text
from tests.factories import Staff, pnr, seed_staff

ALVA = pnr(2002, 3, 15, 123)
NAME = "Alva Andersson"
DOCUMENT_WORDS = (
    "produced", "personal data", "documents", "copies", "pages", "asked", "handed out",
    "returned", "transfers", "access log", "culls", "culled under", "certificate", "copy",
    "protected identity", "delivery", "delivered", "received", "lent to", "school unit",
    "allowed", "refused", "extract", "register", "destroyed", "withdrawn", "shredding",
    "verify offline", "decided by", "wording", "issued", "signature", "shelf", "volumes",
    "yes", "no", "record", "student documentation",
)
"""English words and phrases of the documents themselves (the English version's)."""
STATUS_CODES = ("proposed", "approved", "rejected", "executed", "destroyed", "withdrawn",
                "delivered", "received", "development_talk", "support_measure",
                "student_documentation", "shredding", "CopyLent", "CopyReturned",
                "CopyDelivered", "StudentDeparted")


def english_or_codes(text: str) -> list[str]:
    """Raw codes and English words in a document's text (as the web pages are checked)."""
    words = set(re.findall(r"[a-z_]+", text))
    lowered = text.lower()
    bad = [c for c in RAW_CODES if ("_" in c and c in text) or (
        "_" not in c and c in words and c not in SAME_IN_SWEDISH)]
    bad += [c for c in STATUS_CODES if c in words or c in text]
    bad += [e for e in ENGLISH if e.lower() in lowered]
    # Whole words only, and not inside a command's name (custody verify-certificate).
    bad += [w for w in DOCUMENT_WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])",
                                                    lowered)]
    return bad


def without_time_of_issue(value: Any) -> Any:
    """A signed document without its times of issue and signatures (they change by the
    second; everything else must not)."""
    if isinstance(value, dict):
        return {k: without_time_of_issue(v) for k, v in value.items()
                if k not in ("issued_at", "signature", "inclusion_proof")}
    if isinstance(value, list):
        return [without_time_of_issue(v) for v in value]
    return value


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    pages = PdfReader(io.BytesIO(content)).pages
    assert len(pages) >= 1
    return "\n".join(page.extract_text() for page in pages)


@dataclass
class Documents:
    rt: Runtime
    staff: Staff
    app: Any
    record_id: UUID
    list_id: str
    certificate_id: UUID
    delivery_id: str

    def api(self, who: str, path: str, **params: str) -> Any:
        response = TestClient(self.app).get(
            path, params=params, headers={"Authorization": f"Bearer {self.staff.tokens[who]}"})
        assert response.status_code == 200, (path, params, response.text[:500])
        return response

    def web(self, who: str, path: str, lang: str = "sv", **params: str) -> Any:
        browser = Browser(self.app, self.staff.tokens[who])
        browser.client.cookies.set("custody_lang", lang)
        response = browser.get(path, **params)
        assert response.status_code == 200, (path, params, response.text[:500])
        return response


@pytest.fixture
def documents(runtime: Runtime) -> Iterator[Documents]:
    """A student with a development talk and a support measure, her school copy lent to a
    teacher and returned, then culled through a list after she left; her archive copy
    filed, delivered and countersigned; and her register extract produced once."""
    staff = seed_staff(runtime.custody)
    custody = runtime.custody
    record_id = custody.capture_student(staff.archivist, StudentCapture(
        ALVA, NAME, "holmes", "9A",
        [DocumentIn("Utvecklingssamtal ht 2017", "development_talk", "c" * 64, 2),
         DocumentIn("Åtgärdsprogram vt 2018", "support_measure", "d" * 64, 3)]))
    school_copy = custody.print_copy(staff.archivist, record_id, "school", "holmes")
    custody.deliver_copy(staff.custodians["holmes"], record_id, school_copy, "holmes")
    asked = custody.make_request(staff.principals["holmes"], record_id, "utvecklingssamtal").id
    custody.decide_request(staff.custodians["holmes"], asked, granted=True, reason="mentor")
    custody.hand_out(staff.custodians["holmes"], asked)
    custody.take_back(staff.custodians["holmes"], asked)
    archive_copy = custody.print_copy(staff.archivist, record_id, "archive", None)
    custody.archive_copy(staff.archivist, record_id, archive_copy, box="A001", shelf="3")
    deliveries = ArchiveDeliveries(custody, runtime.queries)
    delivery_id = deliveries.deliver(staff.archivist, ["A001"])["id"]
    deliveries.receive(staff.archive_custodian, UUID(delivery_id), "Hylla H3")
    custody.record_departure(staff.custodians["holmes"], ALVA,
                             reason="finished_compulsory_school", to_school_id=None,
                             date="2018-06-15")
    culling = Culling(custody, runtime.queries)
    list_id = culling.propose(staff.archivist, decision=DECISION_ID,
                              point=POINT_SCHOOL_COPY_AT_ROLLOVER,
                              items=[ItemIn(record_id, school_copy)], note=None)["id"]
    culling.decide(staff.principals["holmes"], UUID(list_id), approved=True, reason="kontroll")
    certificate_id = culling.destroy(staff.custodians["holmes"], UUID(list_id), school_copy,
                                     Destruction("shredding", custody.today().isoformat(),
                                                 "Greta Granskare")).certificate_id
    runtime.queries.extract(staff.archivist, record_id)  # the access log has an entry
    with TestClient(create_app(runtime=runtime)) as client:
        yield Documents(runtime, staff, client.app, record_id, str(list_id),
                        certificate_id, delivery_id)


def extracts(d: Documents) -> dict[str, tuple[str, str]]:
    """The extract's HTML and PDF text, by door and language."""
    api = f"/api/v1/students/{ALVA}/extract"
    web = f"/post/{d.record_id}/registerutdrag"
    found = {}
    for lang in ("sv", "en"):
        html = d.api("archivist", api, format="html", lang=lang)
        pdf = d.api("archivist", api, format="pdf", lang=lang)
        found[f"api {lang}"] = (html.text, pdf_text(pdf.content))
        html = d.web("archivist", web, lang, format="html")
        pdf = d.web("archivist", web, lang, format="pdf")
        found[f"web {lang}"] = (html.text, pdf_text(pdf.content))
    return found


def protocols(d: Documents) -> dict[str, tuple[str, str]]:
    api = f"/api/v1/culling-lists/{d.list_id}/protocol"
    web = f"/gallringslistor/{d.list_id}/protokoll"
    found = {}
    for lang in ("sv", "en"):
        html = d.api("auditor", api, format="html", lang=lang)
        pdf = d.api("auditor", api, format="pdf", lang=lang)
        found[f"api {lang}"] = (html.text, pdf_text(pdf.content))
        page = d.web("custodian_holmes", web, lang)
        pdf = d.web("custodian_holmes", web, lang, format="pdf")
        found[f"web {lang}"] = (page.text, pdf_text(pdf.content))
    return found


def receipts(d: Documents) -> dict[str, tuple[str, str]]:
    api = f"/api/v1/archive/deliveries/{d.delivery_id}"
    web = f"/arkiv/leveranser/{d.delivery_id}"
    found = {}
    for lang in ("sv", "en"):
        html = d.api("archivist", api, format="html", lang=lang)
        pdf = d.api("archivist", api, format="pdf", lang=lang)
        found[f"api {lang}"] = (html.text, pdf_text(pdf.content))
        page = d.web("archivist", web, lang)
        pdf = d.web("archivist", f"{web}/leveransreversal.pdf", lang)
        found[f"web {lang}"] = (page.text, pdf_text(pdf.content))
    return found


def swedish_faults(found: dict[str, tuple[str, str]], heading: str) -> dict[str, list[str]]:
    faults: dict[str, list[str]] = {}
    for door in ("api sv", "web sv"):
        html, pdf = found[door]
        assert heading in html and heading in pdf, (door, heading)
        assert re.search(r"<html lang=['\"]sv['\"]", html), door
        for kind, text in (("html", visible_text(html)), ("pdf", pdf)):
            bad = english_or_codes(text)
            if bad:
                faults[f"{door} {kind}"] = bad
    return faults


class TestTheRegisterExtract:
    def test_swedish_by_default_every_code_labelled_no_english(self, documents: Documents
                                                               ) -> None:
        found = extracts(documents)
        assert swedish_faults(found, "Registerutdrag") == {}
        html, pdf = found["api sv"]
        for text in (visible_text(html), pdf):
            for expected in (ALVA, NAME, "Utvecklingssamtal", "Åtgärdsprogram",
                             "Personuppgifter", "Handlingar", "Skolexemplar", "Gallrat",
                             "Arkivexemplar", "Rektor holmes", "Återlämnad", "Åtkomstlogg",
                             "Registerutdrag", "Utlämnad"):
                assert expected.lower() in text.lower(), expected
        # The same document through the web route: the same Swedish lines.
        assert "Utvecklingssamtal" in found["web sv"][0]

    def test_english_on_request(self, documents: Documents) -> None:
        found = extracts(documents)
        for door in ("api en", "web en"):
            html, pdf = found[door]
            for text in (visible_text(html), pdf):
                for expected in ("Register extract", "Personal data", "Development talk",
                                 "School copy", "Access log"):
                    assert expected.lower() in text.lower(), (door, expected)
                assert "development_talk" not in text and "Registerutdrag (" not in text
            assert re.search(r"<html lang=['\"]en['\"]", html), door

    def test_the_json_keeps_its_keys(self, documents: Documents) -> None:
        for lang in ("sv", "en"):
            body = documents.api("archivist", f"/api/v1/students/{ALVA}/extract",
                                 lang=lang).json()
            assert {"produced_at", "student", "record", "documents", "copies", "recipients",
                    "movements", "culls", "access_log"} <= set(body)
            assert {d["category"] for d in body["documents"]} == {"development_talk",
                                                                  "support_measure"}


class TestTheCullingProtocol:
    def test_swedish_by_default_every_code_labelled_no_english(self, documents: Documents
                                                               ) -> None:
        found = protocols(documents)
        assert swedish_faults(found, "Gallringsprotokoll") == {}
        for door in ("api sv", "web sv"):
            html, pdf = found[door]
            for text in (visible_text(html), pdf):
                assert "Förstört" in text and "strimling" in text, door

    def test_english_on_request(self, documents: Documents) -> None:
        found = protocols(documents)
        for door in ("api en", "web en"):
            html, pdf = found[door]
            for text in (visible_text(html), pdf):
                assert "Culling protocol" in text and "Destroyed" in text, door
                assert "Gallringsprotokoll" not in text and "strimling" not in text, door

    def test_the_signed_json_is_the_same_in_either_language(self, documents: Documents
                                                            ) -> None:
        """The signed JSON is not rendered: the language changes nothing in it (only the
        times of issue and so the signatures move: the protocol and its certificates are
        issued when fetched)."""
        path = f"/api/v1/culling-lists/{documents.list_id}/protocol"
        texts = [documents.api("auditor", path, lang="sv").text,
                 documents.api("auditor", path, lang="en").text,
                 documents.api("auditor", path).text,
                 documents.web("custodian_holmes",
                               f"/gallringslistor/{documents.list_id}/protokoll", "en",
                               format="json").text]

        def unsigned(text: str) -> Any:
            document = json.loads(text)
            assert json.dumps(document, indent=2, ensure_ascii=False) + "\n" == text
            return without_time_of_issue(document)

        first = unsigned(texts[0])
        assert all(unsigned(text) == first for text in texts[1:])
        assert first["protocol"]["items"][0]["method"] == "shredding"
        assert first["protocol"]["items"][0]["status"] == "destroyed"


class TestTheDeliveryReceipt:
    def test_swedish_by_default_every_code_labelled_no_english(self, documents: Documents
                                                               ) -> None:
        found = receipts(documents)
        assert swedish_faults(found, "Leveransreversal") == {}
        for door in ("api sv", "web sv"):
            html, pdf = found[door]
            for text in (visible_text(html), pdf):
                assert "Kvitterad" in text and "A001" in text and "Asta Arkivet" in text, door

    def test_english_on_request(self, documents: Documents) -> None:
        found = receipts(documents)
        for door in ("api en", "web en"):
            html, pdf = found[door]
            for text in ((visible_text(html), pdf) if door == "api en" else (pdf,)):
                assert "Delivery receipt" in text and "Countersigned" in text, door
                assert "Leveransreversal" not in text and "A001" in text, door


class TestTheCullingCertificate:
    def test_the_printable_certificate_page_is_swedish_without_codes(
        self, documents: Documents
    ) -> None:
        page = documents.web("archivist", f"/gallring/{documents.certificate_id}")
        text = visible_text(page.text)
        assert "Gallringsbevis" in text
        assert english_or_codes(text) == []
