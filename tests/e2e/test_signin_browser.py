"""Signing in as municipal staff do: through the identity provider's own login page.

Chromium (Debian's, driven by Playwright) against the service on a loopback port and
the real ``oidc-provider`` (see ``tests/oidc``); skipped, saying why, without either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn

from api.app import create_app
from application.policy import Principal
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.e2e.test_web import (
    screenshot,
    viewport,
)
from tests.oidc import ROLE_MAP, OidcProvider, oidc_provider

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["oidc_provider"]


@dataclass
class OidcSite:
    base: str
    rt: Runtime

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory,
         oidc_provider: OidcProvider) -> Iterator[OidcSite]:
    rt = bootstrap(Settings(
        data_dir=tmp_path_factory.mktemp("oidc-store"), oidc_issuer=oidc_provider.issuer,
        oidc_client_id=oidc_provider.client_id, oidc_client_secret=oidc_provider.client_secret,
        oidc_role_map=ROLE_MAP))
    rt.custody.register_school(Principal.system(), "holmes", "Holmesskolan")
    server = uvicorn.Server(uvicorn.Config(create_app(runtime=rt), host="127.0.0.1",
                                           port=oidc_provider.service_port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="oidc-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the web server did not start")
        time.sleep(0.05)
    try:
        yield OidcSite(oidc_provider.service_base, rt)
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


def sign_in_at_the_provider(page: Page, site: OidcSite, login: str) -> None:
    page.goto(site.url("/login"))
    page.get_by_role("link", name="Logga in med kommunens inloggning").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("whatever the provider asks")
    page.locator("button[type=submit]").click()
    consent = page.locator("button[type=submit]")  # the provider asks to share the claims
    if "/interaction/" in page.url:
        consent.click()
    page.wait_for_load_state()


def session_cookie(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "custody_session")


class TestSignInThroughTheIdentityProvider:
    def test_an_archivist_signs_in_and_lands_on_the_overview_with_the_role_from_the_claims(
            self, site: OidcSite, page: Page) -> None:
        sign_in_at_the_provider(page, site, "arne")
        page.wait_for_url(site.url("/oversikt"))
        text = page.content()
        assert "Arne Arkivarie" in text
        assert "Arkivarie" in page.locator("header").inner_text()
        staff = {a["name"]: a for a in site.rt.queries.actors()}
        assert staff["Arne Arkivarie"]["role"] == "archivist"
        screenshot(page, "signin-oidc-overview")

    def test_a_principal_gets_role_and_school_unit_from_the_claims(
            self, site: OidcSite, page: Page) -> None:
        sign_in_at_the_provider(page, site, "rut")
        page.wait_for_url(site.url("/bestall"))
        staff = {a["name"]: a for a in site.rt.queries.actors()}
        assert (staff["Rut Rektor"]["role"], staff["Rut Rektor"]["school_id"]) == (
            "principal", "holmes")

    def test_a_user_whose_claims_give_no_role_gets_a_clear_swedish_page(
            self, site: OidcSite, page: Page) -> None:
        sign_in_at_the_provider(page, site, "kalle")
        assert page.locator("#signin-reason").inner_text().startswith(
            "Du är inloggad hos kommunens identitetstjänst, men ditt konto har ingen roll")
        assert "Kalle Kock" not in {a["name"] for a in site.rt.queries.actors()}

    def test_a_copied_session_cookie_stops_working_after_sign_out(
            self, site: OidcSite, page: Page) -> None:
        sign_in_at_the_provider(page, site, "arne")
        page.wait_for_url(site.url("/oversikt"))
        copied = session_cookie(page)
        me = httpx.get(site.url("/api/v1/actors/me"), cookies={"custody_session": copied})
        assert me.status_code == 200 and me.json()["role"] == "archivist"
        page.get_by_role("button", name="Logga ut").click()
        page.wait_for_url(lambda url: "/login" in url)
        again = httpx.get(site.url("/api/v1/actors/me"), cookies={"custody_session": copied})
        assert again.status_code == 401
        page_again = httpx.get(site.url("/oversikt"), cookies={"custody_session": copied},
                               follow_redirects=False)
        assert page_again.status_code == 303


class TestAdminPagesInTheBrowser:
    def test_an_admin_adds_staff_creates_a_token_and_revokes_all_access(
            self, site: OidcSite, page: Page) -> None:
        _, token = site.rt.custody.register_actor(Principal.system(), "Ada Admin", "admin",
                                                  None)
        page.goto(site.url("/login"))
        page.get_by_label("Personlig nyckel").fill(token)
        page.get_by_role("button", name="Logga in", exact=True).click()
        page.get_by_role("link", name="Personal").click()
        page.get_by_label("Namn").fill("Tove Lärare")
        page.get_by_label("Roll").select_option("teacher")
        page.get_by_label("Skolenhet").select_option("holmes")
        page.get_by_role("button", name="Lägg till").click()
        first = page.locator("#new-token-value").inner_text()
        assert site.rt.custody.authenticate(first).name == "Tove Lärare"
        screenshot(page, "admin-staff")
        page.get_by_role("link", name="Tove Lärare").first.click()
        page.get_by_label("Nyckelns namn").fill("surfplatta")
        page.get_by_role("button", name="Skapa nyckel").click()
        second = page.locator("#new-token-value").inner_text()
        assert site.rt.custody.authenticate(second).name == "Tove Lärare"
        screenshot(page, "admin-person-tokens")
        page.get_by_label("Skäl").fill("slutat")
        page.get_by_role("button", name="Återkalla").click()
        assert "All behörighet är återkallad." in page.content()
        for revoked in (first, second):
            assert httpx.get(site.url("/api/v1/actors/me"),
                             headers={"Authorization": f"Bearer {revoked}"}).status_code == 401
