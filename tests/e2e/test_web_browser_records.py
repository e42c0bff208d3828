"""Personal data, external hand-over and archive deliveries through a real browser
(Debian's chromium via Playwright), the web pages only (the application is read back to
assert): the archivist protects a pupil's identity, gives a new personnummer, downloads
the register extract and reads the access log; a school custodian hands a copy over
outside the municipality and records the receipt; the archivist delivers a box to the
archive, the archive's custodian countersigns it, the finding aid downloads as a Swedish
spreadsheet. Then axe-core on every new page, empty and full, in both languages at
1280x800 and 390x844, with a screenshot of each in ``artifacts/screenshots/``.

Seed data goes in through the application layer, not the browser, to keep this fast.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from application.deliveries import ArchiveDeliveries
from infrastructure.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.e2e.test_web import Site
from tests.e2e.test_web import seed_migration as seed_story_so_far
from tests.e2e.test_web_browser_work import (
    DESKTOP,
    PHONE,
    _serve,
    shot,
    sign_in,
    status_text,
    violations,
)
from tests.e2e.test_web_browser_work import axe_source as axe_source  # the fixture
from tests.e2e.test_web_browser_work import page as page  # the fixture
from tests.factories import Staff, pnr, seed_staff, student

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _site(rt: Any, staff: Staff, records: dict[str, UUID],
          numbers: dict[str, str]) -> Iterator[Site]:
    base, server, thread = _serve(rt)
    try:
        yield Site(base, rt, staff, records, numbers)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        rt.close()


def file_one(rt: Any, staff: Staff, number: str, name: str, box: str) -> UUID:
    record_id = rt.custody.capture_student(staff.archivist, student(number, name, "holmes"))
    copy_id = rt.custody.print_copy(staff.archivist, record_id, "archive", None)
    rt.custody.archive_copy(staff.archivist, record_id, copy_id, box=box, shelf="9")
    return UUID(str(record_id))


def moved_away(rt: Any, staff: Staff, number: str, name: str) -> UUID:
    """A pupil of Holmesskolan whose school copy is there and who moved away."""
    custody, holmes = rt.custody, staff.custodians["holmes"]
    record_id = custody.capture_student(staff.archivist, student(number, name, "holmes"))
    copy_id = custody.print_copy(staff.archivist, record_id, "school", "holmes")
    custody.deliver_copy(holmes, record_id, copy_id, "holmes")
    custody.record_departure(holmes, number, reason="moved_away", to_school_id=None,
                             date="2018-06-15")
    return UUID(str(record_id))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    rt = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("web-records-store")))
    staff, records, numbers = seed_story_so_far(rt)
    custody = rt.custody
    # For the flows.
    for name, number in (("Petra Skydd", pnr(2006, 2, 2, 202)),
                         ("Sam Ordning", pnr(2006, 3, 3, 303, coordination=True))):
        records[name] = custody.capture_student(staff.archivist,
                                                student(number, name, "holmes"))
        numbers[name] = number
    numbers["Flytt Flyttsson"] = pnr(2006, 4, 4, 404)
    records["Flytt Flyttsson"] = moved_away(rt, staff, numbers["Flytt Flyttsson"],
                                            "Flytt Flyttsson")
    numbers["Låda Ett"] = pnr(2006, 5, 5, 505)
    records["Låda Ett"] = file_one(rt, staff, numbers["Låda Ett"], "Låda Ett", "B100")
    # For the pages, full: a protected pupil, a copy awaiting its receipt, a delivery
    # awaiting countersignature and one countersigned.
    numbers["Hemlig Hemsson"] = pnr(2006, 6, 6, 606)
    records["Hemlig Hemsson"] = file_one(rt, staff, numbers["Hemlig Hemsson"],
                                         "Hemlig Hemsson", "B200")
    custody.protect(staff.archivist, numbers["Hemlig Hemsson"], "skyddad folkbokföring")
    records["Kvitto Kvist"] = moved_away(rt, staff, pnr(2006, 7, 7, 707), "Kvitto Kvist")
    school_copy = next(c["id"] for c in rt.queries.record(
        staff.archivist, records["Kvitto Kvist"])["copies"] if c["purpose"] == "school")
    custody.hand_over_externally(staff.custodians["holmes"], records["Kvitto Kvist"],
                                 UUID(school_copy), organiser="Karlstads kommun",
                                 school="Västerstrandskolan", receipt_reference=None)
    file_one(rt, staff, pnr(2006, 8, 8, 808), "Låda Tre", "B300")
    deliveries = ArchiveDeliveries(custody, rt.queries)
    waiting = deliveries.deliver(staff.archivist, ["B200"])["id"]
    received = deliveries.deliver(staff.archivist, ["B300"])["id"]
    deliveries.receive(staff.archive_custodian, UUID(received), "Hylla H3")
    records["delivery-waiting"], records["delivery-received"] = UUID(waiting), UUID(received)
    yield from _site(rt, staff, records, numbers)


@pytest.fixture(scope="module")
def empty_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Nothing filed, nothing delivered: the pages' empty states."""
    rt = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("web-records-empty")))
    staff = seed_staff(rt.custody)
    number = pnr(2006, 9, 9, 909)
    record_id = rt.custody.capture_student(staff.archivist, student(number, "Ny Elev", "holmes"))
    yield from _site(rt, staff, {"Ny Elev": record_id}, {"Ny Elev": number})


