"""Named tokens, revocation, server-side sessions and claim sign-in, on both databases."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.credentials import ClaimMapping, NoRoleError, StaffRevokedError
from application.policy import Principal
from application.service import actor_id_for_token, token_digest
from domain.actor import Actor, Role
from domain.errors import InvalidInputError, NotAuthenticatedError, NotAuthorisedError
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.factories import ManualClock

SYSTEM = Principal.system()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def rt(settings: Settings, clock: ManualClock) -> Iterator[Runtime]:
    runtime = bootstrap(settings, clock=clock)
    yield runtime
    runtime.close()


def admin(rt: Runtime) -> Principal:
    _, token = rt.custody.register_actor(SYSTEM, "Ada Admin", "admin", None)
    return rt.custody.authenticate(token)


class TestNamedTokens:
    def test_a_staff_member_has_several_tokens_each_of_which_authenticates(
            self, rt: Runtime) -> None:
        ada = admin(rt)
        actor_id, first = rt.custody.register_actor(ada, "Arne Arkivarie", "archivist", None)
        _, second = rt.credentials.issue_token(ada, actor_id, "laptop", None)
        _, third = rt.credentials.issue_token(ada, actor_id, "scanner", None)
        for token in (first, second, third):
            assert rt.custody.authenticate(token).id == str(actor_id)

    def test_the_list_names_tokens_and_never_shows_a_secret(self, rt: Runtime) -> None:
        ada = admin(rt)
        actor_id, first = rt.custody.register_actor(ada, "Arne Arkivarie", "archivist", None)
        _, second = rt.credentials.issue_token(ada, actor_id, "laptop", None)
        listed = rt.credentials.tokens(ada, actor_id)
        assert [t.name for t in listed] == ["första nyckeln", "laptop"]
        assert all(t.status == "active" for t in listed)
        text = repr(listed)
        assert first not in text and second not in text
        assert token_digest(second) not in text

    def test_a_withdrawn_token_is_refused_and_the_others_still_work(self, rt: Runtime) -> None:
        ada = admin(rt)
        actor_id, first = rt.custody.register_actor(ada, "Arne Arkivarie", "archivist", None)
        token_id, second = rt.credentials.issue_token(ada, actor_id, "laptop", None)
        rt.credentials.withdraw_token(ada, actor_id, token_id)
        with pytest.raises(NotAuthenticatedError):
            rt.custody.authenticate(second)
        assert rt.custody.authenticate(first).id == str(actor_id)
        assert [t.status for t in rt.credentials.tokens(ada, actor_id)] == ["active",
                                                                           "withdrawn"]

    def test_a_token_stops_working_when_it_expires(self, rt: Runtime,
                                                   clock: ManualClock) -> None:
        ada = admin(rt)
        actor_id, _ = rt.custody.register_actor(ada, "Arne Arkivarie", "archivist", None)
        _, token = rt.credentials.issue_token(ada, actor_id, "a day",
                                              clock.now() + dt.timedelta(days=1))
        assert rt.custody.authenticate(token).id == str(actor_id)
        clock.advance(days=1)
        with pytest.raises(NotAuthenticatedError):
            rt.custody.authenticate(token)
        assert rt.credentials.tokens(ada, actor_id)[1].status == "expired"

    def test_an_expiry_in_the_past_is_refused(self, rt: Runtime, clock: ManualClock) -> None:
        ada = admin(rt)
        actor_id, _ = rt.custody.register_actor(ada, "Arne Arkivarie", "archivist", None)
        with pytest.raises(InvalidInputError):
            rt.credentials.issue_token(ada, actor_id, "old", clock.now() - dt.timedelta(1))

    def test_only_an_admin_issues_tokens(self, rt: Runtime) -> None:
        ada = admin(rt)
        actor_id, token = rt.custody.register_actor(ada, "Arne Arkivarie", "archivist", None)
        arne = rt.custody.authenticate(token)
        with pytest.raises(NotAuthorisedError):
            rt.credentials.issue_token(arne, actor_id, "mine", None)

    def test_a_token_minted_before_named_tokens_still_authenticates(self, rt: Runtime) -> None:
        """The old way: the staff member's id derived from their single token."""
        token = secrets.token_urlsafe(32)
        old = Actor.register(actor_id_for_token(token), "Olle Gammal", Role.AUDITOR, None,
                             token_digest(token), actor=SYSTEM.id)
        rt.custody.commit(old)
        assert rt.custody.authenticate(token).id == str(old.id)
        rt.credentials.revoke(admin(rt), old.id, "left")
        with pytest.raises(NotAuthenticatedError):
            rt.custody.authenticate(token)


