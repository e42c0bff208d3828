"""Who may do what: roles, school units and assignments.

Decided here, never in routes, so the API, the CLI and the web pages enforce the same
rules. Every check raises :class:`NotAuthorisedError` with a sentence a person can act on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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
    raise NotAuthorisedError(
            "staff may not browse student records; order the document from the designated "
            "custodian instead (POST /api/v1/requests)"
        )


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


# -- culling lists: propose, approve (four eyes), destroy, withdraw ---------------------

SYSTEM_HELD = "system"
"""The location of an item with no paper (general information deleted by the system)."""


def require_list_proposer(principal: Principal, locations: set[str]) -> None:
    """The archivist proposes any list; a school unit's principal or custodian proposes
    one of their own unit's school copies."""
    if principal.role is Role.ARCHIVIST:
        return
    if principal.role in (Role.PRINCIPAL, Role.CUSTODIAN) and principal.school_id and (
            locations == {principal.school_id}):
        return
    raise NotAuthorisedError(
        "a culling list is proposed by the archivist, or by the principal or custodian of "
        "the school unit that holds every copy on it")


def require_list_approver(principal: Principal, locations: set[str]) -> None:
    """The archivist approves any list; a principal only a list of school copies of
    their own school unit. (Never the proposer: the domain's four-eyes rule.)"""
    if principal.role is Role.ARCHIVIST:
        return
    if principal.role is Role.PRINCIPAL and principal.school_id and (
            locations == {principal.school_id}):
        return
    raise NotAuthorisedError(
        "a culling list is approved by the archivist, or by the principal of the school unit "
        "whose school copies are on it")


def require_destroyer(principal: Principal, location: str) -> None:
    """Only whoever holds the paper destroys it; data held by the system is deleted by
    the archivist."""
    if location == SYSTEM_HELD:
        if principal.role is Role.ARCHIVIST:
            return
        raise NotAuthorisedError("general information in the store is deleted by the archivist")
    if principal.role is Role.CUSTODIAN and principal.location == location:
        return
    raise NotAuthorisedError(
        f"only the custodian of {location}, who holds the paper, confirms its destruction")


def require_withdrawer(principal: Principal, location: str) -> None:
    if principal.role is Role.ARCHIVIST:
        return
    if principal.role in (Role.PRINCIPAL, Role.CUSTODIAN) and (
            principal.school_id == location or principal.location == location):
        return
    raise NotAuthorisedError(
        f"an item is withdrawn by the archivist or by the principal or custodian of {location}")


def require_list_reader(principal: Principal) -> None:
    if principal.role in (Role.ADMIN, Role.ARCHIVIST, Role.AUDITOR, Role.CUSTODIAN,
                          Role.PRINCIPAL):
        return
    raise NotAuthorisedError("culling lists are read by the archivist, custodians, principals, "
                             "the admin and auditors")
