"""Who may do what: roles, school units and assignments.

Decided here, never in routes, so the API, the CLI and the web pages enforce the same
rules. Every check raises :class:`NotAuthorisedError` with a sentence a person can act on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.actor import Actor, Role
from domain.errors import NotAuthorisedError
from domain.record import Copy, Purpose, Record
from domain.school import ARCHIVE

SYSTEM = "system:cli"


@dataclass(frozen=True)
class Principal:
    """The authenticated staff member behind a command (or the CLI operator)."""

    id: str
    name: str
    role: Role
    school_id: str | None
    assignments: frozenset[UUID] = frozenset()
    via: str = ""
    """The door the caller came through (``GET /api/v1/records/{record_id}``, a CLI
    command): what the access log records as the route."""

    @classmethod
    def of(cls, actor: Actor) -> Principal:
        return cls(str(actor.id), actor.name, actor.role, actor.school_id,
                   frozenset(actor.assignments))

    @classmethod
    def system(cls) -> Principal:
        """The operator at the command line: set-up rights, acting as ``system:cli``."""
        return cls(SYSTEM, "command line", Role.ADMIN, None)

    @property
    def location(self) -> str | None:
        """Where a custodian hands out from: a school unit id, or the archive."""
        if self.role is not Role.CUSTODIAN:
            return None
        return self.school_id or ARCHIVE


def require(principal: Principal, *roles: Role, doing: str) -> None:
    if principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise NotAuthorisedError(
            f"a {principal.role.value} may not {doing}; that is for: {allowed}"
        )


def copy_location(copy: Copy) -> str:
    return ARCHIVE if copy.purpose is Purpose.ARCHIVE else (copy.school_id or ARCHIVE)


def require_custody_of(principal: Principal, copy: Copy, *, doing: str,
                       school_only: bool = False) -> None:
    """A custodian handles the copies at their location. The archivist may also cull
    any copy; delivery, hand-over and receipt (``school_only``) stay with the school
    unit's custodian."""
    if principal.role is Role.ARCHIVIST and not school_only:
        return
    if principal.role is Role.CUSTODIAN and principal.location == copy_location(copy):
        return
    who = f"the custodian of {copy_location(copy)}" + ("" if school_only else " or the archivist")
    raise NotAuthorisedError(f"only {who} may {doing} copy {copy.id}")


def require_read(principal: Principal, school_id: str | None,
                 copy_school_ids: Iterable[str | None]) -> None:
    """Who may read a record: the archivist, auditors and the admin; the archive's
    custodian; a school unit's custodian for records of their unit or with a copy there.
    Staff order documents instead of browsing."""
    if principal.role in (Role.ARCHIVIST, Role.AUDITOR, Role.ADMIN):
        return
    if principal.role is Role.CUSTODIAN and (
        principal.school_id is None
        or principal.school_id == school_id
        or principal.school_id in set(copy_school_ids)
    ):
        return
    raise NotAuthorisedError(NOT_READABLE)


NOT_READABLE = ("staff may not browse student records; order the document from the "
                "designated custodian instead (POST /api/v1/requests)")
"""The one answer to a read that is not allowed: the same whether or not the record
exists, so it tells nobody which students the archive holds."""


def request_refusal(
    principal: Principal, record: Record, assignments: frozenset[UUID]
) -> str | None:
    """Why this staff member may not have this record now, or None if they may."""
    if not record.is_student_documentation:
        return "only student documentation is handed out on request"
    if principal.role in (Role.TEACHER, Role.MENTOR):
        if record.id in assignments:
            return None
        return (f"the {principal.role.value} is not assigned to this student at the time of "
                "the request")
    if principal.role is Role.PRINCIPAL:
        if principal.school_id == record.school_id:
            return None
        return "the student does not attend the principal's school unit"
    return f"a {principal.role.value} does not order documents; teachers, mentors and principals do"


# -- personal data: who sees whose identity ----------------------------------------------


class Disclosure(StrEnum):
    """How a student appears to a caller."""

    IDENTITY = "identity"
    """Personnummer, name, class, school unit and document titles."""
    REFERENCE = "reference"
    """A stable pseudonymous reference instead; for a student with protected identity
    no school unit either."""


def sees_protected_identities(principal: Principal) -> bool:
    """Only the archivist and the archive's custodian see who a protected student is."""
    return principal.role is Role.ARCHIVIST or (
        principal.role is Role.CUSTODIAN and principal.school_id is None)


def disclosure(principal: Principal, *, protected: bool) -> Disclosure:
    """Auditors and the admin verify and administer without names (least privilege);
    everyone else who may read a record sees the student, unless the identity is
    protected and they are not one of the two who see protected identities."""
    if principal.role in (Role.AUDITOR, Role.ADMIN):
        return Disclosure.REFERENCE
    if protected and not sees_protected_identities(principal):
        return Disclosure.REFERENCE
    return Disclosure.IDENTITY


ACCESS_LOG_READERS = (Role.ARCHIVIST, Role.AUDITOR)
"""Who reads a student's access log."""