class TestRevocation:
    def test_revocation_stops_every_token_and_every_session_at_once(self, rt: Runtime) -> None:
        ada = admin(rt)
        actor_id, first = rt.custody.register_actor(ada, "Arne Arkivarie", "archivist", None)
        _, second = rt.credentials.issue_token(ada, actor_id, "laptop", None)
        arne = rt.custody.authenticate(first)
        sessions = [rt.credentials.start_session(arne) for _ in range(2)]
        assert rt.credentials.revoke(ada, actor_id, "left the municipality") is True
        for token in (first, second):
            with pytest.raises(NotAuthenticatedError):
                rt.custody.authenticate(token)
        for session in sessions:
            with pytest.raises(NotAuthenticatedError):
                rt.credentials.session_principal(session)
        assert next(a for a in rt.queries.actors() if a["id"] == str(actor_id))["revoked"]

    def test_a_second_revocation_changes_nothing(self, rt: Runtime) -> None:
        ada = admin(rt)
        actor_id, _ = rt.custody.register_actor(ada, "Arne Arkivarie", "archivist", None)
        assert rt.credentials.revoke(ada, actor_id, "left") is True
        assert rt.credentials.revoke(ada, actor_id, "left") is False


class TestWebSessions:
    def test_a_session_ends_on_sign_out(self, rt: Runtime) -> None:
        ada = admin(rt)
        session = rt.credentials.start_session(ada)
        assert rt.credentials.session_principal(session).id == ada.id
        rt.credentials.end_session(session)
        with pytest.raises(NotAuthenticatedError):
            rt.credentials.session_principal(session)

    def test_an_idle_session_times_out(self, rt: Runtime, clock: ManualClock) -> None:
        ada = admin(rt)
        session = rt.credentials.start_session(ada)
        clock.advance(minutes=29)
        assert rt.credentials.session_principal(session).id == ada.id
        clock.advance(minutes=29)  # used 29 minutes ago: still alive
        assert rt.credentials.session_principal(session).id == ada.id
        clock.advance(minutes=30)
        with pytest.raises(NotAuthenticatedError):
            rt.credentials.session_principal(session)

    def test_a_busy_session_ends_at_the_absolute_time_out(self, rt: Runtime,
                                                          clock: ManualClock) -> None:
        ada = admin(rt)
        session = rt.credentials.start_session(ada)
        for _ in range(39):  # 9 h 45 min of use, a request every quarter of an hour
            clock.advance(minutes=15)
            assert rt.credentials.session_principal(session).id == ada.id
        clock.advance(minutes=15)
        with pytest.raises(NotAuthenticatedError):
            rt.credentials.session_principal(session)

    def test_an_unknown_session_id_is_refused(self, rt: Runtime) -> None:
        with pytest.raises(NotAuthenticatedError):
            rt.credentials.session_principal("made-up")


