"""Who may do what: roles, school units and assignments.

Every rights rule of the service is here, one function per decision, taking the
principal and what is decided about; use cases, queries, routes and web pages call them
and never compare roles themselves (``tests/unit/test_policy_room.py`` fails on a rule
written anywhere else). So the API, the CLI and the web pages enforce the same rules.
Every check raises :class:`NotAuthorisedError` with a sentence a person can act on.

May import the domain only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.actor import Actor, Role
from domain.errors import NotAuthorisedError
from domain.record import Copy, Purpose, Record
from domain.request import DocumentRequest
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
        raise not_for(principal, roles, doing=doing)


def not_for(principal: Principal, roles: Iterable[Role], *, doing: str) -> NotAuthorisedError:
    """The refusal of a role-based rule: who the work is for."""
    allowed = ", ".join(r.value for r in roles)
    return NotAuthorisedError(
        f"a {principal.role.value} may not {doing}; that is for: {allowed}"
    ).with_code("role_may_not")


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
    raise NotAuthorisedError(f"only {who} may {doing} copy {copy.id}").with_code(
        "custodian_only" if school_only else "custodian_or_archivist_only",
        location=copy_location(copy))


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
    raise NotAuthorisedError(NOT_READABLE).with_code("records_not_browsable")


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
    if not may_order_documents(principal):
        return (f"a {principal.role.value} does not order documents; teachers, mentors and "
                "principals do")
    if principal.role in (Role.TEACHER, Role.MENTOR):
        if record.id in assignments:
            return None
        return (f"the {principal.role.value} is not assigned to this student at the time of "
                "the request")
    # A principal (the last who orders).
    if principal.school_id == record.school_id:
        return None
    return "the student does not attend the principal's school unit"


def may_order_documents(principal: Principal) -> bool:
    """Teachers, mentors and principals order documents (:func:`request_refusal`)."""
    return principal.role in (Role.TEACHER, Role.MENTOR, Role.PRINCIPAL)


# -- the roles that read reports -----------------------------------------------------------

READERS = (Role.ADMIN, Role.ARCHIVIST, Role.AUDITOR, Role.CUSTODIAN)
"""Who reads the registers and reports: the admin, the archivist, auditors, custodians."""
ARCHIVE_READERS = (Role.ADMIN, Role.ARCHIVIST, Role.AUDITOR)
"""Who reads the whole archive's shelf list (with the archive's custodian)."""
AUDITORS = (Role.AUDITOR, Role.ARCHIVIST, Role.ADMIN)
"""Who audits the store: verification, the export, proofs."""
PROGRESS_READERS = (*READERS, Role.PRINCIPAL)
"""Who reads the migration progress: the readers of reports and principals."""
ADMINS = (Role.ADMIN,)
ARCHIVISTS = (Role.ARCHIVIST,)


# -- set-up: the admin ---------------------------------------------------------------------

def may_set_up(principal: Principal) -> bool:
    """School units, staff, assignments and tokens are set up by the admin."""
    return principal.role in ADMINS


def require_set_up(principal: Principal, *, doing: str) -> None:
    """See :func:`may_set_up`."""
    if not may_set_up(principal):
        raise not_for(principal, ADMINS, doing=doing)


# -- the archivist's work ------------------------------------------------------------------

def may_capture(principal: Principal) -> bool:
    """Capture from Unikum (one record or the whole inventory) is the archivist's."""
    return principal.role in ARCHIVISTS


def require_capture(principal: Principal, *, doing: str = "capture records") -> None:
    """See :func:`may_capture`."""
    if not may_capture(principal):
        raise not_for(principal, ARCHIVISTS, doing=doing)


def require_archive_copy_work(principal: Principal, *, doing: str) -> None:
    """Printing, reprinting, filing and verifying copies is the archivist's
    (:func:`does_archive_work`)."""
    if not does_archive_work(principal):
        raise not_for(principal, ARCHIVISTS, doing=doing)


def require_cull_general_information(principal: Principal) -> None:
    """General information (point 1) is deleted by the system at the archivist's command."""
    require(principal, Role.ARCHIVIST, doing="cull general information")


def require_hold_work(principal: Principal, *, doing: str) -> None:
    """Holds (a record that must not be culled) are placed and lifted by the archivist."""
    require(principal, Role.ARCHIVIST, doing=doing)


def require_agreement_termination(principal: Principal) -> None:
    require(principal, Role.ARCHIVIST, doing="terminate the archive agreement")


def may_close_school_year(principal: Principal) -> bool:
    """Closing a school year is the archivist's."""
    return principal.role in ARCHIVISTS


def require_school_year_closing(principal: Principal) -> None:
    if not may_close_school_year(principal):
        raise not_for(principal, ARCHIVISTS, doing="close a school year")