# -- the flows through the pages ---------------------------------------------------------------


class TestPersonalDataThroughThePages:
    def test_archivist_protects_renumbers_extracts_and_reads_the_access_log(
        self, site: Site, page: Page, tmp_path: Path
    ) -> None:
        name = "Sam Ordning"
        record_id = site.records[name]
        sign_in(page, site, "archivist")
        page.get_by_role("link", name="Hitta elev").click()
        page.get_by_label("Namn eller personnummer").fill("sam ord")
        page.get_by_role("button", name="Sök").first.click()
        page.get_by_role("link", name=site.personnummer[name]).click()

        page.get_by_label("Skäl till skyddet").fill("Beslut från Skatteverket")
        page.get_by_role("button", name="Markera identiteten som skyddad").click()
        assert "skyddad" in status_text(page)
        assert page.locator(".badges").get_by_text("Skyddade personuppgifter").is_visible()
        shot(page, "web-records-01-protected")
        assert site.rt.queries.record(site.staff.archivist, record_id)["student"]["protected"]

        new = pnr(2006, 3, 3, 313)
        page.get_by_label("Nytt personnummer").fill(new)
        page.get_by_role("button", name="Registrera nytt personnummer").click()
        assert "nya personnumret" in status_text(page)
        assert site.rt.custody.student_record_id(new) == record_id
        assert site.rt.custody.student_record_id(site.personnummer[name]) == record_id

        with page.expect_download() as pdf:
            page.get_by_role("link", name="Ladda ned som PDF").click()
        saved = tmp_path / "registerutdrag.pdf"
        pdf.value.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
        with page.expect_download() as html:
            page.get_by_role("link", name="Ladda ned som webbsida").click()
        html.value.save_as(tmp_path / "registerutdrag.html")
        assert "Registerutdrag" in (tmp_path / "registerutdrag.html").read_text()

        page.get_by_role("link", name=re.compile("Åtkomstlogg")).click()
        table = page.locator("table").inner_text()
        assert "Registerutdrag" in table and "Arne Arkivarie" in table
        shot(page, "web-records-02-access-log")
        page.get_by_role("link", name="Tillbaka till elevakten").click()
        page.get_by_role("button", name="Häv skyddet").click()
        assert "hävt" in status_text(page)
        assert not site.rt.queries.record(site.staff.archivist,
                                          record_id)["student"]["protected"]

    def test_custodian_hands_over_outside_the_municipality_and_records_the_receipt(
        self, site: Site, page: Page
    ) -> None:
        record_id = site.records["Flytt Flyttsson"]
        sign_in(page, site, "custodian_holmes")
        page.goto(site.url(f"/post/{record_id}"))
        page.get_by_label("Mottagande skola").fill("Västerstrandskolan")
        page.get_by_role("button", name="Registrera överlämningen").click()
        error = page.locator("#handover-organiser-error")
        assert "Ange mottagande huvudman" in error.inner_text()
        shot(page, "web-records-03-handover-error")
        page.get_by_label("Mottagande huvudman").fill("Karlstads kommun")
        page.get_by_role("button", name="Registrera överlämningen").click()
        assert "Överlämningen" in status_text(page)
        page.get_by_label("Kvittensens diarienummer").fill("KS 2018/1234")
        page.get_by_role("button", name="Registrera kvittensen").click()
        assert "Kvittensen" in status_text(page)
        copy = next(c for c in site.rt.queries.record(site.staff.archivist, record_id)["copies"]
                    if c["purpose"] == "school")
        assert copy["status"] == "handed_over_externally"
        assert copy["external_handover"]["receipt_reference"] == "KS 2018/1234"


