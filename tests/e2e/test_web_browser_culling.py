"""Culling as on paper through a real browser (Debian's chromium via Playwright), the web
pages only: the archivist closes the school year at ``/lasar`` and follows the link to
the proposed list, the school's principal approves it, the school's custodian confirms
each destruction with a witness and opens the signed protocol. Then axe-core on every
culling page (empty and full, forms with errors) in both languages at 1280x800 and on a
390x844 phone, with a screenshot of each in ``artifacts/screenshots/``.

Seed data goes in through the application layer, not the browser, to keep this fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pytest

from application.culling import Culling, ItemIn
from domain.culling import DECISION_ID, POINT_SCHOOL_COPY_AT_ROLLOVER
from infrastructure.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.e2e.test_web import Site
from tests.e2e.test_web_browser_work import (
    DESKTOP,
    PHONE,
    _serve,
    axe_source,  # noqa: F401 (a fixture)
    shot,
    sign_in,
    status_text,
    violations,
)
from tests.factories import cull_through_list, pnr, seed_staff, student

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

LEAVERS = {"holmes": [(pnr(2002, 3, 3, 3), "Leo Klar"), (pnr(2002, 9, 9, 9), "Lisa Klar")],
           "kvistberg": [(pnr(2002, 4, 4, 4), "Kim Kvist"), (pnr(2002, 5, 5, 5), "Klara Kvist"),
                         (pnr(2002, 6, 6, 6), "Knut Kvist")]}


@dataclass
class CullingSite(Site):
    lists: dict[str, str] | None = None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CullingSite]:
    rt = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("web-culling-store")))
    staff = seed_staff(rt.custody)
    custody = rt.custody
    records: dict[str, UUID] = {}
    copies: dict[str, UUID] = {}
    numbers: dict[str, str] = {}
    for school, people in LEAVERS.items():
        for number, name in people:
            record_id = custody.capture_student(staff.archivist, student(number, name, school))
            copy_id = custody.print_copy(staff.archivist, record_id, "school", school)
            custody.deliver_copy(staff.custodians[school], record_id, copy_id, school)
            custody.record_departure(staff.custodians[school], number,
                                     reason="finished_compulsory_school", to_school_id=None,
                                     date="2018-06-15")
            records[name], copies[name], numbers[name] = record_id, copy_id, number
    culling = Culling(custody, rt.queries)
    proposed = culling.propose(staff.archivist, decision=DECISION_ID,
                               point=POINT_SCHOOL_COPY_AT_ROLLOVER,
                               items=[ItemIn(records["Kim Kvist"], copies["Kim Kvist"])],
                               note="Kontrollerad mot elevregistret")["id"]
    approved = culling.propose(staff.archivist, decision=DECISION_ID,
                               point=POINT_SCHOOL_COPY_AT_ROLLOVER,
                               items=[ItemIn(records["Klara Kvist"], copies["Klara Kvist"])],
                               note=None)["id"]
    culling.decide(staff.principals["kvistberg"], UUID(approved), approved=True, reason=None)
    certificate = cull_through_list(rt, staff, records["Knut Kvist"], copies["Knut Kvist"],
                                    "kvistberg")
    rt.queries.fresh()
    executed = rt.queries.views.get("culls", str(certificate))["culling_list_id"]
    base, server, thread = _serve(rt)
    try:
        yield CullingSite(base, rt, staff, records, numbers,
                          lists={"proposed": proposed, "approved": approved,
                                 "executed": executed})
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


def test_year_end_closing_to_signed_protocol_through_the_pages(site: CullingSite,
                                                               page: Page) -> None:
    sign_in(page, site, "archivist")
    page.get_by_role("link", name="Läsårsskifte").click()
    page.get_by_label("Läsåret slutar (år)").fill("2018")
    page.get_by_role("button", name="Avsluta läsåret").click()
    page.get_by_role("link", name=re.compile("Öppna lista")).click()
    assert "/gallringslistor/" in page.url
    list_id = page.url.split("/gallringslistor/")[1].split("?")[0]
    assert page.get_by_role("cell", name="Leo Klar").is_visible()
    assert page.get_by_role("cell", name="Lisa Klar").is_visible()
    assert page.get_by_role("button", name="Attestera").count() == 0  # never the proposer
    shot(page, "culling-flow-01-proposed-by-archivist")

    sign_in(page, site, "principal_holmes")
    page.get_by_role("link", name="Gallringslistor").click()
    page.get_by_role("link", name=f"Öppna lista {list_id[:8]}").click()
    page.get_by_label("Motivering").fill("Kontrollerad mot elevregistret")
    page.get_by_role("button", name="Attestera").click()
    assert "attesterad" in status_text(page)
    shot(page, "culling-flow-02-approved-by-principal")

    sign_in(page, site, "custodian_holmes")
    page.get_by_role("link", name="Gallringslistor").click()
    page.get_by_role("link", name=f"Öppna lista {list_id[:8]}").click()
    for _ in range(2):
        form = page.locator("form", has=page.get_by_role("button", name="Bekräfta förstöring")
                            ).first
        form.get_by_label("Vittne").fill("Rektor Holmes")
        form.get_by_role("button", name="Bekräfta förstöring").click()
        assert "Förstöringen är bekräftad" in status_text(page)
    shot(page, "culling-flow-03-destroyed-by-custodian")
    assert page.get_by_role("button", name="Bekräfta förstöring").count() == 0
    page.get_by_role("link", name="Gallringsprotokoll för utskrift").click()
    assert page.get_by_text("Gallringsprotokoll").first.is_visible()
    shot(page, "culling-flow-04-protocol")
    listed = Culling(site.rt.custody, site.rt.queries).culling_list(site.staff.archivist,
                                                                    UUID(list_id))
    assert listed["status"] == "executed"
    assert {i["status"] for i in listed["items"]} == {"destroyed"}
    assert {(i["destruction"] or {}).get("witness") for i in listed["items"]} == {
        "Rektor Holmes"}


PAGES = [
    ("archivist", "lists-empty", "/gallringslistor?status=rejected"),
    ("archivist", "lists", "/gallringslistor"),
    ("archivist", "propose", "/gallringslistor/ny"),
    ("archivist", "propose-errors", "/gallringslistor/ny#submit"),
    ("archivist", "proposed", "/gallringslistor/{proposed}"),
    ("principal_kvistberg", "to-approve", "/gallringslistor/{proposed}"),
    ("custodian_kvistberg", "to-destroy", "/gallringslistor/{approved}"),
    ("custodian_kvistberg", "destroy-errors", "/gallringslistor/{approved}#submit"),
    ("archivist", "executed", "/gallringslistor/{executed}"),
    ("archivist", "protocol", "/gallringslistor/{executed}/protokoll"),
    ("archivist", "decisions", "/gallringsbeslut"),
    ("archivist", "decisions-errors", "/gallringsbeslut#submit"),
    ("custodian_kvistberg", "decisions-read", "/gallringsbeslut"),
]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_culling_page_passes_axe_at_wcag21_aa(site: CullingSite, browser: Browser,
                                                    axe_source: str,  # noqa: F811
                                                    lang: str, viewport: str) -> None:
    size = DESKTOP if viewport == "desktop" else PHONE
    context = browser.new_context(viewport=size, locale="sv-SE",  # type: ignore[arg-type]
                                  timezone_id="Europe/Stockholm", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: dict[str, Any] = {}
    try:
        signed_in_as = None
        for who, name, path in PAGES:
            if who != signed_in_as:
                sign_in(page, site, who)
                signed_in_as = who
            path, _, action = path.partition("#")
            path = re.sub(r"\{([^}]+)\}", lambda m: str((site.lists or {})[m.group(1)]), path)
            page.goto(site.url(path + ("&" if "?" in path else "?") + f"lang={lang}"))
            if action == "submit":
                form = page.locator("main form[method=post]").first
                for field in form.locator("input[type=text]").all():
                    field.fill("")
                form.locator("button[type=submit]").first.click()
                page.wait_for_load_state()
                assert page.locator(".field-error").count() > 0, name
            assert page.locator("html").get_attribute("lang") == lang
            found = violations(page, axe_source)
            if found:
                problems[name] = found
            shot(page, f"culling-{name}-{lang}-{viewport}")
    finally:
        context.close()
    assert problems == {}