# -- a school unit's work -----------------------------------------------------------------

def require_school_staff(principal: Principal, record: Record, *, doing: str) -> None:
    """The record's school unit's custodian (or the archivist) records what happens to a
    student there: the entry into IST-lärande, a departure."""
    if principal.role is Role.ARCHIVIST:
        return
    if principal.role is Role.CUSTODIAN and principal.school_id == record.school_id:
        return
    # Not naming the unit: the student's identity may be protected.
    raise NotAuthorisedError(
        f"only the custodian of the student's school unit, or the archivist, may {doing}"
    )


def require_departure_recording(principal: Principal) -> None:
    """Departures are recorded by custodians and the archivist (decided before the record
    is looked up, so nobody learns who was captured); then :func:`require_school_staff`."""
    require(principal, Role.CUSTODIAN, Role.ARCHIVIST, doing="record a student's departure")


# -- document requests --------------------------------------------------------------------

def assignments_count_at_request(principal: Principal) -> bool:
    """Teachers and mentors are authorised by their assignments *at the time of the
    request*: read them anew, not from the session."""
    return principal.role in (Role.TEACHER, Role.MENTOR)


def may_decide_requests(principal: Principal) -> bool:
    """Custodians decide requests, hand out and take back (each those for the copies at
    their location: :func:`require_deciding_custodian`)."""
    return principal.role is Role.CUSTODIAN


def require_deciding_custodian(principal: Principal, request: DocumentRequest) -> None:
    """Only the designated custodian where the copy is decides, hands out, takes back."""
    if may_decide_requests(principal) and principal.location == request.custodian_location:
        return
    raise NotAuthorisedError(
        f"only the designated custodian of {request.custodian_location} decides and hands "
        "out this request"
    )


def refused_request(refusal: str, *, logged_request_id: str) -> NotAuthorisedError:
    """The error for a request refused under :func:`request_refusal` (and logged)."""
    return NotAuthorisedError(f"request refused and logged: {refusal}",
                              logged_request_id=logged_request_id)


@dataclass(frozen=True)
class RequestLogScope:
    """The part of the request log a principal sees: ``actor_id`` and ``school_id``
    replace the caller's filters when set; ``student_school_id`` (with
    ``by_student_school``) keeps only requests about students of that school unit."""

    actor_id: str | None = None
    school_id: str | None = None
    by_student_school: bool = False
    student_school_id: str | None = None


def request_log_scope(principal: Principal) -> RequestLogScope:
    """Staff see their own requests; a principal those about their unit's students; a
    custodian those for their own copies; the others everything."""
    if not sees_others_requests(principal):
        return RequestLogScope(actor_id=principal.id)
    if principal.role is Role.PRINCIPAL:
        return RequestLogScope(by_student_school=True, student_school_id=principal.school_id)
    if principal.role is Role.CUSTODIAN:
        return RequestLogScope(school_id=principal.location)
    return RequestLogScope()


def sees_others_requests(principal: Principal) -> bool:
    """Whether the request log shows more than one's own requests: not to teachers and
    mentors, who follow their own on the order page (:func:`request_log_scope`)."""
    return principal.role not in (Role.TEACHER, Role.MENTOR)


def require_read_request(principal: Principal, request: Mapping[str, Any]) -> None:
    """One request from the log (its view row: ``actor``, ``school_id``,
    ``student_school_id``)."""
    if principal.role in (Role.TEACHER, Role.MENTOR, Role.PRINCIPAL) and (
        request["actor"] != principal.id
    ):
        raise NotAuthorisedError("staff see their own requests only")
    if principal.role is Role.CUSTODIAN and not (
        request.get("school_id") == principal.location
        or (request.get("school_id") is None and principal.school_id is not None
            and request.get("student_school_id") == principal.school_id)
    ):
        raise NotAuthorisedError("a custodian sees the requests for their own copies")


# -- reading records and reports ----------------------------------------------------------

def may_look_up_records(principal: Principal) -> bool:
    """Finding a record by personnummer (or name): the readers of reports."""
    return principal.role in READERS


def require_record_lookup(principal: Principal) -> None:
    """Finding a record by personnummer: decided on the role first, so nobody learns which
    students the archive holds."""
    if not may_look_up_records(principal):
        raise not_for(principal, READERS, doing="look up student records")


def may_read_shelf_list(principal: Principal) -> bool:
    """The whole archive's shelf list: the archive readers and the archive's custodian."""
    return principal.role in ARCHIVE_READERS or (
        principal.role is Role.CUSTODIAN and principal.school_id is None)


def require_shelf_list(principal: Principal) -> None:
    if not may_read_shelf_list(principal):
        raise NotAuthorisedError(
            "the shelf list is for the archive's custodian, the archivist, the admin and "
            "auditors")


