"""Credentials: named bearer tokens, revocation, server-side web sessions, and staff
members signed in by the municipality's identity provider (OpenID Connect claims).

A token's validity is decided by its staff member's signed events (``TokenIssued``,
``TokenWithdrawn``, ``TokenRevoked``) read afresh on every request; a web session by a
row in the session store (deleted on sign-out and revocation, expired by the idle and
absolute time-outs) *and* by those events. Nothing is cached between requests beyond
events already read, so whatever one service instance changes holds in every instance
sharing the database at once.

May import the domain and the application's ports and policy.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from application.policy import Principal, require_set_up
from application.ports import IdentityProvider, SessionStore, SignInStart, WebSession
from application.service import Custody
from domain.actor import ROLES_WITH_SCHOOL, Actor, Role, check_profile
from domain.errors import DomainError, NotAuthenticatedError, NotFoundError

_TOUCH_EVERY = timedelta(seconds=30)
"""A session's last use is written at most this often (one write per request would make
every page a write); the idle time-out is therefore exact to within this."""

_IDENTITY_NAMESPACE = uuid.UUID("5f0c1a52-8d1e-4c55-9b8e-2f4a1b7c9d30")


class NoRoleError(DomainError):
    """The identity provider signed the user in, but their claims give no role here."""

    title = "No role in this service"
    code = "no_role"


class StaffRevokedError(NotAuthenticatedError):
    """The staff member's credentials were revoked: no sign-in until an admin acts."""

    code = "staff_revoked"


def session_digest(session_id: str) -> str:
    return hashlib.sha256(b"web-session:" + session_id.encode()).hexdigest()


def identity_actor_id(issuer: str, subject: str) -> UUID:
    """A staff member signed in by an identity provider is found by ``iss`` and ``sub``
    alone (both stable for the user at that provider), with no index."""
    return uuid.uuid5(_IDENTITY_NAMESPACE, f"{issuer}\n{subject}")


@dataclass(frozen=True)
class ClaimMapping:
    """How the identity provider's claims become our role and school unit.

    ``role_map`` maps a value of ``role_claim`` (a string or a list of strings) to one of
    our roles; a claim value equal to a role's name (``archivist``) maps to that role
    unless the map says otherwise. When several values map to roles, the first role in
    :class:`Role`'s order wins. ``school_claim`` holds the school unit id."""

    role_claim: str = "roles"
    school_claim: str = "school_unit"
    role_map: Mapping[str, Role] | None = None

    @staticmethod
    def parse_role_map(text: str) -> dict[str, Role]:
        """``value=role`` pairs separated by commas, e.g. ``BUN-Arkiv=archivist``."""
        mapping: dict[str, Role] = {}
        for pair in filter(None, (p.strip() for p in text.split(","))):
            value, sep, role = pair.rpartition("=")
            if not sep or not value.strip():
                raise ValueError(f"role map entry {pair!r} is not value=role")
            if role.strip() not in Role.__members__.values():
                raise ValueError(f"role map entry {pair!r}: {role.strip()!r} is not one of "
                                 f"{', '.join(r.value for r in Role)}")
            mapping[value.strip()] = Role(role.strip())
        return mapping

    def role_of(self, claims: Mapping[str, Any]) -> Role | None:
        raw = claims.get(self.role_claim)
        values: Sequence[Any] = [raw] if isinstance(raw, str) else (
            raw if isinstance(raw, list) else [])
        found: set[Role] = set()
        for value in values:
            if not isinstance(value, str):
                continue
            if self.role_map and value in self.role_map:
                found.add(self.role_map[value])
            elif value in Role.__members__.values():
                found.add(Role(value))
        return next((role for role in Role if role in found), None)

    def school_of(self, claims: Mapping[str, Any]) -> str | None:
        value = claims.get(self.school_claim)
        return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    issued_at: str
    expires_at: str | None
    status: str
    """``active``, ``expired``, ``withdrawn`` or ``revoked`` (the whole staff member)."""


