"""The web interface end to end: a real server on a free port, a fresh SQLite store, and
Debian's chromium driven by Playwright, signing in with real staff tokens.

Each browser scenario saves a screenshot into ``artifacts/screenshots/``. Browser tests
skip, saying why, when ``/usr/bin/chromium`` is missing (``scripts/install-browser.sh``
installs it); nothing here downloads a browser. The session and CSRF checks speak HTTP to
the same server and run without a browser.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import httpx
import pytest
import uvicorn

from api.app import create_app
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.factories import Staff, pnr, seed_staff, sha, student

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# (name, personnummer, school, how far its migration has come)
STUDENTS = [
    ("Alva Andersson", pnr(2004, 3, 15, 123), "holmes", "delivered"),
    ("Bertil Berg", pnr(2005, 9, 2, 456), "holmes", "delivered"),
    ("Cecilia Dahl", pnr(2003, 11, 2, 789, coordination=True), "holmes", "verified"),
    ("David Ek", pnr(2006, 1, 20, 234), "holmes", "archived"),
    ("Elin Fors", pnr(2004, 7, 7, 345), "kvistberg", "delivered"),
    ("Filip Grön", pnr(2005, 2, 28, 567), "kvistberg", "delivered"),
    ("Greta Holm", pnr(2006, 5, 5, 678), "kvistberg", "printed"),
    ("Hugo Ivarsson", pnr(2003, 12, 24, 890), "fryken", "delivered"),
    ("Ines Jonsson", pnr(2004, 4, 1, 112), "fryken", "captured"),
    ("Jon Karlsson", pnr(2005, 10, 10, 223), "fryken", "captured"),
]
ORDER = ("captured", "printed", "archived", "verified", "delivered")


def viewport() -> ViewportSize:
    """The laptop size the screenshots are judged at."""
    return {"width": 1280, "height": 800}


@dataclass
class Site:
    """The running service and what was seeded into it."""

    base: str
    rt: Runtime
    staff: Staff
    records: dict[str, UUID] = field(default_factory=dict)
    personnummer: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base + path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed_migration(rt: Runtime) -> tuple[Staff, dict[str, UUID], dict[str, str]]:
    """Three school units part-way through the migration, seeded as the real staff."""
    custody = rt.custody
    staff = seed_staff(custody)
    archivist = staff.archivist
    records: dict[str, UUID] = {}
    numbers: dict[str, str] = {}
    for index, (name, personnummer, school, stage) in enumerate(STUDENTS):
        record_id = custody.capture_student(archivist, student(personnummer, name, school))
        records[name], numbers[name] = record_id, personnummer
        reached = ORDER.index(stage)
        if reached >= ORDER.index("printed"):
            copy_id = custody.print_copy(archivist, record_id, "archive", None)
        if reached >= ORDER.index("archived"):
            custody.archive_copy(archivist, record_id, copy_id, box=f"A{1 + index // 4:03d}",
                                 shelf="3")
        if reached >= ORDER.index("verified"):
            custody.verify_copy(archivist, record_id, copy_id, outcome="ok", note=None)
        if reached >= ORDER.index("delivered"):
            school_copy = custody.print_copy(archivist, record_id, "school", school)
            custody.deliver_copy(staff.custodians[school], record_id, school_copy, school)
    custody.enter_into_ist(staff.custodians["holmes"], records["Alva Andersson"],
                           "Anpassningar i matematik")
    custody.enter_into_ist(staff.custodians["kvistberg"], records["Elin Fors"], None)
    general = custody.capture_general(archivist, category="newsletter",
                                      title="Veckobrev v. 12", school_id="holmes",
                                      sha256=sha("veckobrev-12"))
    custody.cull_record(archivist, general, decision="BU 2017/503 § 88", point=1,
                        method="deletion")
    for name in ("Alva Andersson", "Bertil Berg"):
        custody.assign(staff.admin, staff.teacher_id, numbers[name])
    return staff, records, numbers


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    rt = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("web-store")))
    staff, records, numbers = seed_migration(rt)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=rt), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the web server did not start")
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", rt, staff, records, numbers)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        rt.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport(), locale="sv-SE",
                                  timezone_id="Europe/Stockholm")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Page, site: Site, who: str) -> None:
    page.goto(site.url("/login"))
    page.get_by_label("Personlig nyckel").fill(site.staff.tokens[who])
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_url(re.compile(r"/login"))


# -- browser scenarios -----------------------------------------------------------------------


class TestOrderingDocuments:
    def test_teacher_signs_in_and_orders_a_document_for_an_assigned_student(
        self, site: Site, page: Page
    ) -> None:
        sign_in(page, site, "teacher")
        assert page.url.endswith("/bestall")
        page.get_by_label("Personnummer").fill(site.personnummer["Alva Andersson"])
        page.get_by_label("Vad behövs handlingen till?").fill("Utvecklingssamtal vt")
        page.get_by_role("button", name="Skicka beställning").click()

        assert page.get_by_role("status").inner_text().startswith("Beställningen är skickad")
        mine = page.locator("table").filter(has_text="Utvecklingssamtal vt")
        assert "Väntar på beslut" in mine.inner_text()
        screenshot(page, "01-teacher-orders-a-document")
        asked = [r for r in site.rt.queries.request_log(site.staff.teacher)
                 if r["purpose"] == "Utvecklingssamtal vt"]
        assert [r["status"] for r in asked] == ["pending"]

    def test_custodian_grants_a_request_and_records_the_hand_out_and_return(
        self, site: Site, page: Page
    ) -> None:
        request = site.rt.custody.make_request(site.staff.teacher,
                                               site.records["Bertil Berg"], "Åtgärdsprogram")
        sign_in(page, site, "custodian_holmes")
        assert page.url.endswith("/inkorg")
        item = page.locator("li.request-item").filter(has_text="Åtgärdsprogram")
        assert "Bertil Berg" in item.inner_text()
        item.get_by_label("Motivering").fill("Mentor för eleven")
        item.get_by_role("button", name="Bevilja").click()
        assert "beviljad" in page.get_by_role("status").inner_text()

        to_hand_out = page.locator("section").filter(
            has=page.get_by_role("heading", name="Att lämna ut"))
        to_hand_out.locator("li").filter(has_text="Bertil Berg").get_by_role(
            "button", name="Registrera utlämning").click()
        assert "Utlämningen är registrerad" in page.get_by_role("status").inner_text()
        on_loan = page.locator("section").filter(
            has=page.get_by_role("heading", name=re.compile("^Utlånat")))
        assert "Tove Lärare" in on_loan.inner_text()
        screenshot(page, "02-custodian-hand-out-recorded")

        on_loan.locator("li").filter(has_text="Bertil Berg").get_by_role(
            "button", name="Registrera återlämning").click()
        assert "Återlämningen är registrerad" in page.get_by_role("status").inner_text()
        screenshot(page, "03-custodian-return-recorded")
        assert site.rt.queries.request(site.staff.admin, request.id)["status"] == "returned"

    def test_unauthorised_teachers_order_is_refused_and_shows_in_the_request_log(
        self, site: Site, page: Page
    ) -> None:
        sign_in(page, site, "other_teacher")
        page.get_by_label("Personnummer").fill(site.personnummer["Alva Andersson"])
        page.get_by_label("Vad behövs handlingen till?").fill("Nyfiken på betygen")
        page.get_by_role("button", name="Skicka beställning").click()

        refusal = page.get_by_role("alert").filter(has_text="Beställningen avslogs")
        assert "Avslaget har loggats" in refusal.inner_text()
        screenshot(page, "04-unauthorised-order-refused")
        sign_out(page)

        sign_in(page, site, "principal_holmes")
        page.get_by_role("link", name="Beställningslogg").click()
        row = page.locator("tbody tr").filter(has_text="Nyfiken på betygen")
        assert "Olle Lärare" in row.inner_text()
        assert "Avslagen" in row.inner_text()
        screenshot(page, "05-request-log-shows-refusal")


class TestCapture:
    def test_archivist_uploads_an_inventory_and_sees_the_bad_row_named(
        self, site: Site, page: Page, tmp_path: Path
    ) -> None:
        pytest.importorskip("application.importing",
                            reason="application/importing.py is not there yet")
        good, bad = pnr(2006, 8, 8, 808), pnr(2006, 9, 9, 909)
        wrong_check = bad[:-1] + str((int(bad[-1]) + 1) % 10)
        csv = tmp_path / "inventering-kvistberg.csv"
        csv.write_text(
            "kind,personnummer,name,school_id,class,title,category,sha256,pages\n"
            f"student_documentation,{good},Siri Svensson,kvistberg,8B,IUP ht 2017,iup,"
            f"{sha('siri-1')},3\n"
            f"student_documentation,{good},Siri Svensson,kvistberg,8B,Omdöme vt 2018,omdome,"
            f"{sha('siri-2')},2\n"
            f"student_documentation,{wrong_check},Tage Tall,kvistberg,8B,IUP ht 2017,iup,"
            f"{sha('tage-1')},2\n"
            f"general_information,,,kvistberg,,Nyhetsbrev v. 7,newsletter,{sha('nb-7')},\n",
            encoding="utf-8")
        sign_in(page, site, "archivist")
        page.get_by_role("link", name="Inventering").click()
        page.get_by_label("Inventeringsfil (CSV)").set_input_files(str(csv))
        page.get_by_role("button", name="Läs in").click()

        rejected = page.locator("table.row-errors tbody tr")
        assert rejected.count() == 1
        assert rejected.first.locator("th").inner_text().split()[-1] == "4"
        assert "kontrollsiffran ska vara" in rejected.first.locator("td").inner_text()
        assert "Avvisade rader: 1" in page.locator("#resultat").inner_text()
        screenshot(page, "06-inventory-bad-row-named")
        assert site.rt.custody.exists(site.rt.custody.student_record_id(good))
        assert not site.rt.custody.exists(site.rt.custody.student_record_id(bad))


class TestAudit:
    def test_auditor_runs_a_verification_and_sees_the_store_intact(
        self, site: Site, page: Page
    ) -> None:
        sign_in(page, site, "auditor")
        assert page.url.endswith("/granskning")
        assert page.get_by_role("heading", name="Senaste kontrollpunkt").is_visible()
        page.get_by_role("button", name="Kör kontrollen").click()

        result = page.locator("#resultat")
        assert "Oförändrat" in result.inner_text()
        assert "har giltiga signaturer" in result.inner_text()
        screenshot(page, "07-auditor-verification-intact")
        with page.expect_download() as download:
            page.get_by_role("link", name="Hämta exportpaketet").click()
        assert download.value.suggested_filename == "custody-bundle.json"


class TestLookAndAccess:
    def test_overview_and_provenance_timeline_screenshots_at_1280_by_800(
        self, site: Site, page: Page
    ) -> None:
        sign_in(page, site, "archivist")
        page.goto(site.url("/oversikt"))
        assert page.locator("progress").count() == 15  # three school units, five stages
        assert "Kan inte sägas upp ännu" in page.inner_text("main")
        screenshot(page, "overview", full_page=False)
        screenshot(page, "overview-full")

        page.goto(site.url(f"/post/{site.records['Alva Andersson']}"))
        events = page.locator("ol.timeline > li")
        assert events.count() >= 6
        assert events.filter(has_text="Signaturen kontrollerad").count() == events.count()
        page.evaluate("window.scrollTo(0, document.getElementById('proveniens').offsetTop - 24)")
        screenshot(page, "record-timeline", full_page=False)
        screenshot(page, "record-full")

        events.first.get_by_role("link", name=re.compile("Loggbevis")).click()
        assert "c2sp.org/tlog-proof@v1" in page.locator("pre.proof").inner_text()

    def test_pages_switch_to_english_and_remember_it(self, site: Site, page: Page) -> None:
        sign_in(page, site, "archivist")
        page.get_by_role("link", name="English").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Migration overview"
        page.get_by_role("link", name="Shelf list").click()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", level=1).inner_text().startswith("Shelf list")
        screenshot(page, "08-shelf-list-in-english")
        page.get_by_role("link", name="Svenska").click()
        assert page.get_by_role("heading", level=1).inner_text().startswith("Hyllförteckning")

    def test_dates_are_shown_in_swedish_format_in_stockholm_time(
        self, site: Site, page: Page
    ) -> None:
        sign_in(page, site, "archivist")
        page.goto(site.url(f"/post/{site.records['Alva Andersson']}"))
        shown = page.locator("ol.timeline time").first
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", shown.inner_text())
        assert re.search(r"\+0[12]:00$", shown.get_attribute("datetime") or "")

    def test_keyboard_user_skips_to_content_with_a_visible_focus_ring(
        self, site: Site, page: Page
    ) -> None:
        sign_in(page, site, "archivist")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.className")
        assert focused == "skip-link"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"

    def test_printable_pages_hide_navigation_when_printed(self, site: Site, page: Page) -> None:
        sign_in(page, site, "archivist")
        page.goto(site.url("/arkiv/hyllforteckning/etiketter"))
        page.emulate_media(media="print")
        assert not page.locator("nav.mainnav").is_visible()
        assert page.locator("article.box-label").count() >= 2
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        screenshot(page, "09-box-labels-print-view")
        page.pdf(path=str(SCREENSHOTS / "box-labels-a4.pdf"), format="A4")

    def test_pages_show_data_without_javascript(self, site: Site, browser: Browser) -> None:
        context = browser.new_context(viewport=viewport(), java_script_enabled=False)
        try:
            page = context.new_page()
            sign_in(page, site, "archivist")
            page.goto(site.url("/arkiv/hyllforteckning"))
            assert page.locator("table.shelf-table tbody tr").count() >= 6
            assert page.get_by_text("Ctrl+P").is_visible()
        finally:
            context.close()


# -- sessions and CSRF over plain HTTP (no browser needed) ----------------------------------------


def login_form(client: httpx.Client) -> str:
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


@contextmanager
def signed_in_client(site: Site, who: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base, follow_redirects=False, timeout=15) as client:
        csrf = login_form(client)
        response = client.post("/login", data={"token": site.staff.tokens[who],
                                               "csrf_token": csrf})
        assert response.status_code == 303, response.text
        yield client


def form_csrf(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


class TestSessions:
    def test_sign_in_sets_an_httponly_strict_session_cookie(self, site: Site) -> None:
        with httpx.Client(base_url=site.base, follow_redirects=False, timeout=15) as client:
            csrf = login_form(client)
            response = client.post("/login", data={"token": site.staff.tokens["archivist"],
                                                   "csrf_token": csrf})
        assert response.status_code == 303
        assert response.headers["location"] == "/oversikt"
        cookie = next(c for c in response.headers.get_list("set-cookie")
                      if c.startswith("custody_session="))
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie

    def test_unknown_token_is_refused_with_a_message_next_to_the_field(self, site: Site) -> None:
        with httpx.Client(base_url=site.base, follow_redirects=False, timeout=15) as client:
            csrf = login_form(client)
            response = client.post("/login", data={"token": "not-a-token", "csrf_token": csrf})
        assert response.status_code == 401
        assert 'id="token-error"' in response.text
        assert "Nyckeln är okänd" in response.text

    def test_pages_redirect_to_sign_in_without_a_session(self, site: Site) -> None:
        response = httpx.get(site.url("/oversikt"), follow_redirects=False, timeout=15)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/oversikt"

    def test_sign_out_clears_the_session_cookie(self, site: Site) -> None:
        with signed_in_client(site, "archivist") as client:
            csrf = form_csrf(client, "/oversikt")
            response = client.post("/logout", data={"csrf_token": csrf})
            assert response.status_code == 303
            assert 'custody_session=""' in response.headers["set-cookie"] or \
                "Max-Age=0" in response.headers["set-cookie"]
            assert client.get("/oversikt").status_code == 303

    def test_login_form_without_its_csrf_token_is_refused(self, site: Site) -> None:
        with httpx.Client(base_url=site.base, follow_redirects=False, timeout=15) as client:
            login_form(client)
            response = client.post("/login", data={"token": site.staff.tokens["archivist"]})
        assert response.status_code == 403
        assert "Formuläret kunde inte skickas" in response.text


class TestCsrf:
    def test_post_without_csrf_token_is_refused_and_changes_nothing(self, site: Site) -> None:
        before = len(site.rt.queries.request_log(site.staff.admin))
        with signed_in_client(site, "teacher") as client:
            response = client.post("/bestall", data={
                "personnummer": site.personnummer["Bertil Berg"], "purpose": "utan token"})
        assert response.status_code == 403
        assert "säkerhetskod" in response.text
        assert len(site.rt.queries.request_log(site.staff.admin)) == before

    def test_csrf_token_of_another_session_is_refused(self, site: Site) -> None:
        with signed_in_client(site, "other_teacher") as other:
            foreign = form_csrf(other, "/bestall")
        with signed_in_client(site, "teacher") as client:
            response = client.post("/bestall", data={
                "personnummer": site.personnummer["Bertil Berg"], "purpose": "främmande token",
                "csrf_token": foreign})
        assert response.status_code == 403

    def test_post_with_the_sessions_csrf_token_is_accepted(self, site: Site) -> None:
        with signed_in_client(site, "teacher") as client:
            csrf = form_csrf(client, "/bestall")
            response = client.post("/bestall", data={
                "personnummer": site.personnummer["Bertil Berg"], "purpose": "med token",
                "csrf_token": csrf})
        assert response.status_code == 303
        assert response.headers["location"] == "/bestall?klart=ordered"


class TestPolicyOnPages:
    def test_teacher_may_not_open_a_record_page(self, site: Site) -> None:
        with signed_in_client(site, "teacher") as client:
            response = client.get(f"/post/{site.records['Alva Andersson']}")
        assert response.status_code == 403
        assert "Du har inte behörighet" in response.text
        assert "Alva Andersson" not in response.text

    def test_custodian_of_another_school_may_not_decide_a_request(self, site: Site) -> None:
        request = site.rt.custody.make_request(site.staff.teacher,
                                               site.records["Alva Andersson"], "fel skola")
        with signed_in_client(site, "custodian_fryken") as client:
            csrf = form_csrf(client, "/inkorg")
            response = client.post(f"/inkorg/{request.id}/beslut",
                                   data={"decision": "grant", "reason": "ok", "csrf_token": csrf})
        assert response.status_code == 403
        assert site.rt.queries.request(site.staff.admin, request.id)["status"] == "pending"

    def test_refusal_is_logged_even_when_made_through_the_page(self, site: Site) -> None:
        with signed_in_client(site, "other_teacher") as client:
            csrf = form_csrf(client, "/bestall")
            response = client.post("/bestall", data={
                "personnummer": site.personnummer["Bertil Berg"], "purpose": "loggas",
                "csrf_token": csrf})
        assert response.status_code == 403
        logged = [r for r in site.rt.queries.request_log(site.staff.admin)
                  if r["purpose"] == "loggas"]
        assert [r["status"] for r in logged] == ["refused"]