def may_read_own_holdings(principal: Principal) -> bool:
    """A school unit's custodian and principal read their own unit's holdings."""
    return principal.role in (Role.CUSTODIAN, Role.PRINCIPAL) and principal.school_id is not None


def require_holdings(principal: Principal, school_id: str) -> None:
    if principal.role not in ARCHIVE_READERS and not (
        may_read_own_holdings(principal) and principal.school_id == school_id
    ):
        raise NotAuthorisedError(f"only the custodian or principal of {school_id}, the "
                                 "archivist, the admin and auditors see its holdings")


def may_read_culling_register(principal: Principal) -> bool:
    """The culling register and its certificates: the readers of reports."""
    return principal.role in READERS


def require_culling_register(principal: Principal, *,
                             doing: str = "read the culling register") -> None:
    if not may_read_culling_register(principal):
        raise not_for(principal, READERS, doing=doing)


def may_read_agreement(principal: Principal) -> bool:
    """Whether the agreement's readiness is shown (a page that shows more than it)."""
    return principal.role in READERS


def require_agreement_reader(principal: Principal) -> None:
    require(principal, *READERS, doing="read the agreement's readiness")


def may_read_progress(principal: Principal) -> bool:
    """The migration progress per school unit (the overview)."""
    return principal.role in PROGRESS_READERS


def require_progress_reader(principal: Principal) -> None:
    if not may_read_progress(principal):
        raise not_for(principal, PROGRESS_READERS, doing="read the migration progress")


def require_rollover_reader(principal: Principal) -> None:
    require(principal, *READERS, doing="read the rollover candidates")


# -- auditing and operations --------------------------------------------------------------

def require_log_proofs(principal: Principal, *, doing: str = "read inclusion proofs") -> None:
    """Proofs from the transparency log: auditors, and custodians who show one."""
    require(principal, *AUDITORS, Role.CUSTODIAN, doing=doing)


def may_audit(principal: Principal) -> bool:
    """Verifying and exporting the whole store."""
    return principal.role in AUDITORS


def require_audit(principal: Principal, *, doing: str = "audit the store") -> None:
    """See :func:`may_audit`."""
    if not may_audit(principal):
        raise not_for(principal, AUDITORS, doing=doing)


def require_metrics(principal: Principal) -> None:
    require(principal, Role.ADMIN, Role.AUDITOR, Role.ARCHIVIST, doing="read the metrics")
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


def may_read_culling_lists(principal: Principal) -> bool:
    """Culling lists: the archivist, custodians, principals, the admin and auditors."""
    return principal.role in (Role.ADMIN, Role.ARCHIVIST, Role.AUDITOR, Role.CUSTODIAN,
                              Role.PRINCIPAL)


def require_list_reader(principal: Principal) -> None:
    if may_read_culling_lists(principal):
        return
    raise NotAuthorisedError("culling lists are read by the archivist, custodians, principals, "
                             "the admin and auditors")


def require_external_receipt(principal: Principal, copy: Copy) -> None:
    """The receipt of a handover outside the municipality is recorded by the custodian of
    the school unit that handed the copy over, or by the archivist."""
    if records_external_receipt(principal, copy.school_id):
        return
    raise NotAuthorisedError(
        f"the receipt is recorded by the custodian of {copy.school_id} or the archivist")


def records_external_receipt(principal: Principal, school_id: str | None) -> bool:
    """Whether ``principal`` records the receipt of a copy that ``school_id`` handed over
    outside the municipality (:func:`require_external_receipt`)."""
    return principal.role is Role.ARCHIVIST or (
        principal.role is Role.CUSTODIAN and principal.school_id == school_id)


def hands_over_externally(principal: Principal, school_id: str | None) -> bool:
    """Whether ``principal`` hands a school copy held at ``school_id`` over outside the
    municipality: that school unit's custodian (:func:`require_custody_of`, school only)."""
    return is_school_custodian(principal) and principal.school_id == school_id


def require_staff_list(principal: Principal) -> None:
    """The staff list (names, roles, school units, revoked or not) is the admin's, who
    registers and revokes staff (``GET /api/v1/actors``)."""
    require(principal, Role.ADMIN, doing="list the staff")
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


def box_bound_disclosure(principal: Principal | None, *, protected: bool) -> Disclosure:
    """How a box's first or last personnummer (finding aid, delivery receipt) appears: to
    a reader as in every other list (:func:`disclosure`: auditors and the admin see the
    reference, a protected student is a reference to all but the archivist and the
    archive's custodian). ``None`` is the archive's own copy, the E-ARK SIP for the
    e-archive: an archival deliverable, like the paper archive copy, it keeps the number."""
    if principal is None:
        return Disclosure.IDENTITY
    return disclosure(principal, protected=protected)


ACCESS_LOG_READERS = (Role.ARCHIVIST, Role.AUDITOR)
"""Who reads a student's access log."""