class Credentials:
    """The use cases of tokens, sessions and identity-provider sign-in."""

    def __init__(self, custody: Custody, sessions: SessionStore, *,
                 idle: timedelta = timedelta(minutes=30),
                 absolute: timedelta = timedelta(hours=10),
                 provider: IdentityProvider | None = None,
                 mapping: ClaimMapping | None = None) -> None:
        self.custody = custody
        self.sessions = sessions
        self.idle = idle
        self.absolute = absolute
        self.provider = provider
        self.mapping = mapping or ClaimMapping()

    @property
    def now(self) -> datetime:
        return self.custody.clock.now()

    # -- tokens ------------------------------------------------------------------------

    def issue_token(self, principal: Principal, actor_id: UUID, name: str,
                    expires_at: datetime | None) -> tuple[UUID, str]:
        require_set_up(principal, doing="issue tokens")
        actor = self.custody.actor(actor_id)
        token_id, token = self.custody.prepare_token(actor, name, expires_at, principal)
        self.custody.commit(actor)
        return token_id, token

    def tokens(self, principal: Principal, actor_id: UUID) -> list[TokenInfo]:
        require_set_up(principal, doing="list tokens")
        actor = self.custody.actor_now(actor_id)
        now = self.now
        listed = []
        for token in sorted(actor.tokens.values(), key=lambda t: t.issued_at):
            status = ("revoked" if actor.revoked else "withdrawn" if token.withdrawn
                      else "active" if token.valid_at(now) else "expired")
            listed.append(TokenInfo(str(token.id), token.name, token.issued_at.isoformat(),
                                    token.expires_at.isoformat() if token.expires_at else None,
                                    status))
        return listed

    def withdraw_token(self, principal: Principal, actor_id: UUID, token_id: UUID) -> None:
        require_set_up(principal, doing="withdraw tokens")
        actor = self.custody.actor(actor_id)
        actor.withdraw_token(token_id, actor=principal.id)
        self.custody.commit(actor)

    def revoke(self, principal: Principal, actor_id: UUID, reason: str) -> bool:
        """Every token and web session of the staff member stops working now; ``False``
        when they were revoked already (nothing new stored, sessions ended all the same)."""
        require_set_up(principal, doing="revoke staff members' credentials")
        actor = self.custody.actor(actor_id)
        revoked = False
        if not actor.revoked:
            actor.revoke(reason or "revoked", actor=principal.id)
            self.custody.commit(actor)
            revoked = True
        self.sessions.delete_for_actor(actor_id)
        return revoked

    # -- web sessions ------------------------------------------------------------------

    def start_session(self, principal: Principal) -> str:
        """A new session for a signed-in staff member; the returned random id goes into
        the cookie, only its hash into the store."""
        session_id = secrets.token_urlsafe(32)
        now = self.now
        self.sessions.create(session_digest(session_id),
                             WebSession(UUID(principal.id), now, now))
        return session_id

    def session_principal(self, session_id: str | None) -> Principal:
        if not session_id:
            raise NotAuthenticatedError("not signed in")
        key = session_digest(session_id)
        session = self.sessions.get(key)
        if session is None:
            raise NotAuthenticatedError("the session has ended")
        now = self.now
        if now - session.last_used_at >= self.idle or now - session.created_at >= self.absolute:
            self.sessions.delete(key)
            raise NotAuthenticatedError("the session has timed out")
        actor = self.custody.actor_now(session.actor_id)
        if actor.revoked:
            self.sessions.delete(key)
            raise NotAuthenticatedError("the staff member's credentials were revoked")
        if now - session.last_used_at >= _TOUCH_EVERY:
            self.sessions.touch(key, now)
        return Principal.of(actor)

    def end_session(self, session_id: str | None) -> None:
        if session_id:
            self.sessions.delete(session_digest(session_id))

    # -- identity provider -------------------------------------------------------------

    def begin_sign_in(self, redirect_uri: str) -> SignInStart:
        if self.provider is None:
            raise NotFoundError("sign-in through an identity provider is not configured")
        return self.provider.begin(redirect_uri)

    def finish_sign_in(self, code: str, redirect_uri: str, verifier: str,
                       nonce: str) -> Principal:
        if self.provider is None:
            raise NotFoundError("sign-in through an identity provider is not configured")
        claims = self.provider.finish(code, redirect_uri, verifier, nonce)
        return self.sign_in_with_claims(claims, self.mapping)

    def sign_in_with_claims(self, claims: Mapping[str, Any], mapping: ClaimMapping) -> Principal:
        """The staff member behind validated ID-token claims: registered on first sign-in
        (an event), their name, role and school unit updated when the claims change."""
        issuer, subject = str(claims.get("iss", "")), str(claims.get("sub", ""))
        if not issuer or not subject:
            raise NotAuthenticatedError("the identity provider named no user")
        role = mapping.role_of(claims)
        if role is None:
            raise NoRoleError(f"the claim {mapping.role_claim!r} gives no role in this service")
        school_id = mapping.school_of(claims) if role in ROLES_WITH_SCHOOL or (
            role is Role.CUSTODIAN) else None
        if school_id is not None:
            try:
                self.custody.require_school(school_id, field=mapping.school_claim)
            except DomainError:
                raise NoRoleError(f"the school unit {school_id!r} in the claims is not "
                                  "registered here") from None
        name = str(claims.get("name") or claims.get("preferred_username") or claims.get(
            "email") or subject)
        try:
            name = check_profile(name, role, school_id)
        except DomainError as error:
            raise NoRoleError(str(error)) from None
        actor_id = identity_actor_id(issuer, subject)
        by = f"oidc:{issuer}"
        if self.custody.exists(actor_id):
            actor = self.custody.actor(actor_id)
            if actor.revoked:
                raise StaffRevokedError("the staff member's credentials were revoked")
            actor.change_profile(name, role, school_id, actor=by)
        else:
            actor = Actor.register(actor_id, name, role, school_id, "", actor=by)
        actor.link_identity(issuer, subject, actor=by)
        self.custody.commit(actor)
        return Principal.of(self.custody.actor_now(actor_id))
