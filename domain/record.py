"""A record under custody and its physical copies.

A record is either one student's documentation (elevdokumentation) or one item of
general information (allmän information). Student documentation is printed as one
archive copy, filed in personnummer order and checked, and as school copies kept at the
student's school unit; school copies are lent out on request, handed over to the next
school unit, or culled when the student has finished compulsory school.

The copies live inside the record aggregate, so that every rule which spans record and
copy (a hold blocks every cull; a school copy may be culled only once the student has
finished compulsory school) is checked against one consistent state, and every change
lands in one hash chain.

Personal data (personnummer, name, document titles) travels in each event's
``personal`` field; the store encrypts it under the key of ``subject`` so that
destroying that key (crypto-shredding) makes it unreadable while signatures still verify.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from domain.culling import (
    GENERAL_INFORMATION_CATEGORIES,
    Condition,
    LegalBasis,
    check_departure_passed,
    check_method,
)
from domain.documents import Document, documentation_fingerprint, require_documents
from domain.errors import (
    AlreadyCulledError,
    ArchiveCopyCannotBeCulledError,
    CopyOnLoanError,
    CullNotLawfulError,
    IllegalTransitionError,
    InvalidInputError,
    NotFoundError,
    RecordOnHoldError,
)
from domain.events import CustodyCreated, CustodyEvent, PersonalData
from domain.fingerprints import Fingerprint
from domain.personnummer import Personnummer


class Kind(StrEnum):
    STUDENT_DOCUMENTATION = "student_documentation"
    GENERAL_INFORMATION = "general_information"


class Purpose(StrEnum):
    ARCHIVE = "archive"
    SCHOOL = "school"


class CopyStatus(StrEnum):
    PRINTED = "printed"
    ARCHIVED = "archived"
    VERIFIED = "verified"
    DISCREPANCY = "discrepancy"
    REPLACED = "replaced"
    AT_SCHOOL = "at_school"
    IN_TRANSIT = "in_transit"
    CULLED = "culled"
    HANDED_OVER_EXTERNALLY = "handed_over_externally"


class DepartureReason(StrEnum):
    MOVED_WITHIN_MUNICIPALITY = "moved_within_municipality"
    MOVED_AWAY = "moved_away"
    FINISHED_COMPULSORY_SCHOOL = "finished_compulsory_school"


LIVE = frozenset(
    {
        CopyStatus.PRINTED,
        CopyStatus.ARCHIVED,
        CopyStatus.VERIFIED,
        CopyStatus.DISCREPANCY,
        CopyStatus.AT_SCHOOL,
        CopyStatus.IN_TRANSIT,
    }
)
LENDABLE = frozenset({CopyStatus.AT_SCHOOL, CopyStatus.ARCHIVED, CopyStatus.VERIFIED})


@dataclass
class Copy:
    """One physical printout. Mutable only through its record's events."""

    id: UUID
    purpose: Purpose
    status: CopyStatus
    school_id: str | None
    subject: UUID
    contents: PersonalData | None
    box: str | None = None
    shelf: str | None = None
    loan_request_id: UUID | None = None
    loan_actor: str | None = None
    verification: str | None = None
    verification_note: str | None = None
    replaces: UUID | None = None
    replaced_by: UUID | None = None
    certificate_id: UUID | None = None
    external_receipt: str | None = None

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    @property
    def on_loan(self) -> bool:
        return self.loan_request_id is not None


@dataclass(frozen=True)
class Departure:
    reason: DepartureReason
    to_school_id: str | None
    date: dt.date


def parse_date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{field} must be a date YYYY-MM-DD, not {value!r}",
                                field=field).with_code("date_format") from None