def require_access_log_reader(principal: Principal) -> None:
    """A student's access log: the archivist and auditors."""
    require(principal, *ACCESS_LOG_READERS, doing="read a student's access log")


def require_register_extract(principal: Principal) -> None:
    """The register extract (GDPR art. 15) is produced by the archivist."""
    require(principal, Role.ARCHIVIST, doing="produce a register extract")


def knows_which_students_are_held(principal: Principal) -> bool:
    """Whether a caller may learn that a personnummer was never captured (the archivist);
    to everyone else an unknown student looks like one they may not read."""
    return principal.role is Role.ARCHIVIST


def not_readable() -> NotAuthorisedError:
    """The one refusal for a student one may not read, or that was never captured."""
    return NotAuthorisedError(NOT_READABLE).with_code("records_not_browsable")


def require_personal_data_work(principal: Principal, *, doing: str) -> None:
    """Protected identity (set, lifted) and renumbering are the archivist's."""
    require(principal, Role.ARCHIVIST, doing=doing)


# -- what the web pages offer (the use cases still decide) ---------------------------------

def does_archive_work(principal: Principal) -> bool:
    """Printing, filing, verifying: the archivist's work (:func:`require_archive_copy_work`)."""
    return principal.role in ARCHIVISTS


def is_school_custodian(principal: Principal) -> bool:
    """The designated custodian of a school unit (not of the archive)."""
    return principal.role is Role.CUSTODIAN and principal.school_id is not None


def require_school_custodian(principal: Principal, *, doing: str) -> None:
    """Work done at a school unit by its designated custodian (deliveries, receipts)."""
    if not is_school_custodian(principal):
        raise NotAuthorisedError(f"only a school unit's custodian may {doing}")


def own_school_scope(principal: Principal) -> str | None:
    """The school unit a custodian's or principal's lists are limited to (None: any)."""
    if principal.role in (Role.CUSTODIAN, Role.PRINCIPAL):
        return principal.school_id
    return None


def require_student_data_lookup(principal: Principal) -> None:
    """Reading a student's access log or extract by personnummer: decided on the role
    first, so a caller who may not read learns nothing about the number."""
    require(principal, *ACCESS_LOG_READERS, Role.ARCHIVIST,
            doing="read a student's personal data")


# -- culling lists and archive deliveries: who may take part at all -------------------------

def require_decision_registration(principal: Principal) -> None:
    """Culling decisions (the register) are entered by the archivist or the admin."""
    require(principal, Role.ARCHIVIST, Role.ADMIN, doing="register culling decisions")


def require_may_propose_lists(principal: Principal) -> None:
    """Decided before the items are looked at (see :func:`require_list_proposer`)."""
    require(principal, Role.ARCHIVIST, Role.PRINCIPAL, Role.CUSTODIAN,
            doing="propose culling lists")


def require_may_destroy(principal: Principal, *, doing: str) -> None:
    """Destruction is confirmed by a custodian (or the archivist for data the system
    holds); which copy by whom is :func:`require_destroyer`."""
    require(principal, Role.CUSTODIAN, Role.ARCHIVIST, doing=doing)


def may_read_archive_register(principal: Principal) -> bool:
    """Archive deliveries and the finding aid: the archive readers and the archive's
    custodian."""
    return principal.role in ARCHIVE_READERS or (
        principal.role is Role.CUSTODIAN and principal.school_id is None)


def require_archive_register_reader(principal: Principal) -> None:
    """Archive deliveries and the finding aid (:func:`may_read_archive_register`)."""
    if may_read_archive_register(principal):
        return
    raise NotAuthorisedError("archive deliveries and the finding aid are for the archivist, "
                             "the archive's custodian, the admin and auditors")


def require_archive_delivery(principal: Principal) -> None:
    require(principal, Role.ARCHIVIST, doing="deliver boxes to the archive")


def require_archive_custodian(principal: Principal, *, doing: str) -> None:
    """The designated custodian of the archive (no school unit)."""
    if not (principal.role is Role.CUSTODIAN and principal.school_id is None):
        raise NotAuthorisedError(f"only the archive's custodian may {doing}")


# -- what the personal-data and archive-register pages offer (the use cases still decide) --

def permits(check: Callable[[Principal], None], principal: Principal) -> bool:
    """Whether the rule ``check`` (one of the ``require_…`` functions above that takes only
    the principal) lets ``principal`` through: for showing a button or a link."""
    try:
        check(principal)
    except NotAuthorisedError:
        return False
    return True


def does_personal_data_work(principal: Principal) -> bool:
    """Protecting an identity, lifting it, renumbering (:func:`require_personal_data_work`)."""
    return permits(lambda p: require_personal_data_work(p, doing="change personal data"),
                   principal)
