"""Staff members (actors), their roles, and their assignments to students.

An assignment authorises a teacher or mentor for one student from the moment it is
granted until it is ended; both are events, so an audit can tell who was authorised
at any moment. Students are named by their record id (a keyed blind index of the
personnummer), never by the personnummer itself.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from domain.errors import IllegalTransitionError, InvalidInputError
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

    name: str
    role: Role
    school_id: str | None
    token_sha256: str
    assignments: set[UUID]
    revoked: bool

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
