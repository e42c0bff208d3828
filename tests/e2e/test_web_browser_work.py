"""The daily work through a real browser (Debian's chromium via Playwright): the seed
story's steps by the archivist, two school custodians, a teacher, a principal and an
auditor, using the web pages only (the application is read back to assert); a box session
of 50 pupils typed keyboard-only; and axe-core on every page in both languages, at
1280x800 and on a 390x844 phone, with a screenshot of each in ``artifacts/screenshots/``.

Seed data goes in through the application layer, not the browser, to keep this fast.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infrastructure.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.e2e.test_web import (
    ROOT,
    SCREENSHOTS,
    Site,
    free_port,
)
from tests.e2e.test_web import seed_migration as seed_story_so_far
from tests.factories import pnr, student

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BOX_PUPILS = 50


def _serve(rt: Any) -> tuple[str, Any, Any]:
    import threading
    import time

    import uvicorn

    from api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=rt), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="web-work-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the web server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    rt = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("web-work-store")))
    staff, records, numbers = seed_story_so_far(rt)
    custody = rt.custody
    for i in range(BOX_PUPILS):
        number = pnr(2007, 1 + i // 28, 1 + i % 28, 500 + i)
        record_id = custody.capture_student(staff.archivist,
                                            student(number, f"Boxelev {i:02d}", "fryken"))
        custody.print_copy(staff.archivist, record_id, "archive", None)
        numbers[f"box{i}"], records[f"box{i}"] = number, record_id
    base, server, thread = _serve(rt)
    try:
        yield Site(base, rt, staff, records, numbers)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        rt.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="sv-SE",  # type: ignore[arg-type]
                                  timezone_id="Europe/Stockholm", bypass_csp=True)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, site: Site, who: str) -> None:
    page.context.clear_cookies()
    page.goto(site.url("/login?lang=sv"))
    page.get_by_label("Personlig nyckel").fill(site.staff.tokens[who])
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def status_text(page: Page) -> str:
    return page.get_by_role("status").first.inner_text()


# -- the seed story through the pages --------------------------------------------------------


class TestSeedStoryThroughThePages:
    def test_archivist_prints_files_and_verifies_then_custodians_deliver_and_hand_over(
        self, site: Site, page: Page
    ) -> None:
        name = "Ines Jonsson"  # captured only, at Frykenskolorna
        record_id = site.records[name]
        sign_in(page, site, "archivist")
        page.get_by_role("link", name="Hitta elev").click()
        page.get_by_label("Namn eller personnummer").fill("ines jons")
        page.get_by_role("button", name="Sök").first.click()
        page.get_by_role("link", name=site.personnummer[name]).click()
        page.get_by_role("button", name="Registrera utskrift").first.click()
        assert "utskrivet" in status_text(page)
        page.get_by_label("Arkivkartong").fill("A009")
        page.get_by_label("Hylla").fill("4")
        page.get_by_role("button", name="Placera", exact=True).click()
        page.get_by_role("button", name="Registrera kontrollen").click()
        assert "stämmer" in status_text(page)
        page.get_by_label("Skolenhet", exact=True).select_option("fryken")
        page.get_by_role("button", name="Registrera utskrift").click()
        shot(page, "web-work-01-archivist-record-actions")
        archive = next(c for c in site.rt.queries.record(site.staff.admin, record_id)["copies"]
                       if c["purpose"] == "archive")
        assert archive["status"] == "verified" and archive["location"]["box"] == "A009"

        sign_in(page, site, "custodian_fryken")
        page.get_by_role("link", name="Leveranser").click()
        page.get_by_role("button", name=re.compile("Registrera leverans av alla")).click()
        assert "levererade" in status_text(page)
        shot(page, "web-work-02-custodian-deliveries")
        page.goto(site.url(f"/post/{record_id}"))
        page.get_by_label("Anteckning").fill("Stöd i svenska")
        page.get_by_role("button", name="Registrera", exact=True).click()
        page.get_by_label("Orsak", exact=True).select_option("moved_within_municipality")
        page.get_by_label("Datum", exact=True).fill("2018-06-12")
        page.get_by_label("Ny skolenhet").select_option("kvistberg")
        page.get_by_role("button", name="Registrera avgång").click()
        assert "avgång" in status_text(page)
        page.get_by_label("Mottagande skolenhet").select_option("kvistberg")
        page.get_by_role("button", name="Lämna över").click()

        sign_in(page, site, "custodian_kvistberg")
        page.goto(site.url(f"/post/{record_id}"))
        page.get_by_role("button", name="Bekräfta mottagande").click()
        assert "Mottagandet" in status_text(page)
        school = next(c for c in site.rt.queries.record(site.staff.admin, record_id)["copies"]
                      if c["purpose"] == "school")
        assert (school["status"], school["school_id"]) == ("at_school", "kvistberg")

    def test_teacher_orders_custodian_grants_principal_reads_auditor_verifies(
        self, site: Site, page: Page
    ) -> None:
        sign_in(page, site, "teacher")
        page.get_by_label("Personnummer").fill(site.personnummer["Bertil Berg"])
        page.get_by_label("Vad behövs handlingen till?").fill("Klasskonferens")
        page.get_by_role("button", name="Skicka beställning").click()
        mine = page.locator("table").filter(has_text="Klasskonferens")
        assert "Bertil Berg" in mine.inner_text()

        sign_in(page, site, "custodian_holmes")
        item = page.locator("li.request-item").filter(has_text="Klasskonferens")
        item.get_by_label("Motivering").fill("Undervisar eleven")
        item.get_by_role("button", name="Bevilja").click()

        sign_in(page, site, "principal_holmes")
        page.get_by_role("link", name="Beställningslogg").click()
        page.get_by_label("Sök namn eller personnummer").fill("bertil")
        page.get_by_role("button", name="Visa").click()
        row = page.locator("tbody tr").filter(has_text="Klasskonferens")
        assert "Bertil Berg" in row.inner_text() and "Beviljad" in row.inner_text()
        shot(page, "web-work-03-principal-request-log")

        sign_in(page, site, "auditor")
        page.get_by_role("button", name="Kör kontrollen").click()
        assert "Oförändrat" in page.locator("#resultat").inner_text()


# -- a box session of 50, keyboard only -------------------------------------------------------


class TestBoxSessionKeyboardOnly:
    def test_fifty_pupils_scanned_into_a_box_with_one_out_of_order_warning(
        self, site: Site, page: Page
    ) -> None:
        order = [site.personnummer[f"box{i}"] for i in range(BOX_PUPILS)]
        order[20], order[21] = order[21], order[20]  # one pupil scanned too early
        sign_in(page, site, "archivist")
        page.goto(site.url("/arkiv/kartong"))
        assert page.evaluate("document.activeElement.id") == "personnummer"
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("document.activeElement.id") == "box"
        page.keyboard.type("A050")
        page.keyboard.press("Tab")
        page.keyboard.type("7")
        page.keyboard.press("Tab")
        warnings = []
        for number in order:
            page.wait_for_function("document.activeElement.id === 'personnummer'")
            page.keyboard.type(number)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            alert = page.locator(".notice[role=alert]")
            if alert.count():
                warnings.append(alert.inner_text())
        assert len(warnings) == 1 and site.personnummer["box20"] in warnings[0]
        assert f"{BOX_PUPILS} akter" in page.inner_text("main")
        shot(page, "web-work-04-box-session-50")
        filed = [r for r in site.rt.queries.shelf_list(site.staff.archivist)
                 if r["box"] == "A050"]
        assert len(filed) == BOX_PUPILS and {r["shelf"] for r in filed} == {"7"}


# -- accessibility and screenshots of every page ---------------------------------------------

PAGES: list[tuple[str, str, str]] = [
    ("archivist", "oversikt", "/oversikt"),
    ("archivist", "saknas", "/oversikt/saknas"),
    ("archivist", "hitta-elev", "/elev?q=berg"),
    ("archivist", "post-atgarder", "/post/{Greta Holm}"),
    ("archivist", "hyllforteckning", "/arkiv/hyllforteckning"),
    ("archivist", "etiketter", "/arkiv/hyllforteckning/etiketter?kartong=A001"),
    ("archivist", "packa-kartong", "/arkiv/kartong?kartong=A001&hylla=3"),
    ("archivist", "kontroll", "/arkiv/kontroll"),
    ("archivist", "lasar", "/lasar"),
    ("archivist", "inventering", "/inventering"),
    ("archivist", "gallring", "/gallring"),
    ("archivist", "bestallningslogg", "/bestallningar"),
    ("archivist", "finns-inte", "/ui/finns-inte"),
    ("admin", "kopplingar", "/personal/kopplingar"),
    ("custodian_holmes", "inkorg", "/inkorg"),
    ("custodian_holmes", "leveranser", "/skola/leverans"),
    ("custodian_holmes", "innehav", "/skola/innehav"),
    ("custodian_holmes", "post-skola", "/post/{David Ek}"),
    ("teacher", "bestall", "/bestall"),
    ("teacher", "nekad", "/arkiv/kartong"),
    ("auditor", "granskning", "/granskning"),
]


@pytest.fixture(scope="module")
def axe_source() -> str:
    try:
        done = subprocess.run(["bash", str(ROOT / "scripts" / "install-axe.sh")],
                              capture_output=True, text=True, timeout=180, check=True)
    except (subprocess.SubprocessError, OSError) as error:
        pytest.skip(f"axe-core could not be installed from npm ({error}); accessibility "
                    "checks skipped")
    return Path(done.stdout.strip().splitlines()[-1]).read_text(encoding="utf-8")


def violations(page: Page, axe: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=axe)
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
             .map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))}))""")
    return found


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_page_passes_axe_at_wcag21_aa(site: Site, browser: Browser, axe_source: str,
                                             lang: str, viewport: str) -> None:
    size = DESKTOP if viewport == "desktop" else PHONE
    context = browser.new_context(viewport=size, locale="sv-SE",  # type: ignore[arg-type]
                                  timezone_id="Europe/Stockholm", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: dict[str, list[dict[str, Any]]] = {}
    try:
        signed_in_as = None
        for who, name, path in PAGES:
            if who != signed_in_as:
                sign_in(page, site, who)
                signed_in_as = who
            path = re.sub(r"\{([^}]+)\}", lambda m: str(site.records[m.group(1)]), path)
            page.goto(site.url(path + ("&" if "?" in path else "?") + f"lang={lang}"))
            assert page.locator("html").get_attribute("lang") == lang
            found = violations(page, axe_source)
            if found:
                problems[name] = found
            shot(page, f"page-{name}-{lang}-{viewport}")
    finally:
        context.close()
    assert problems == {}