class Record(BaseAggregate[UUID]):
    TOPIC = "custody:Record"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class StudentDocumentationCaptured(Event, CustodyCreated):
        """Taken by hand from Unikum; ``fingerprint`` commits to every document's hash."""

        TOPIC = "custody:Record.StudentDocumentationCaptured"
        subject: UUID
        personal: PersonalData | None
        school_id: str
        document_count: int
        fingerprint: str

        def apply(self, record: Record) -> None:
            record._init(Kind.STUDENT_DOCUMENTATION, self.school_id, self.subject, self.personal)
            record.document_count = self.document_count
            record.fingerprint = self.fingerprint

    class GeneralInformationCaptured(Event, CustodyCreated):
        TOPIC = "custody:Record.GeneralInformationCaptured"
        subject: UUID
        personal: PersonalData | None
        school_id: str
        category: str
        sha256: str

        def apply(self, record: Record) -> None:
            record._init(Kind.GENERAL_INFORMATION, self.school_id, self.subject, self.personal)
            record.category = self.category
            record.document_count = 1
            record.fingerprint = self.sha256

    class CopyPrinted(Event):
        TOPIC = "custody:Record.CopyPrinted"
        copy_id: UUID
        purpose: str
        school_id: str | None
        subject: UUID
        personal: PersonalData | None
        replaces: UUID | None

        def apply(self, record: Record) -> None:
            record.copies[self.copy_id] = Copy(
                id=self.copy_id,
                purpose=Purpose(self.purpose),
                status=CopyStatus.PRINTED,
                school_id=self.school_id,
                subject=self.subject,
                contents=self.personal,
                replaces=self.replaces,
            )
            if self.replaces is not None:
                old = record.copies[self.replaces]
                old.status = CopyStatus.REPLACED
                old.replaced_by = self.copy_id

    class CopyArchived(Event):
        TOPIC = "custody:Record.CopyArchived"
        copy_id: UUID
        box: str
        shelf: str | None

        def apply(self, record: Record) -> None:
            copy = record.copies[self.copy_id]
            copy.status = CopyStatus.ARCHIVED
            copy.box = self.box
            copy.shelf = self.shelf

    class CopyVerified(Event):
        TOPIC = "custody:Record.CopyVerified"
        copy_id: UUID
        outcome: str
        note: str | None

        def apply(self, record: Record) -> None:
            copy = record.copies[self.copy_id]
            copy.verification = self.outcome
            copy.verification_note = self.note
            if self.outcome == "discrepancy":
                copy.status = CopyStatus.DISCREPANCY
            elif copy.purpose is Purpose.ARCHIVE:
                copy.status = CopyStatus.VERIFIED

    class CopyDelivered(Event):
        TOPIC = "custody:Record.CopyDelivered"
        copy_id: UUID
        school_id: str

        def apply(self, record: Record) -> None:
            copy = record.copies[self.copy_id]
            copy.status = CopyStatus.AT_SCHOOL
            copy.school_id = self.school_id

    class CopyLent(Event):
        TOPIC = "custody:Record.CopyLent"
        copy_id: UUID
        request_id: UUID
        to_actor: str

        def apply(self, record: Record) -> None:
            copy = record.copies[self.copy_id]
            copy.loan_request_id = self.request_id
            copy.loan_actor = self.to_actor

    class CopyReturned(Event):
        TOPIC = "custody:Record.CopyReturned"
        copy_id: UUID
        request_id: UUID

        def apply(self, record: Record) -> None:
            copy = record.copies[self.copy_id]
            copy.loan_request_id = None
            copy.loan_actor = None

    class CopyTransferred(Event):
        TOPIC = "custody:Record.CopyTransferred"
        copy_id: UUID
        from_school_id: str
        to_school_id: str
        reason: str

        def apply(self, record: Record) -> None:
            copy = record.copies[self.copy_id]
            copy.status = CopyStatus.IN_TRANSIT
            copy.school_id = self.to_school_id
            record.school_id = self.to_school_id

    class CopyReceived(Event):
        TOPIC = "custody:Record.CopyReceived"
        copy_id: UUID
        school_id: str

        def apply(self, record: Record) -> None:
            record.copies[self.copy_id].status = CopyStatus.AT_SCHOOL

    class CopyCulled(Event):
        TOPIC = "custody:Record.CopyCulled"
        copy_id: UUID
        certificate_id: UUID
        decision: str
        point: int
        condition: str
        method: str
        witness: str | None
        commitment: str
        shredded_subject: UUID
        culling_list_id: UUID | None
        destroyed_on: str | None
        contractor_reference: str | None

        def apply(self, record: Record) -> None:
            copy = record.copies[self.copy_id]
            copy.status = CopyStatus.CULLED
            copy.certificate_id = self.certificate_id
            copy.contents = None

    class Culled(Event):
        """General information destroyed under point 1 of the decision."""

        TOPIC = "custody:Record.Culled"
        certificate_id: UUID
        decision: str
        point: int
        condition: str
        method: str
        witness: str | None
        commitment: str
        shredded_subject: UUID

        def apply(self, record: Record) -> None:
            record.culled = True
            record.certificate_id = self.certificate_id
            record.personal = None

    class CopyHandedOverExternally(Event):
        """Handed to a school of another organiser (skollagen 3 kap. 12 j §)."""

        TOPIC = "custody:Record.CopyHandedOverExternally"
        copy_id: UUID
        from_school_id: str
        organiser: str
        school: str
        receipt_reference: str | None

        def apply(self, record: Record) -> None:
            copy = record.copies[self.copy_id]
            copy.status = CopyStatus.HANDED_OVER_EXTERNALLY
            copy.external_receipt = self.receipt_reference

    class ExternalHandoverReceipted(Event):
        TOPIC = "custody:Record.ExternalHandoverReceipted"
        copy_id: UUID
        receipt_reference: str

        def apply(self, record: Record) -> None:
            record.copies[self.copy_id].external_receipt = self.receipt_reference

    class EnteredIntoIst(Event):
        TOPIC = "custody:Record.EnteredIntoIst"
        note: str | None

        def apply(self, record: Record) -> None:
            record.ist_entered = True

    class StudentDeparted(Event):
        TOPIC = "custody:Record.StudentDeparted"
        reason: str
        from_school_id: str
        to_school_id: str | None
        date: str

        def apply(self, record: Record) -> None:
            record.departure = Departure(
                DepartureReason(self.reason), self.to_school_id, dt.date.fromisoformat(self.date)
            )

    class HoldPlaced(Event):
        TOPIC = "custody:Record.HoldPlaced"
        hold_id: UUID
        reason: str

        def apply(self, record: Record) -> None:
            record.holds[self.hold_id] = self.reason

    class HoldLifted(Event):
        TOPIC = "custody:Record.HoldLifted"
        hold_id: UUID
        reason: str

        def apply(self, record: Record) -> None:
            del record.holds[self.hold_id]

    class ProtectionSet(Event):
        """Protected identity (skyddade personuppgifter): the reason is sealed."""

        TOPIC = "custody:Record.ProtectionSet"
        subject: UUID
        personal: PersonalData | None

        def apply(self, record: Record) -> None:
            record.protected = True

    class ProtectionLifted(Event):
        TOPIC = "custody:Record.ProtectionLifted"

        def apply(self, record: Record) -> None:
            record.protected = False

    class Renumbered(Event):
        """The tax agency gave the student a new personnummer; ``alias_id`` is the new
        number's blind index (it leads to this record), the numbers themselves sealed."""

        TOPIC = "custody:Record.Renumbered"
        subject: UUID
        personal: PersonalData | None
        alias_id: UUID

        def apply(self, record: Record) -> None:
            if record.personal is not None and self.personal is not None:
                record.personal = {**record.personal,
                                   "personnummer": self.personal["personnummer"]}

    kind: Kind
    school_id: str
    subject: UUID
    personal: PersonalData | None
    document_count: int
    fingerprint: str
    category: str | None
    copies: dict[UUID, Copy]
    holds: dict[UUID, str]
    departure: Departure | None
    ist_entered: bool
    culled: bool
    certificate_id: UUID | None
    protected: bool

    def _init(
        self, kind: Kind, school_id: str, subject: UUID, personal: PersonalData | None
    ) -> None:
        self.kind = kind
        self.school_id = school_id
        self.subject = subject
        self.personal = personal
        self.category = None
        self.copies = {}
        self.holds = {}
        self.departure = None
        self.ist_entered = False
        self.culled = False
        self.certificate_id = None
        self.protected = False

    # ---- capture -------------------------------------------------------------------

    @classmethod
    def capture_student_documentation(
        cls,
        record_id: UUID,
        *,
        subject: UUID,
        personnummer: Personnummer,
        name: str,
        school_id: str,
        class_name: str | None,
        documents: Sequence[Document],
        actor: str,
    ) -> Record:
        """The rules of a capture are checked here and in the value objects it is given
        (:class:`Personnummer`, :class:`Document`), once for every door."""
        name = name.strip()
        if not name:
            raise InvalidInputError("the student's name is missing", field="name").with_code(
                "student_name_missing")
        require_documents(documents)
        personal = {
            "personnummer": personnummer.formatted(),
            "name": name,
            "class": class_name or None,
            "documents": [document.as_event() for document in documents],
        }
        return cls._create(
            cls.StudentDocumentationCaptured,
            id=record_id,
            subject=subject,
            personal=personal,
            school_id=school_id,
            document_count=len(documents),
            fingerprint=documentation_fingerprint(documents).hex,
            actor=actor,
        )

    @classmethod
    def capture_general_information(
        cls,
        record_id: UUID,
        *,
        subject: UUID,
        category: str,
        title: str,
        school_id: str,
        sha256: Fingerprint,
        actor: str,
    ) -> Record:
        if category not in GENERAL_INFORMATION_CATEGORIES:
            raise InvalidInputError(
                f"category {category!r} is not general information; use one of "
                f"{', '.join(sorted(GENERAL_INFORMATION_CATEGORIES))}",
                field="category",
            )
        if not title.strip():
            raise InvalidInputError("the title is missing", field="title").with_code(
                "title_missing")
        return cls._create(
            cls.GeneralInformationCaptured,
            id=record_id,
            subject=subject,
            personal={"title": title.strip()},
            category=category,
            school_id=school_id,
            sha256=sha256.hex,
            actor=actor,
        )

    # ---- queries -------------------------------------------------------------------

    def copy(self, copy_id: UUID) -> Copy:
        try:
            return self.copies[copy_id]
        except KeyError:
            raise NotFoundError(f"record {self.id} has no copy {copy_id}").with_code(
                "copy_not_found", copy_id=str(copy_id)) from None

    @property
    def archive_copy(self) -> Copy | None:
        """The archive copy that counts: the live one, never a replaced one."""
        for copy in self.copies.values():
            if copy.purpose is Purpose.ARCHIVE and copy.is_live:
                return copy
        return None

    @property
    def school_copy(self) -> Copy | None:
        for copy in self.copies.values():
            if copy.purpose is Purpose.SCHOOL and copy.is_live:
                return copy
        return None

    @property
    def is_student_documentation(self) -> bool:
        return self.kind is Kind.STUDENT_DOCUMENTATION

    def _require_student_documentation(self, what: str) -> None:
        if not self.is_student_documentation:
            raise IllegalTransitionError(f"{what} applies to student documentation only").with_code(
                "student_documentation_only")

    def _require_live(self, copy: Copy, what: str) -> None:
        if copy.status is CopyStatus.CULLED:
            raise AlreadyCulledError(f"cannot {what}: copy {copy.id} was culled").with_code(
                "copy_culled", copy_id=str(copy.id))
        if not copy.is_live:
            raise IllegalTransitionError(
                f"cannot {what}: copy {copy.id} was {copy.status.value}"
            )

    # ---- printing, archiving, verification, delivery -------------------------------

    def print_copy(
        self,
        purpose: Purpose,
        *,
        copy_id: UUID,
        subject: UUID,
        school_id: str | None,
        actor: str,
    ) -> None:
        self._require_student_documentation("printing copies")
        if purpose is Purpose.ARCHIVE:
            if school_id is not None:
                raise InvalidInputError("an archive copy is not printed for a school unit",
                                        field="school_id").with_code("archive_copy_for_school")
            if self.archive_copy is not None:
                raise IllegalTransitionError(
                    "the student's documentation already has an archive copy; only a copy "
                    "whose verification found a discrepancy is replaced, by a reprint"
                ).with_code("archive_copy_exists")
        else:
            if not school_id:
                raise InvalidInputError("a school copy names its school unit",
                                        field="school_id").with_code("school_copy_school_missing")
            if self.school_copy is not None:
                raise IllegalTransitionError(
                    f"the student already has a school copy ({self.school_copy.id})"
                ).with_code("school_copy_exists", copy_id=str(self.school_copy.id))
        self.trigger_event(
            self.CopyPrinted,
            copy_id=copy_id,
            purpose=purpose.value,
            school_id=school_id,
            subject=subject,
            personal=self._copy_contents(),
            replaces=None,
            actor=actor,
        )

    def reprint(self, copy_id: UUID, *, new_copy_id: UUID, subject: UUID, actor: str) -> None:
        """Replace a copy whose verification found a discrepancy."""
        old = self.copy(copy_id)
        if old.status is not CopyStatus.DISCREPANCY:
            raise IllegalTransitionError(
                f"only a copy whose verification found a discrepancy is reprinted; "
                f"copy {copy_id} is {old.status.value}"
            ).with_code("reprint_without_discrepancy", copy_id=str(copy_id))
        self.trigger_event(
            self.CopyPrinted,
            copy_id=new_copy_id,
            purpose=old.purpose.value,
            school_id=old.school_id,
            subject=subject,
            personal=self._copy_contents(),
            replaces=copy_id,
            actor=actor,
        )

    def _copy_contents(self) -> PersonalData | None:
        # What is printed on the copy's folder and contents list, sealed under the
        # copy's own key so that culling the copy can shred it alone.
        if self.personal is None:
            return None
        return {
            "label": f"{self.personal.get('personnummer')} {self.personal.get('name')}",
            "titles": [d.get("title") for d in self.personal.get("documents", [])],
        }

    def archive(self, copy_id: UUID, *, box: str, shelf: str | None, actor: str) -> None:
        copy = self.copy(copy_id)
        if copy.purpose is not Purpose.ARCHIVE:
            raise IllegalTransitionError("only the archive copy is filed in the archive").with_code(
                "only_archive_copy_filed")
        if copy.status is not CopyStatus.PRINTED:
            raise IllegalTransitionError(
                f"copy {copy_id} is {copy.status.value}; only a printed copy is filed"
            ).with_code("copy_not_printed_for_filing", copy_id=str(copy_id))
        box = box.strip()
        if not box:
            raise InvalidInputError("the archive box is missing", field="box").with_code(
                "archive_box_missing")
        self.trigger_event(self.CopyArchived, copy_id=copy_id, box=box, shelf=shelf, actor=actor)

    def verify(self, copy_id: UUID, *, outcome: str, note: str | None, actor: str) -> None:
        if outcome not in ("ok", "discrepancy"):
            raise InvalidInputError("outcome must be 'ok' or 'discrepancy'",
                                    field="outcome").with_code("verification_outcome_invalid")
        copy = self.copy(copy_id)
        self._require_live(copy, "verify")
        if copy.purpose is Purpose.ARCHIVE and copy.status is not CopyStatus.ARCHIVED:
            raise IllegalTransitionError(
                f"the archive copy is checked once it is filed; it is {copy.status.value}"
            ).with_code("archive_copy_not_filed")
        if copy.verification == "ok":
            raise IllegalTransitionError(f"copy {copy_id} was already verified").with_code(
                "copy_already_verified", copy_id=str(copy_id))
        if outcome == "discrepancy" and not (note or "").strip():
            raise InvalidInputError("say what the discrepancy is", field="note").with_code(
                "discrepancy_note_missing")
        self.trigger_event(self.CopyVerified, copy_id=copy_id, outcome=outcome, note=note,
                           actor=actor)

    def deliver(self, copy_id: UUID, *, school_id: str, actor: str) -> None:
        copy = self.copy(copy_id)
        if copy.purpose is not Purpose.SCHOOL:
            raise IllegalTransitionError("the archive copy stays in the archive").with_code(
                "archive_copy_not_delivered")
        if copy.status is not CopyStatus.PRINTED:
            raise IllegalTransitionError(
                f"copy {copy_id} is {copy.status.value}; only a printed copy is delivered"
            ).with_code("copy_not_printed_for_delivery", copy_id=str(copy_id))
        if school_id != copy.school_id:
            raise IllegalTransitionError(
                f"copy {copy_id} was printed for {copy.school_id}, not {school_id}"
            ).with_code("copy_printed_for_other_school", copy_id=str(copy_id),
                        printed_for=copy.school_id, school_id=school_id)
        self.trigger_event(self.CopyDelivered, copy_id=copy_id, school_id=school_id, actor=actor)

    # ---- loans ----------------------------------------------------------------------

    def lend(self, copy_id: UUID, *, request_id: UUID, to_actor: str, actor: str) -> None:
        copy = self.copy(copy_id)
        self._require_live(copy, "hand out")
        if copy.on_loan:
            raise CopyOnLoanError(f"copy {copy_id} is already on loan").with_code(
                "copy_on_loan", copy_id=str(copy_id))
        if copy.status not in LENDABLE:
            raise IllegalTransitionError(
                f"copy {copy_id} is {copy.status.value} and cannot be handed out"
            )
        self.trigger_event(self.CopyLent, copy_id=copy_id, request_id=request_id,
                           to_actor=to_actor, actor=actor)

    def take_back(self, copy_id: UUID, *, request_id: UUID, actor: str) -> None:
        copy = self.copy(copy_id)
        if copy.loan_request_id != request_id:
            raise IllegalTransitionError(f"copy {copy_id} is not on loan for request {request_id}")
        self.trigger_event(self.CopyReturned, copy_id=copy_id, request_id=request_id, actor=actor)

    # ---- transfer -------------------------------------------------------------------

    def transfer(self, copy_id: UUID, *, to_school_id: str, reason: str, actor: str) -> None:
        copy = self.copy(copy_id)
        self._require_live(copy, "transfer")
        if copy.purpose is not Purpose.SCHOOL:
            raise IllegalTransitionError("the archive copy is never transferred").with_code(
                "archive_copy_not_transferred")
        if copy.on_loan:
            raise CopyOnLoanError(f"copy {copy_id} is on loan; it must be returned first"
                                  ).with_code("copy_on_loan", copy_id=str(copy_id))
        if copy.status is not CopyStatus.AT_SCHOOL:
            raise IllegalTransitionError(
                f"copy {copy_id} is {copy.status.value}; only a copy held at a school unit "
                "is handed over"
            ).with_code("copy_not_at_school", copy_id=str(copy_id))
        if to_school_id == copy.school_id:
            raise IllegalTransitionError(f"copy {copy_id} is already at {to_school_id}").with_code(
                "copy_already_at_school", copy_id=str(copy_id), school_id=to_school_id)
        self.trigger_event(
            self.CopyTransferred,
            copy_id=copy_id,
            from_school_id=copy.school_id,
            to_school_id=to_school_id,
            reason=reason,
            actor=actor,
        )

    def receive(self, copy_id: UUID, *, school_id: str, actor: str) -> None:
        copy = self.copy(copy_id)
        if copy.status is not CopyStatus.IN_TRANSIT or copy.school_id != school_id:
            raise IllegalTransitionError(f"copy {copy_id} is not on its way to {school_id}"
                                         ).with_code("copy_not_on_its_way", copy_id=str(copy_id),
                                                     school_id=school_id)
        self.trigger_event(self.CopyReceived, copy_id=copy_id, school_id=school_id, actor=actor)

    # ---- culling --------------------------------------------------------------------

    def _require_no_hold(self) -> None:
        if self.holds:
            reasons = "; ".join(self.holds.values())
            raise RecordOnHoldError(f"the record is on hold ({reasons}); nothing may be culled"
                                    ).with_code("record_on_hold", reasons=reasons)

    def cullable_copy(self, copy_id: UUID, basis: LegalBasis, *, today: dt.date) -> str:
        """Check that this copy may be culled under ``basis`` now; the condition that
        holds, in words. Used when a copy is put on a culling list and again when its
        destruction is confirmed."""
        copy = self.copy(copy_id)
        if copy.purpose is Purpose.ARCHIVE and self.is_student_documentation:
            raise ArchiveCopyCannotBeCulledError(
                "the archive copy of student documentation is preserved (point 2 of the "
                "decision) and is never culled"
            ).with_code("archive_copy_never_culled")
        if copy.status is CopyStatus.CULLED:
            raise AlreadyCulledError(f"copy {copy_id} was already culled").with_code(
                "copy_already_culled", copy_id=str(copy_id))
        if not copy.is_live:
            raise IllegalTransitionError(f"copy {copy_id} is {copy.status.value}")
        self._require_no_hold()
        if copy.on_loan:
            raise CopyOnLoanError(f"copy {copy_id} is on loan; it must be returned first"
                                  ).with_code("copy_on_loan", copy_id=str(copy_id))
        return self._condition_holds(basis, today=today)

    def _condition_holds(self, basis: LegalBasis, *, today: dt.date) -> str:
        departure = self.departure
        if basis.allows is Condition.GENERAL_INFORMATION:
            if self.is_student_documentation:
                raise CullNotLawfulError(
                    f"point {basis.point} of {basis.decision} allows culling general "
                    "information only, not student documentation")
            return f"general information of category {self.category}"
        if basis.allows is Condition.SCHOOL_COPY_AFTER_FINISHING:
            if departure is None or (
                    departure.reason is not DepartureReason.FINISHED_COMPULSORY_SCHOOL):
                raise CullNotLawfulError(
                    "a school copy is culled only when its student has finished compulsory "
                    "school; otherwise it is handed over to the next school unit"
                ).with_code("school_copy_not_finished")
            check_departure_passed(departure.date, today, "finished compulsory school")
            return f"student finished compulsory school on {departure.date.isoformat()}"
        if basis.allows is Condition.SCHOOL_COPY_AFTER_MOVING_AWAY:
            if departure is None or departure.reason is not DepartureReason.MOVED_AWAY:
                raise CullNotLawfulError(
                    f"point {basis.point} of {basis.decision} allows culling the school copy "
                    "of a student who moved away from the municipality only")
            check_departure_passed(departure.date, today, "moved away")
            return f"student moved away from the municipality on {departure.date.isoformat()}"
        raise CullNotLawfulError(f"point {basis.point} of {basis.decision} allows no cull")

    def cull_copy(
        self,
        copy_id: UUID,
        *,
        basis: LegalBasis,
        method: str,
        witness: str | None,
        certificate_id: UUID,
        commitment: str,
        today: dt.date,
        actor: str,
        culling_list_id: UUID | None = None,
        destroyed_on: dt.date | None = None,
        contractor_reference: str | None = None,
    ) -> None:
        copy = self.copy(copy_id)
        if basis.allows is Condition.GENERAL_INFORMATION and copy.purpose is Purpose.SCHOOL:
            raise CullNotLawfulError(
                f"point {basis.point} of {basis.decision} allows culling general information "
                "only, not a school copy")
        condition = self.cullable_copy(copy_id, basis, today=today)
        if destroyed_on is not None and destroyed_on > today:
            raise InvalidInputError("the destruction cannot be dated in the future",
                                    field="date")
        self.trigger_event(
            self.CopyCulled,
            copy_id=copy_id,
            certificate_id=certificate_id,
            decision=basis.decision,
            point=basis.point,
            condition=condition,
            method=check_method(method),
            witness=witness,
            commitment=commitment,
            shredded_subject=copy.subject,
            culling_list_id=culling_list_id,
            destroyed_on=(destroyed_on or today).isoformat(),
            contractor_reference=contractor_reference,
            actor=actor,
        )

    def check_record_cullable(self, basis: LegalBasis, *, today: dt.date) -> str:
        if self.is_student_documentation:
            raise ArchiveCopyCannotBeCulledError(
                "student documentation is preserved on paper (point 2 of the decision); only "
                "its school copies are culled, one by one"
            )
        if self.culled:
            raise AlreadyCulledError(f"record {self.id} was already culled").with_code(
                "record_already_culled", record_id=str(self.id))
        self._require_no_hold()
        return self._condition_holds(basis, today=today)

    def cull(
        self,
        *,
        basis: LegalBasis,
        method: str,
        witness: str | None,
        certificate_id: UUID,
        commitment: str,
        today: dt.date,
        actor: str,
    ) -> None:
        condition = self.check_record_cullable(basis, today=today)
        self.trigger_event(
            self.Culled,
            certificate_id=certificate_id,
            decision=basis.decision,
            point=basis.point,
            condition=condition,
            method=check_method(method),
            witness=witness,
            commitment=commitment,
            shredded_subject=self.subject,
            actor=actor,
        )

    # ---- handover outside the municipality ------------------------------------------

    def hand_over_externally(self, copy_id: UUID, *, organiser: str, school: str,
                             receipt_reference: str | None, actor: str) -> None:
        """Skollagen 3 kap. 12 j §: the school copy of a student who moved away goes to
        the receiving organiser's school, with a receipt."""
        copy = self.copy(copy_id)
        self._require_live(copy, "hand over")
        if copy.purpose is not Purpose.SCHOOL:
            raise IllegalTransitionError("the archive copy is never handed over")
        if self.departure is None or self.departure.reason is not DepartureReason.MOVED_AWAY:
            raise IllegalTransitionError(
                "a copy is handed over to another organiser only when its student moved "
                "away from the municipality")
        if copy.on_loan:
            raise CopyOnLoanError(f"copy {copy_id} is on loan; it must be returned first"
                                  ).with_code("copy_on_loan", copy_id=str(copy_id))
        if copy.status is not CopyStatus.AT_SCHOOL:
            raise IllegalTransitionError(
                f"copy {copy_id} is {copy.status.value}; only a copy held at a school unit "
                "is handed over").with_code("copy_not_at_school", copy_id=str(copy_id))
        if not organiser.strip():
            raise InvalidInputError("name the receiving organiser (huvudman)",
                                    field="organiser")
        if not school.strip():
            raise InvalidInputError("name the receiving school", field="school")
        self.trigger_event(
            self.CopyHandedOverExternally, copy_id=copy_id, from_school_id=copy.school_id or "",
            organiser=organiser.strip(), school=school.strip(),
            receipt_reference=(receipt_reference or "").strip() or None, actor=actor)

    def record_external_receipt(self, copy_id: UUID, *, receipt_reference: str,
                                actor: str) -> None:
        copy = self.copy(copy_id)
        if copy.status is not CopyStatus.HANDED_OVER_EXTERNALLY:
            raise IllegalTransitionError(
                f"copy {copy_id} was not handed over outside the municipality")
        if copy.external_receipt is not None:
            raise IllegalTransitionError(f"the receipt for copy {copy_id} is recorded already")
        if not receipt_reference.strip():
            raise InvalidInputError("the receipt needs a reference", field="receipt_reference")
        self.trigger_event(self.ExternalHandoverReceipted, copy_id=copy_id,
                           receipt_reference=receipt_reference.strip(), actor=actor)

    # ---- IST-lärande, departures, holds ---------------------------------------------

    def enter_into_ist(self, *, note: str | None, actor: str) -> None:
        self._require_student_documentation("entry into IST-lärande")
        if self.ist_entered:
            raise IllegalTransitionError("the student was already entered into IST-lärande"
                                         ).with_code("already_entered_into_ist")
        self.trigger_event(self.EnteredIntoIst, note=note, actor=actor)

    def record_departure(
        self, *, reason: DepartureReason, to_school_id: str | None, date: dt.date, actor: str,
        today: dt.date, born: dt.date,
    ) -> None:
        self._require_student_documentation("a departure")
        if date > today:
            raise InvalidInputError(
                f"a departure is recorded once it happened; {date.isoformat()} is in the "
                f"future (today is {today.isoformat()})", field="date")
        if date < born:
            raise InvalidInputError(
                f"the student was born on {born.isoformat()}, after {date.isoformat()}",
                field="date")
        if self.departure is not None and (
            self.departure.reason is DepartureReason.FINISHED_COMPULSORY_SCHOOL
        ):
            raise IllegalTransitionError("the student has already finished compulsory school"
                                         ).with_code("already_finished_school")
        if reason is DepartureReason.MOVED_WITHIN_MUNICIPALITY:
            if not to_school_id:
                raise InvalidInputError(
                    "a move within the municipality names the next school unit",
                    field="to_school_id",
                ).with_code("next_school_missing")
            if to_school_id == self.school_id:
                raise InvalidInputError(
                    f"the student already attends {to_school_id}", field="to_school_id"
                ).with_code("already_attends", school_id=to_school_id)
        elif to_school_id is not None:
            raise InvalidInputError(
                f"no next school unit within the municipality when the reason is {reason.value}",
                field="to_school_id",
            ).with_code("next_school_not_for_reason")
        self.trigger_event(
            self.StudentDeparted,
            reason=reason.value,
            from_school_id=self.school_id,
            to_school_id=to_school_id,
            date=date.isoformat(),
            actor=actor,
        )

    def place_hold(self, *, hold_id: UUID, reason: str, actor: str) -> None:
        if not reason.strip():
            raise InvalidInputError("a hold states its reason", field="reason").with_code(
                "hold_reason_missing")
        self.trigger_event(self.HoldPlaced, hold_id=hold_id, reason=reason.strip(), actor=actor)

    def lift_hold(self, hold_id: UUID, *, reason: str, actor: str) -> None:
        if hold_id not in self.holds:
            raise NotFoundError(f"record {self.id} has no hold {hold_id}").with_code(
                "hold_not_found", hold_id=str(hold_id))
        self.trigger_event(self.HoldLifted, hold_id=hold_id, reason=reason, actor=actor)

    # ---- personal data: protected identity, renumbering -----------------------------

    def protect(self, *, reason: str | None, actor: str) -> None:
        self._require_student_documentation("protected identity")
        if self.protected:
            raise IllegalTransitionError("the student's identity is protected already")
        self.trigger_event(self.ProtectionSet, subject=self.subject,
                           personal={"reason": (reason or "").strip() or None}, actor=actor)

    def lift_protection(self, *, actor: str) -> None:
        if not self.protected:
            raise IllegalTransitionError("the student's identity is not protected")
        self.trigger_event(self.ProtectionLifted, actor=actor)

    def renumber(self, *, new_personnummer: str, alias_id: UUID, actor: str) -> None:
        self._require_student_documentation("a renumbering")
        if self.personal is None:
            raise IllegalTransitionError("the student's personal data was culled")
        previous = str(self.personal.get("personnummer"))
        if previous == new_personnummer:
            raise InvalidInputError("that is the student's personnummer already",
                                    field="new_personnummer")
        self.trigger_event(self.Renumbered, subject=self.subject, alias_id=alias_id,
                           personal={"personnummer": new_personnummer, "previous": previous},
                           actor=actor)