class TestClaimSignIn:
    MAPPING = ClaimMapping(role_map=ClaimMapping.parse_role_map(
        "BUN-Arkiv=archivist,BUN-Rektor=principal"))

    def claims(self, **more: object) -> dict[str, object]:
        return {"iss": "https://idp.example.se", "sub": "u-1", "name": "Rut Rektor", **more}

    def test_first_sign_in_registers_the_staff_member_from_the_claims(self, rt: Runtime) -> None:
        rt.custody.register_school(SYSTEM, "holmes", "Holmesskolan")
        principal = rt.credentials.sign_in_with_claims(
            self.claims(roles=["BUN-Rektor"], school_unit="holmes"), self.MAPPING)
        assert (principal.name, principal.role, principal.school_id) == (
            "Rut Rektor", Role.PRINCIPAL, "holmes")
        again = rt.credentials.sign_in_with_claims(
            self.claims(roles=["BUN-Rektor"], school_unit="holmes"), self.MAPPING)
        assert again.id == principal.id
        assert len([a for a in rt.queries.actors() if a["id"] == principal.id]) == 1

    def test_changed_claims_update_the_staff_member(self, rt: Runtime) -> None:
        rt.custody.register_school(SYSTEM, "holmes", "Holmesskolan")
        first = rt.credentials.sign_in_with_claims(
            self.claims(roles="BUN-Rektor", school_unit="holmes"), self.MAPPING)
        second = rt.credentials.sign_in_with_claims(self.claims(roles=["BUN-Arkiv"]),
                                                    self.MAPPING)
        assert second.id == first.id
        assert (second.role, second.school_id) == (Role.ARCHIVIST, None)
        view = next(a for a in rt.queries.actors() if a["id"] == first.id)
        assert (view["role"], view["school_id"]) == ("archivist", None)

    def test_claims_without_a_role_here_are_refused(self, rt: Runtime) -> None:
        with pytest.raises(NoRoleError):
            rt.credentials.sign_in_with_claims(self.claims(roles=["Kök"]), self.MAPPING)
        with pytest.raises(NoRoleError):  # a principal of a school unit not registered
            rt.credentials.sign_in_with_claims(
                self.claims(roles=["BUN-Rektor"], school_unit="nowhere"), self.MAPPING)
        assert rt.queries.actors() == []

    def test_a_revoked_staff_member_cannot_sign_in_again(self, rt: Runtime) -> None:
        principal = rt.credentials.sign_in_with_claims(self.claims(roles="archivist"),
                                                       self.MAPPING)
        rt.credentials.revoke(admin(rt), UUID(principal.id), "left")
        with pytest.raises(StaffRevokedError):
            rt.credentials.sign_in_with_claims(self.claims(roles="archivist"), self.MAPPING)


class TestHttp:
    def test_token_lifecycle_over_http(self, rt: Runtime) -> None:
        _, admin_token = rt.custody.register_actor(SYSTEM, "Ada Admin", "admin", None)
        auth = {"Authorization": f"Bearer {admin_token}"}
        with TestClient(create_app(runtime=rt), raise_server_exceptions=False) as client:
            created = client.post("/api/v1/actors", headers=auth, json={
                "name": "Arne Arkivarie", "role": "archivist"}).json()
            actor_id = created["id"]
            made = client.post(f"/api/v1/actors/{actor_id}/tokens", headers=auth,
                               json={"name": "laptop", "expires_at": "2099-01-01T00:00:00Z"})
            assert made.status_code == 201, made.text
            assert set(made.json()) == {"id", "token"}
            listed = client.get(f"/api/v1/actors/{actor_id}/tokens", headers=auth)
            assert listed.status_code == 200
            body = listed.json()
            assert body["next_cursor"] is None
            assert [t["name"] for t in body["items"]] == ["första nyckeln", "laptop"]
            assert made.json()["token"] not in listed.text
            laptop = {"Authorization": f"Bearer {made.json()['token']}"}
            assert client.get("/api/v1/actors/me", headers=laptop).status_code == 200
            gone = client.delete(f"/api/v1/actors/{actor_id}/tokens/{made.json()['id']}",
                                 headers=auth)
            assert gone.status_code == 204
            assert client.get("/api/v1/actors/me", headers=laptop).status_code == 401
            staff = client.get("/api/v1/actors", headers=auth).json()
            assert staff["next_cursor"] is None
            assert {a["name"] for a in staff["items"]} == {"Ada Admin", "Arne Arkivarie"}
            first = {"Authorization": f"Bearer {created['token']}"}
            assert client.get("/api/v1/actors", headers=first).status_code == 403
            revoked = client.post(f"/api/v1/actors/{actor_id}/revocation", headers=auth,
                                  json={"reason": "left"})
            assert revoked.status_code == 200, revoked.text
            assert client.get("/api/v1/actors/me", headers=first).status_code == 401
            assert client.post("/api/v1/actors/not-a-uuid/revocation",
                               headers=auth).status_code == 422


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_revoked_token_is_refused_at_once_by_another_instance_on_the_same_database(
        settings: Settings) -> None:
    """Two service instances, one PostgreSQL schema: no cache window in either."""
    one, two = bootstrap(settings), bootstrap(settings)
    try:
        _, admin_token = one.custody.register_actor(SYSTEM, "Ada Admin", "admin", None)
        actor_id, token = one.custody.register_actor(SYSTEM, "Arne Arkivarie", "archivist",
                                                     None)
        with TestClient(create_app(runtime=one)) as a, TestClient(create_app(runtime=two)) as b:
            arne = {"Authorization": f"Bearer {token}"}
            assert b.get("/api/v1/actors/me", headers=arne).status_code == 200
            sid = two.credentials.start_session(two.custody.authenticate(token))
            b.cookies.set("custody_session", sid)
            assert b.get("/api/v1/actors/me").status_code == 200
            b.cookies.clear()
            response = a.post(f"/api/v1/actors/{actor_id}/revocation",
                              headers={"Authorization": f"Bearer {admin_token}"})
            assert response.status_code == 200
            assert b.get("/api/v1/actors/me", headers=arne).status_code == 401
            b.cookies.set("custody_session", sid)
            assert b.get("/api/v1/actors/me").status_code == 401
    finally:
        one.close()
        two.close()


