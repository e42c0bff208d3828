"""Staff members (actors), their roles, and their assignments to students.

An assignment authorises a teacher or mentor for one student from the moment it is
granted until it is ended; both are events, so an audit can tell who was authorised
at any moment. Students are named by their record id (a keyed blind index of the
personnummer), never by the personnummer itself.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from domain.errors import IllegalTransitionError, InvalidInputError, NotFoundError
from domain.events import CustodyCreated, CustodyEvent


class Role(StrEnum):
    ADMIN = "admin"
    ARCHIVIST = "archivist"
    CUSTODIAN = "custodian"
    PRINCIPAL = "principal"
    TEACHER = "teacher"
    MENTOR = "mentor"
    AUDITOR = "auditor"


ROLES_WITH_SCHOOL = frozenset({Role.PRINCIPAL, Role.TEACHER, Role.MENTOR})
ROLES_WITH_ASSIGNMENTS = frozenset({Role.TEACHER, Role.MENTOR})


@dataclass(frozen=True)
class IssuedToken:
    id: UUID
    name: str
    sha256: str
    expires_at: datetime | None
    issued_at: datetime
    withdrawn: bool

    def valid_at(self, now: datetime) -> bool:
        return not self.withdrawn and (self.expires_at is None or now < self.expires_at)


def check_profile(name: str, role: Role, school_id: str | None) -> str:
    """The rules every staff member's name, role and school unit follow; the clean name."""
    name = name.strip()
    if not name:
        raise InvalidInputError("a staff member needs a name", field="name")
    if role in ROLES_WITH_SCHOOL and not school_id:
        raise InvalidInputError(f"a {role.value} belongs to a school unit", field="school_id")
    if role in (Role.ADMIN, Role.ARCHIVIST, Role.AUDITOR) and school_id:
        raise InvalidInputError(
            f"a {role.value} works for the whole municipality, not one school unit",
            field="school_id",
        )
    return name


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInputError(
            f"role {value!r} does not exist; use one of {', '.join(r.value for r in Role)}",
            field="role",
        ) from None


