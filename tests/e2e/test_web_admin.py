"""The admin's staff pages, through the web session as an admin uses them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.policy import Principal
from infrastructure.bootstrap import Runtime

SYSTEM = Principal.system()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def signed_in(client: TestClient, token: str) -> None:
    client.cookies.clear()
    nonce = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"token": token, "csrf_token": nonce},
                           follow_redirects=False)
    assert response.status_code == 303, response.text


@pytest.fixture
def admin_client(runtime: Runtime) -> Iterator[TestClient]:
    runtime.custody.register_school(SYSTEM, "holmes", "Holmesskolan")
    _, token = runtime.custody.register_actor(SYSTEM, "Ada Admin", "admin", None)
    with TestClient(create_app(runtime=runtime)) as client:
        signed_in(client, token)
        yield client


class TestStaffPages:
    def test_the_staff_list_shows_roles_and_school_units(self, runtime: Runtime,
                                                         admin_client: TestClient) -> None:
        runtime.custody.register_actor(SYSTEM, "Tove Lärare", "teacher", "holmes")
        page = admin_client.get("/personal")
        assert page.status_code == 200
        assert 'href="/personal"' in page.text  # the menu links here for an admin
        row = re.search(r"<tr>\s*<td><a [^>]+>Tove Lärare</a></td>(.*?)</tr>", page.text, re.S)
        assert row and "Lärare" in row.group(1) and "Holmesskolan" in row.group(1)
        assert "Aktiv" in row.group(1)

    def test_an_admin_adds_a_staff_member_and_sees_the_token_once(
            self, runtime: Runtime, admin_client: TestClient) -> None:
        form = admin_client.get("/personal").text
        added = admin_client.post("/personal", data={
            "name": "Maja Mentor", "role": "mentor", "school_id": "holmes",
            "csrf_token": csrf_of(form)})
        assert added.status_code == 200
        token = re.search(r'id="new-token-value">([^<]+)<', added.text)
        assert token
        assert runtime.custody.authenticate(token.group(1)).name == "Maja Mentor"
        assert token.group(1) not in admin_client.get("/personal").text

    def test_a_wrong_role_and_school_combination_is_named_at_the_field(
            self, admin_client: TestClient) -> None:
        form = admin_client.get("/personal").text
        refused = admin_client.post("/personal", data={
            "name": "Rut Rektor", "role": "principal", "school_id": "",
            "csrf_token": csrf_of(form)})
        assert refused.status_code == 422
        assert 'id="school_id-error"' in refused.text

    def test_tokens_are_created_withdrawn_and_all_access_revoked(
            self, runtime: Runtime, admin_client: TestClient) -> None:
        actor_id, first = runtime.custody.register_actor(SYSTEM, "Arne Arkivarie",
                                                         "archivist", None)
        page = admin_client.get(f"/personal/{actor_id}").text
        made = admin_client.post(f"/personal/{actor_id}/nycklar", data={
            "name": "skanner", "expires_at": "2099-12-31", "csrf_token": csrf_of(page)})
        assert made.status_code == 200
        token = re.search(r'id="new-token-value">([^<]+)<', made.text)
        assert token and runtime.custody.authenticate(token.group(1)).id == str(actor_id)
        tokens = runtime.credentials.tokens(SYSTEM, actor_id)
        laptop = next(t for t in tokens if t.name == "skanner")
        assert laptop.expires_at and laptop.expires_at.startswith("2100-01-01")
        withdrawn = admin_client.post(
            f"/personal/{actor_id}/nycklar/{laptop.id}/dra-tillbaka",
            data={"csrf_token": csrf_of(made.text)}, follow_redirects=True)
        assert "Nyckeln är tillbakadragen." in withdrawn.text
        assert "Tillbakadragen" in withdrawn.text
        revoked = admin_client.post(f"/personal/{actor_id}/aterkalla", data={
            "reason": "slutat", "csrf_token": csrf_of(withdrawn.text)}, follow_redirects=True)
        assert "All behörighet är återkallad." in revoked.text
        with pytest.raises(Exception, match="revoked"):
            runtime.custody.authenticate(first)

    def test_a_page_post_without_its_csrf_token_changes_nothing(
            self, runtime: Runtime, admin_client: TestClient) -> None:
        actor_id, first = runtime.custody.register_actor(SYSTEM, "Arne Arkivarie",
                                                         "archivist", None)
        refused = admin_client.post(f"/personal/{actor_id}/aterkalla", data={"reason": "x"})
        assert refused.status_code == 403
        assert runtime.custody.authenticate(first).id == str(actor_id)

    def test_only_an_admin_sees_the_staff_pages(self, runtime: Runtime) -> None:
        _, token = runtime.custody.register_actor(SYSTEM, "Greta Granskare", "auditor", None)
        with TestClient(create_app(runtime=runtime)) as client:
            signed_in(client, token)
            assert client.get("/personal").status_code == 403
            assert 'href="/personal"' not in client.get("/granskning").text