class TestCopiedSessionCookie:
    """The cookie a browser got at sign-in, replayed by someone else afterwards."""

    def sign_in(self, client: TestClient, token: str) -> str:
        client.cookies.clear()
        form = client.get("/login").text
        nonce = form.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post("/login", data={"token": token, "csrf_token": nonce},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        copied = response.cookies["custody_session"]
        assert copied not in (token, "")
        return copied

    def works(self, client: TestClient, copied: str) -> bool:
        client.cookies.clear()
        client.cookies.set("custody_session", copied)
        api = client.get("/api/v1/actors/me").status_code
        page = client.get("/oversikt", follow_redirects=False).status_code
        assert (api == 200) == (page == 200), (api, page)
        return api == 200

    def test_it_stops_working_after_revocation(self, rt: Runtime) -> None:
        _, admin_token = rt.custody.register_actor(SYSTEM, "Ada Admin", "admin", None)
        actor_id, token = rt.custody.register_actor(SYSTEM, "Arne Arkivarie", "archivist", None)
        with TestClient(create_app(runtime=rt)) as client:
            copied = self.sign_in(client, token)
            assert self.works(client, copied)
            client.cookies.clear()
            assert client.post(f"/api/v1/actors/{actor_id}/revocation",
                               headers={"Authorization": f"Bearer {admin_token}"}
                               ).status_code == 200
            assert not self.works(client, copied)

    def test_it_stops_working_after_the_idle_time_out(self, rt: Runtime,
                                                      clock: ManualClock) -> None:
        _, token = rt.custody.register_actor(SYSTEM, "Arne Arkivarie", "archivist", None)
        with TestClient(create_app(runtime=rt)) as client:
            copied = self.sign_in(client, token)
            clock.advance(minutes=29)
            assert self.works(client, copied)
            clock.advance(minutes=30)
            assert not self.works(client, copied)

    def test_it_stops_working_after_sign_out(self, rt: Runtime) -> None:
        _, token = rt.custody.register_actor(SYSTEM, "Arne Arkivarie", "archivist", None)
        with TestClient(create_app(runtime=rt)) as client:
            copied = self.sign_in(client, token)
            assert self.works(client, copied)
            form = client.get("/logout").text
            csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
            assert client.post("/logout", data={"csrf_token": csrf},
                               follow_redirects=False).status_code == 303
            assert not self.works(client, copied)