class Actor(BaseAggregate[UUID]):
    TOPIC = "custody:Actor"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Registered(Event, CustodyCreated):
        TOPIC = "custody:Actor.Registered"
        name: str
        role: str
        school_id: str | None
        token_sha256: str

        def apply(self, actor: Actor) -> None:
            actor.name = self.name
            actor.role = Role(self.role)
            actor.school_id = self.school_id
            actor.token_sha256 = self.token_sha256
            actor.assignments = set()
            actor.revoked = False
            actor.tokens = {}
            actor.identity = None

    class AssignmentGranted(Event):
        TOPIC = "custody:Actor.AssignmentGranted"
        record_id: UUID

        def apply(self, actor: Actor) -> None:
            actor.assignments.add(self.record_id)

    class AssignmentEnded(Event):
        TOPIC = "custody:Actor.AssignmentEnded"
        record_id: UUID

        def apply(self, actor: Actor) -> None:
            actor.assignments.discard(self.record_id)

    class TokenRevoked(Event):
        TOPIC = "custody:Actor.TokenRevoked"
        reason: str

        def apply(self, actor: Actor) -> None:
            actor.revoked = True

    class TokenIssued(Event):
        """A named bearer token; only its SHA-256 is stored, the secret is shown once."""

        TOPIC = "custody:Actor.TokenIssued"
        token_id: UUID
        token_name: str
        token_sha256: str
        expires_at: str | None

        def apply(self, actor: Actor) -> None:
            actor.tokens[self.token_id] = IssuedToken(
                self.token_id, self.token_name, self.token_sha256,
                datetime.fromisoformat(self.expires_at) if self.expires_at else None,
                self.timestamp, withdrawn=False)

    class TokenWithdrawn(Event):
        TOPIC = "custody:Actor.TokenWithdrawn"
        token_id: UUID

        def apply(self, actor: Actor) -> None:
            actor.tokens[self.token_id] = replace(actor.tokens[self.token_id], withdrawn=True)

    class IdentityLinked(Event):
        """The staff member signs in through the municipality's identity provider as
        ``subject`` of ``issuer`` (the OpenID Connect ``iss`` and ``sub``)."""

        TOPIC = "custody:Actor.IdentityLinked"
        issuer: str
        subject: str

        def apply(self, actor: Actor) -> None:
            actor.identity = (self.issuer, self.subject)

    class ProfileChanged(Event):
        """Name, role or school unit changed (e.g. the identity provider's claims)."""

        TOPIC = "custody:Actor.ProfileChanged"
        name: str
        role: str
        school_id: str | None

        def apply(self, actor: Actor) -> None:
            actor.name = self.name
            actor.role = Role(self.role)
            actor.school_id = self.school_id

    name: str
    role: Role
    school_id: str | None
    token_sha256: str
    assignments: set[UUID]
    revoked: bool
    tokens: dict[UUID, IssuedToken]
    identity: tuple[str, str] | None

    @classmethod
    def register(
        cls,
        actor_id: UUID,
        name: str,
        role: Role,
        school_id: str | None,
        token_sha256: str,
        *,
        actor: str,
    ) -> Actor:
        name = check_profile(name, role, school_id)
        return cls._create(
            cls.Registered,
            id=actor_id,
            name=name,
            role=role.value,
            school_id=school_id,
            token_sha256=token_sha256,
            actor=actor,
        )

    @property
    def is_archive_custodian(self) -> bool:
        return self.role is Role.CUSTODIAN and self.school_id is None

    def assign(self, record_id: UUID, *, actor: str) -> None:
        if self.role not in ROLES_WITH_ASSIGNMENTS:
            raise IllegalTransitionError(
                f"only teachers and mentors are assigned to students, not a {self.role.value}"
            )
        if record_id in self.assignments:
            raise IllegalTransitionError("this staff member is already assigned to the student")
        self.trigger_event(self.AssignmentGranted, record_id=record_id, actor=actor)

    def end_assignment(self, record_id: UUID, *, actor: str) -> None:
        if record_id not in self.assignments:
            raise IllegalTransitionError("this staff member is not assigned to the student")
        self.trigger_event(self.AssignmentEnded, record_id=record_id, actor=actor)

    def revoke(self, reason: str, *, actor: str) -> None:
        if self.revoked:
            raise IllegalTransitionError("the token is already revoked")
        self.trigger_event(self.TokenRevoked, reason=reason, actor=actor)

    def issue_token(self, token_id: UUID, name: str, token_sha256: str,
                    expires_at: datetime | None, now: datetime, *, actor: str) -> None:
        if self.revoked:
            raise IllegalTransitionError(
                "this staff member's credentials are revoked; register them anew")
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInputError("a token needs a name of 1 to 100 characters", field="name")
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise InvalidInputError("expires_at needs a time zone (e.g. Z)",
                                        field="expires_at")
            if expires_at <= now:
                raise InvalidInputError("expires_at is in the past", field="expires_at")
        self.trigger_event(self.TokenIssued, token_id=token_id, token_name=name,
                           token_sha256=token_sha256,
                           expires_at=expires_at.isoformat() if expires_at else None,
                           actor=actor)

    def withdraw_token(self, token_id: UUID, *, actor: str) -> None:
        token = self.tokens.get(token_id)
        if token is None:
            raise NotFoundError(f"token {token_id} does not exist")
        if token.withdrawn:
            raise IllegalTransitionError("the token is already withdrawn")
        self.trigger_event(self.TokenWithdrawn, token_id=token_id, actor=actor)

    def link_identity(self, issuer: str, subject: str, *, actor: str) -> None:
        if self.identity == (issuer, subject):
            return
        self.trigger_event(self.IdentityLinked, issuer=issuer, subject=subject, actor=actor)

    def change_profile(self, name: str, role: Role, school_id: str | None, *,
                       actor: str) -> None:
        name = check_profile(name, role, school_id)
        if (name, role, school_id) == (self.name, self.role, self.school_id):
            return
        self.trigger_event(self.ProfileChanged, name=name, role=role.value,
                           school_id=school_id, actor=actor)

    def accepts(self, token_sha256: str, token_id: UUID | None, now: datetime) -> bool:
        """Whether a bearer token with this hash is one of this staff member's, valid now:
        a named token (``token_id``) or the one minted at registration (before named
        tokens existed)."""
        if self.revoked:
            return False
        if token_id is None:
            return bool(self.token_sha256) and hmac.compare_digest(self.token_sha256,
                                                                   token_sha256)
        token = self.tokens.get(token_id)
        return (token is not None and hmac.compare_digest(token.sha256, token_sha256)
                and token.valid_at(now))