class TestArchiveDeliveryThroughThePages:
    def test_delivery_countersigned_and_the_finding_aid_downloaded(
        self, site: Site, page: Page, tmp_path: Path
    ) -> None:
        sign_in(page, site, "archivist")
        page.get_by_role("link", name="Arkivleveranser").first.click()
        page.get_by_label("B100").check()
        page.get_by_role("button", name="Leverera valda kartonger").click()
        assert "signerad" in status_text(page)
        delivery_id = page.url.split("/arkiv/leveranser/", 1)[1].split("?", 1)[0]
        assert page.get_by_text("Väntar på kvittens").first.is_visible()

        sign_in(page, site, "archive_custodian")
        page.get_by_role("link", name="Arkivleveranser").first.click()
        page.locator(f'a[href="/arkiv/leveranser/{delivery_id}"]').click()
        page.get_by_label("Anteckning").fill("Mottaget, hylla H4")
        page.get_by_role("button", name="Kvittera mottagandet").click()
        assert "kvitterad" in status_text(page)
        shot(page, "web-records-04-receipt-countersigned")
        delivery = ArchiveDeliveries(site.rt.custody, site.rt.queries).delivery(
            site.staff.archivist, UUID(delivery_id))
        assert delivery["status"] == "received"
        assert delivery["received_by"] == site.staff.archive_custodian.id

        page.get_by_role("link", name="Arkivförteckning").first.click()
        with page.expect_download() as sheet:
            page.get_by_role("link", name=re.compile("kalkylblad")).click()
        saved = tmp_path / "arkivforteckning.csv"
        sheet.value.save_as(saved)
        raw = saved.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        b100 = next(r for r in rows if r["volym"] == "B100")
        assert b100["leverans"] == delivery_id
        assert b100["första personnummer"] == site.personnummer["Låda Ett"]


# -- accessibility and screenshots of every new page ------------------------------------------

PAGES: list[tuple[str, str, str]] = [
    ("archivist", "post-personuppgifter", "/post/{Petra Skydd}"),
    ("archivist", "post-skyddad", "/post/{Hemlig Hemsson}"),
    ("archivist", "atkomstlogg", "/post/{Hemlig Hemsson}/atkomstlogg"),
    ("archivist", "arkivleveranser", "/arkiv/leveranser"),
    ("archivist", "leveransreversal", "/arkiv/leveranser/{delivery-received}"),
    ("archivist", "arkivforteckning", "/arkiv/forteckning"),
    ("archive_custodian", "kvittera-leverans", "/arkiv/leveranser/{delivery-waiting}"),
    ("custodian_holmes", "post-extern-overlamning", "/post/{Flytt Flyttsson}"),
    ("custodian_holmes", "post-extern-kvittens", "/post/{Kvitto Kvist}"),
    ("custodian_holmes", "post-skyddad-dold", "/post/{Hemlig Hemsson}"),
    ("auditor", "atkomstlogg-granskare", "/post/{Hemlig Hemsson}/atkomstlogg"),
]
EMPTY_PAGES: list[tuple[str, str, str]] = [
    ("archivist", "arkivleveranser-tom", "/arkiv/leveranser"),
    ("archivist", "arkivforteckning-tom", "/arkiv/forteckning"),
    ("archivist", "atkomstlogg-ny", "/post/{Ny Elev}/atkomstlogg"),
]


def check_pages(site: Site, browser: Browser, axe: str, pages: list[tuple[str, str, str]],
                lang: str, viewport: str) -> dict[str, list[dict[str, Any]]]:
    size = DESKTOP if viewport == "desktop" else PHONE
    context = browser.new_context(viewport=size, locale="sv-SE",  # type: ignore[arg-type]
                                  timezone_id="Europe/Stockholm", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: dict[str, list[dict[str, Any]]] = {}
    try:
        signed_in_as = None
        for who, name, path in pages:
            if who != signed_in_as:
                sign_in(page, site, who)
                signed_in_as = who
            path = re.sub(r"\{([^}]+)\}", lambda m: str(site.records[m.group(1)]), path)
            response = page.goto(site.url(path + ("&" if "?" in path else "?")
                                          + f"lang={lang}"))
            assert response is not None and response.status == 200, (name, path)
            assert page.locator("html").get_attribute("lang") == lang
            found = violations(page, axe)
            if found:
                problems[name] = found
            shot(page, f"page-{name}-{lang}-{viewport}")
    finally:
        context.close()
    return problems


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_new_page_passes_axe_at_wcag21_aa(site: Site, empty_site: Site,
                                                 browser: Browser, axe_source: str,
                                                 lang: str, viewport: str) -> None:
    problems = check_pages(site, browser, axe_source, PAGES, lang, viewport)
    problems |= check_pages(empty_site, browser, axe_source, EMPTY_PAGES, lang, viewport)
    assert problems == {}
