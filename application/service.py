"""The custody application: one method per command, each load → command → one ``save``.

Every method takes the acting :class:`Principal`, checks policy, runs the domain
command (which checks the rule and triggers the event) and saves every changed
aggregate in one ``save``, so they commit together or not at all. A stale write
becomes :class:`ConcurrentChangeError`; nothing half-done is ever stored.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    IntegrityError,
    Mapper,
    Recording,
)

from application.policy import (
    Principal,
    assignments_count_at_request,
    copy_location,
    knows_which_students_are_held,
    not_readable,
    refused_request,
    request_refusal,
    require_archive_copy_work,
    require_capture,
    require_cull_general_information,
    require_custody_of,
    require_deciding_custodian,
    require_departure_recording,
    require_external_receipt,
    require_hold_work,
    require_personal_data_work,
    require_school_staff,
    require_set_up,
)
from application.ports import Clock, StorePorts, TokenEntry, TokenIndex
from domain.actor import Actor, parse_role
from domain.agreement import AGREEMENT_ID
from domain.culling import (
    DECISION_ID,
    CullingDecision,
    LegalBasis,
    UnknownCullingBasisError,
    decision_aggregate_id,
    normalise_decision_id,
    seed_decision,
)
from domain.errors import (
    AgreementTerminatedError,
    AlreadyExistsError,
    ConcurrentChangeError,
    IllegalTransitionError,
    InvalidInputError,
    NotAuthenticatedError,
    NotAuthorisedError,
    NotFoundError,
)
from domain.fingerprints import is_sha256
from domain.personnummer import InvalidPersonnummerError, Personnummer
from domain.privacy import StudentAlias
from domain.record import Copy, CopyStatus, DepartureReason, Purpose, Record, parse_date
from domain.request import DocumentRequest
from domain.school import ARCHIVE, SchoolUnit, check_school_code, school_unit_id

A = TypeVar("A", bound=BaseAggregate[UUID])


def parse_personnummer(text: str, field: str = "personnummer") -> Personnummer:
    try:
        return Personnummer.parse(text)
    except InvalidPersonnummerError as error:
        raise InvalidInputError(f"personnummer: {error}", field=field).with_code(
            error.code, **error.params) from None


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class MemoryTokenIndex:
    """For a custody application built without a database index (unit use only)."""

    def __init__(self) -> None:
        self._rows: dict[str, TokenEntry] = {}

    def add(self, token_sha256: str, entry: TokenEntry) -> None:
        self._rows[token_sha256] = entry

    def find(self, token_sha256: str) -> TokenEntry | None:
        return self._rows.get(token_sha256)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def actor_id_for_token(token: str) -> UUID:
    """Actors are found by their token without any index: the id is derived from it."""
    return UUID(bytes=hashlib.sha256(b"actor-token:" + token.encode()).digest()[:16], version=4)


@dataclass(frozen=True)
class DocumentIn:
    title: str
    category: str
    sha256: str
    pages: int


@dataclass(frozen=True)
class StudentCapture:
    personnummer: str
    name: str
    school_id: str
    class_name: str | None
    documents: Sequence[DocumentIn]


@dataclass(frozen=True)
class CullResult:
    certificate_id: UUID
    record_id: UUID
    copy_id: UUID | None
    seq: int | None


def check_documents(documents: Sequence[DocumentIn]) -> list[dict[str, Any]]:
    if not documents:
        raise InvalidInputError("student documentation needs at least one document",
                                field="documents")
    checked = []
    for index, doc in enumerate(documents):
        where = f"documents[{index}]"
        if not doc.title.strip():
            raise InvalidInputError(f"{where}.title is empty", field=f"{where}.title")
        if not doc.category.strip():
            raise InvalidInputError(f"{where}.category is empty", field=f"{where}.category")
        check_sha256(doc.sha256, f"{where}.sha256")
        if doc.pages < 1:
            raise InvalidInputError(f"{where}.pages must be at least 1", field=f"{where}.pages")
        checked.append({"title": doc.title.strip(), "category": doc.category.strip(),
                        "sha256": doc.sha256, "pages": doc.pages})
    return checked


def check_sha256(value: str, field: str) -> str:
    if not is_sha256(value):
        raise InvalidInputError(f"{field} must be 64 lower-case hex digits (SHA-256)",
                                field=field)
    return value


def fingerprint(documents: Sequence[dict[str, Any]]) -> str:
    """One hash over every document's hash: the capture's fingerprint of what was taken."""
    joined = "\n".join(sorted(str(d["sha256"]) for d in documents))
    return hashlib.sha256(joined.encode()).hexdigest()


class Custody(Application[UUID]):
    name = "Custody"

    def __init__(self, env: dict[str, str] | None, ports: StorePorts) -> None:
        self.ports = ports
        self.keys = ports.key_vault
        self.blind = ports.blind_index
        self.listeners: list[Callable[[int, int], None]] = []
        self.commit_watchers: list[Callable[[list[Recording[UUID]]], None]] = []
        """Told each commit's recordings (events and positions), after ``listeners``."""
        self.token_index: TokenIndex = ports.token_index or MemoryTokenIndex()
        self.clock: Clock = ports.clock or SystemClock()
        self._actors: dict[UUID, Actor] = {}
        self.gate = ports.agreement_gate
        super().__init__(env)

    @staticmethod
    def today() -> dt.date:
        """The date conditions are checked against (departures, destructions)."""
        return dt.datetime.now(dt.UTC).date()

    # -- wiring: the store signs and chains every event ------------------------------

    def construct_mapper(self) -> Mapper[UUID]:
        return self.ports.mapper(self.construct_transcoder())

    def construct_event_store(self) -> EventStore[UUID]:
        return self.ports.event_store(self.mapper, cast(AggregateRecorder, self.recorder))

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        # Wake the projection runner (and the log sealer) right after each commit.
        if recordings:
            last = max(r.notification.id for r in recordings)
            for listener in self.listeners:
                listener(last, len(recordings))
            for watcher in self.commit_watchers:
                watcher(recordings)

    # -- loading and saving ----------------------------------------------------------

    def load(self, cls: type[A], aggregate_id: UUID, what: str, version: int | None = None) -> A:
        try:
            aggregate: BaseAggregate[UUID] = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFoundError(f"{what} {aggregate_id} does not exist") from None
        if not isinstance(aggregate, cls):
            raise NotFoundError(f"{what} {aggregate_id} does not exist")
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def commit(self, *aggregates: BaseAggregate[UUID] | None) -> int | None:
        """Save every changed aggregate atomically; return the last notification id."""
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:
            raise ConcurrentChangeError(
                "someone else changed the same thing at the same moment; nothing was stored, "
                "reload and try again"
            ) from None
        if not recordings:
            return None
        return max(r.notification.id for r in recordings)

    # -- set-up (admin) ---------------------------------------------------------------

    def register_school(self, principal: Principal, code: str, name: str) -> UUID:
        require_set_up(principal, doing="register school units")
        check_school_code(code)
        if self.exists(school_unit_id(code)):
            raise AlreadyExistsError(f"school unit {code} exists already", existing_id=code)
        school = SchoolUnit.register(code, name, actor=principal.id)
        try:
            self.save(school)
        except IntegrityError:
            raise AlreadyExistsError(f"school unit {code} exists already",
                                     existing_id=code) from None
        return school.id

    def school(self, code: str) -> SchoolUnit:
        return self.load(SchoolUnit, school_unit_id(code), "school unit")

    def require_school(self, code: str | None, field: str = "school_id") -> str:
        if not code:
            raise InvalidInputError("a school unit id is required", field=field)
        if code == ARCHIVE:
            raise InvalidInputError("'archive' is the municipal archive, not a school unit",
                                    field=field)
        if not self.exists(school_unit_id(code)):
            raise InvalidInputError(f"school unit {code!r} is not registered", field=field)
        return code

    def register_actor(self, principal: Principal, name: str, role: str,
                       school_id: str | None) -> tuple[UUID, str]:
        """A staff member and their first bearer token (256 random bits), shown only now."""
        require_set_up(principal, doing="register staff")
        parsed = parse_role(role)
        if school_id is not None:
            self.require_school(school_id)
        actor = Actor.register(uuid4(), name, parsed, school_id, "", actor=principal.id)
        _, token = self.prepare_token(actor, "första nyckeln", None, principal)
        self.commit(actor)
        return actor.id, token

    def prepare_token(self, actor: Actor, name: str, expires_at: datetime | None,
                      principal: Principal) -> tuple[UUID, str]:
        """Issue a named token on ``actor`` (not saved) and index its hash. The index row
        is written first: should the save fail, it leads to a staff member whose events
        know no such token, so it authenticates nobody."""
        token = secrets.token_urlsafe(32)
        token_id = uuid4()
        digest = token_digest(token)
        actor.issue_token(token_id, name, digest, expires_at, self.clock.now(),
                          actor=principal.id)
        self.token_index.add(digest, TokenEntry(actor.id, token_id))
        return token_id, token

    def authenticate(self, token: str | None) -> Principal:
        """The staff member behind a bearer token, checked against their events now.

        Nothing is cached between calls but the events already read (``actor_now`` reads
        only newer ones, one small query), so a token withdrawn or a staff member revoked
        in any process sharing the database is refused by the very next call."""
        if not token:
            raise NotAuthenticatedError("a bearer token is required")
        digest = token_digest(token)
        entry = self.token_index.find(digest)
        # A token minted before named tokens existed: the staff member's id is derived
        # from it, and the registration event holds its hash.
        actor_id, token_id = (entry.actor_id, entry.token_id) if entry else (
            actor_id_for_token(token), None)
        try:
            actor = self.actor_now(actor_id)
        except NotFoundError:
            raise NotAuthenticatedError("the token is not known") from None
        if not actor.accepts(digest, token_id, self.clock.now()):
            raise NotAuthenticatedError("the token was revoked, withdrawn or has expired")
        return Principal.of(actor)

    def actor(self, actor_id: UUID) -> Actor:
        return self.load(Actor, actor_id, "staff member")

    def actor_now(self, actor_id: UUID) -> Actor:
        """A staff member as they are now, for reading only (never to command). Staff
        are read on every call: the events already checked are kept and only newer ones
        are read (and checked) from the store, so a teacher with many assignments costs
        one small query, not a replay of their whole history."""
        cached = self._actors.get(actor_id)
        if cached is None:
            actor = self.actor(actor_id)
        else:
            actor = cached
            newer = list(self.events.get(actor_id, gt=cached.version))
            if newer:
                actor = copy.deepcopy(cached)
                for event in newer:
                    event.mutate(actor)  # type: ignore[attr-defined]
        if len(self._actors) > 10_000:
            self._actors.clear()
        self._actors[actor_id] = actor
        return actor

    def assign(self, principal: Principal, actor_id: UUID, personnummer: str) -> UUID:
        require_set_up(principal, doing="assign staff to students")
        pnr = parse_personnummer(personnummer)
        actor = self.actor(actor_id)
        record_id = self.student_record_id(pnr.formatted())
        actor.assign(record_id, actor=principal.id)
        self.commit(actor)
        return record_id

    def end_assignment(self, principal: Principal, actor_id: UUID, personnummer: str) -> None:
        require_set_up(principal, doing="end assignments")
        pnr = parse_personnummer(personnummer)
        actor = self.actor(actor_id)
        actor.end_assignment(self.student_record_id(pnr.formatted()), actor=principal.id)
        self.commit(actor)

    def revoke_token(self, principal: Principal, actor_id: UUID, reason: str) -> None:
        """Revoke every credential of a staff member (see ``application.credentials``)."""
        require_set_up(principal, doing="revoke tokens")
        actor = self.actor(actor_id)
        actor.revoke(reason, actor=principal.id)
        self.commit(actor)

    # -- capture ----------------------------------------------------------------------

    def student_record_id(self, personnummer: str) -> UUID:
        """The record a personnummer leads to: the one captured under it, or the one it
        was given to by a renumbering (its blind index names a :class:`StudentAlias`)."""
        found = self.blind.student_record_id(parse_personnummer(personnummer).normalized)
        events = self.recorder.select_events(found, limit=1)
        if events and events[0].topic == StudentAlias.Created.TOPIC:
            return self.load(StudentAlias, found, "personnummer").record_id
        return found

    def capture_student(self, principal: Principal, capture: StudentCapture) -> UUID:
        require_capture(principal)
        record = self.prepare_student(principal, capture)
        with self.gate.capturing():
            self.require_agreement_open()
            try:
                self.save(record)
            except IntegrityError:
                raise AlreadyExistsError(
                    "this student's documentation was captured already",
                    existing_id=str(record.id)
                ) from None
        return record.id

    def require_agreement_open(self) -> None:
        """Nothing is captured from Unikum once the archive agreement ended; call it
        inside ``gate.capturing()`` so a termination cannot slip in before the save."""
        if self.exists(AGREEMENT_ID):
            raise AgreementTerminatedError(
                "the archive agreement with Unikum's vendor was terminated; nothing more is "
                "captured from Unikum")

    def prepare_student(self, principal: Principal, capture: StudentCapture,
                        subject: UUID | None = None, *, check_exists: bool = True) -> Record:
        """Validate one capture and build the record (not saved): shared with bulk import."""
        pnr = parse_personnummer(capture.personnummer)
        self.require_school(capture.school_id)
        documents = check_documents(capture.documents)
        record_id = self.blind.student_record_id(pnr.normalized)
        if check_exists and self.exists(record_id):
            raise AlreadyExistsError("this student's documentation was captured already",
                                     existing_id=str(record_id))
        return Record.capture_student_documentation(
            record_id,
            subject=subject or self.keys.new_subject(),
            personnummer=pnr.formatted(),
            name=capture.name,
            school_id=capture.school_id,
            class_name=capture.class_name or None,
            documents=documents,
            fingerprint=fingerprint(documents),
            actor=principal.id,
        )

    def capture_general(self, principal: Principal, *, category: str, title: str,
                        school_id: str, sha256: str) -> UUID:
        require_capture(principal)
        record = self.prepare_general(principal, category=category, title=title,
                                      school_id=school_id, sha256=sha256)
        with self.gate.capturing():
            self.require_agreement_open()
            self.commit(record)
        return record.id

    def prepare_general(self, principal: Principal, *, category: str, title: str,
                        school_id: str, sha256: str, subject: UUID | None = None,
                        record_id: UUID | None = None) -> Record:
        self.require_school(school_id)
        check_sha256(sha256, "sha256")
        return Record.capture_general_information(
            record_id or uuid4(),
            subject=subject or self.keys.new_subject(),
            category=category,
            title=title,
            school_id=school_id,
            sha256=sha256,
            actor=principal.id,
        )

    def record(self, record_id: UUID, version: int | None = None) -> Record:
        return self.load(Record, record_id, "record", version)

    # -- printing, archiving, verification, delivery ---------------------------------

    def print_copy(self, principal: Principal, record_id: UUID, purpose: str,
                   school_id: str | None) -> UUID:
        require_archive_copy_work(principal, doing="print copies")
        try:
            parsed = Purpose(purpose)
        except ValueError:
            raise InvalidInputError("purpose must be 'archive' or 'school'",
                                    field="purpose") from None
        if parsed is Purpose.SCHOOL:
            self.require_school(school_id)
        record = self.record(record_id)
        copy_id = uuid4()
        record.print_copy(parsed, copy_id=copy_id, subject=self.keys.new_subject(),
                          school_id=school_id, actor=principal.id)
        self.commit(record)
        return copy_id

    def reprint(self, principal: Principal, record_id: UUID, copy_id: UUID) -> UUID:
        require_archive_copy_work(principal, doing="reprint copies")
        record = self.record(record_id)
        new_id = uuid4()
        record.reprint(copy_id, new_copy_id=new_id, subject=self.keys.new_subject(),
                       actor=principal.id)
        self.commit(record)
        return new_id

    def archive_copy(self, principal: Principal, record_id: UUID, copy_id: UUID, *,
                     box: str, shelf: str | None) -> None:
        require_archive_copy_work(principal, doing="file copies in the archive")
        record = self.record(record_id)
        record.archive(copy_id, box=box, shelf=shelf, actor=principal.id)
        self.commit(record)

    def verify_copy(self, principal: Principal, record_id: UUID, copy_id: UUID, *,
                    outcome: str, note: str | None) -> None:
        require_archive_copy_work(principal, doing="verify copies")
        record = self.record(record_id)
        record.verify(copy_id, outcome=outcome, note=note, actor=principal.id)
        self.commit(record)

    def deliver_copy(self, principal: Principal, record_id: UUID, copy_id: UUID,
                     school_id: str) -> None:
        record = self.record(record_id)
        copy = record.copy(copy_id)
        require_custody_of(principal, copy, doing="record the delivery of", school_only=True)
        record.deliver(copy_id, school_id=school_id, actor=principal.id)
        self.commit(record)

    def transfer_copy(self, principal: Principal, record_id: UUID, copy_id: UUID,
                      to_school_id: str, reason: str = "student moved within the municipality"
                      ) -> None:
        record = self.record(record_id)
        require_custody_of(principal, record.copy(copy_id), doing="hand over", school_only=True)
        self.require_school(to_school_id, "to_school_id")
        record.transfer(copy_id, to_school_id=to_school_id, reason=reason, actor=principal.id)
        self.commit(record)

    def receive_copy(self, principal: Principal, record_id: UUID, copy_id: UUID) -> None:
        record = self.record(record_id)
        copy = record.copy(copy_id)
        require_custody_of(principal, copy, doing="confirm receipt of", school_only=True)
        record.receive(copy_id, school_id=copy.school_id or "", actor=principal.id)
        self.commit(record)

    # -- culling ----------------------------------------------------------------------

    def _commitment(self, record: Record, copy: Copy | None) -> str:
        content = {
            "record_id": str(record.id),
            "copy_id": str(copy.id) if copy else None,
            "fingerprint": record.fingerprint,
            "personal": copy.contents if copy else record.personal,
        }
        return self.blind.commitment(json.dumps(content, sort_keys=True, default=str).encode())

    def ensure_seed_decision(self) -> None:
        """BU 2017/503 § 88 is in the register from the first start on."""
        if self.exists(decision_aggregate_id(DECISION_ID)):
            return
        try:
            self.save(seed_decision("system:seed"))
        except IntegrityError:
            pass  # registered by another process this very moment

    def culling_decision(self, decision: str) -> CullingDecision:
        name = normalise_decision_id(decision)
        aggregate_id = decision_aggregate_id(name)
        if name == DECISION_ID:
            self.ensure_seed_decision()
        unknown = UnknownCullingBasisError(
            f"{decision!r} is not in the register of culling decisions "
            "(GET /api/v1/culling-decisions)", field="decision")
        try:
            found: BaseAggregate[UUID] = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise unknown from None
        if not isinstance(found, CullingDecision):
            raise unknown
        return found

    def legal_basis(self, decision: str, point: int) -> LegalBasis:
        """A registered decision and point (422 otherwise) that allows a cull (409)."""
        return self.culling_decision(decision).basis(point)

    def cull_record(self, principal: Principal, record_id: UUID, *, decision: str, point: int,
                    method: str, witness: str | None = None) -> CullResult:
        require_cull_general_information(principal)
        record = self.record(record_id)
        basis = self.legal_basis(decision, point)
        certificate_id = uuid4()
        record.cull(basis=basis, method=method, witness=witness,
                    certificate_id=certificate_id, commitment=self._commitment(record, None),
                    today=self.today(), actor=principal.id)
        seq = self.commit(record)
        self.keys.destroy(record.subject)
        return CullResult(certificate_id, record.id, None, seq)

    def commitment(self, record: Record, copy: Copy | None) -> str:
        return self._commitment(record, copy)

    # -- handover outside the municipality --------------------------------------------

    def hand_over_externally(self, principal: Principal, record_id: UUID, copy_id: UUID, *,
                             organiser: str, school: str,
                             receipt_reference: str | None) -> None:
        record = self.record(record_id)
        require_custody_of(principal, record.copy(copy_id), doing="hand over",
                           school_only=True)
        record.hand_over_externally(copy_id, organiser=organiser, school=school,
                                    receipt_reference=receipt_reference, actor=principal.id)
        self.commit(record)

    def record_external_receipt(self, principal: Principal, record_id: UUID, copy_id: UUID,
                                receipt_reference: str) -> None:
        record = self.record(record_id)
        copy = record.copy(copy_id)
        require_external_receipt(principal, copy)
        record.record_external_receipt(copy_id, receipt_reference=receipt_reference,
                                       actor=principal.id)
        self.commit(record)

    # -- students: IST-lärande, departures, holds -------------------------------------

    def enter_into_ist(self, principal: Principal, record_id: UUID, note: str | None) -> None:
        record = self.record(record_id)
        require_school_staff(principal, record, doing="record the entry into IST-lärande")
        record.enter_into_ist(note=note, actor=principal.id)
        self.commit(record)

    def record_departure(self, principal: Principal, personnummer: str, *, reason: str,
                         to_school_id: str | None, date: str) -> UUID:
        require_departure_recording(principal)
        try:
            record = self.record(self.student_record_id(personnummer))
        except NotFoundError:
            if knows_which_students_are_held(principal):
                raise
            # The same answer as for a student of another school unit: no existence oracle.
            raise not_readable() from None
        try:
            require_school_staff(principal, record, doing="record a student's departure")
        except NotAuthorisedError:
            raise not_readable() from None
        try:
            parsed = DepartureReason(reason)
        except ValueError:
            raise InvalidInputError(
                "reason must be one of " + ", ".join(r.value for r in DepartureReason),
                field="reason",
            ) from None
        if to_school_id is not None:
            self.require_school(to_school_id, "to_school_id")
        record.record_departure(reason=parsed, to_school_id=to_school_id,
                                date=parse_date(date, "date"), actor=principal.id,
                                today=self.today(),
                                born=parse_personnummer(personnummer).birth_date)
        self.commit(record)
        return record.id

    def place_hold(self, principal: Principal, record_id: UUID, reason: str) -> UUID:
        require_hold_work(principal, doing="place holds")
        record = self.record(record_id)
        hold_id = uuid4()
        record.place_hold(hold_id=hold_id, reason=reason, actor=principal.id)
        self.commit(record)
        return hold_id

    def lift_hold(self, principal: Principal, record_id: UUID, hold_id: UUID,
                  reason: str) -> None:
        require_hold_work(principal, doing="lift holds")
        record = self.record(record_id)
        record.lift_hold(hold_id, reason=reason, actor=principal.id)
        self.commit(record)

    # -- document requests -------------------------------------------------------------

    @staticmethod
    def serving_copy(record: Record) -> Copy | None:
        """The school copy at the student's current school unit, else the archive copy."""
        school = record.school_copy
        if school is not None and school.status is CopyStatus.AT_SCHOOL:
            return school
        archive = record.archive_copy
        if archive is not None and archive.status in (CopyStatus.ARCHIVED, CopyStatus.VERIFIED):
            return archive
        return None

    def make_request(self, principal: Principal, record_id: UUID, purpose: str
                     ) -> DocumentRequest:
        """A request; an unauthorised one is stored as refused, then NotAuthorisedError."""
        record = self.record(record_id)
        assignments = principal.assignments
        if assignments_count_at_request(principal):
            assignments = frozenset(self.actor_now(UUID(principal.id)).assignments)
        refusal = request_refusal(principal, record, assignments)
        copy = self.serving_copy(record) if refusal is None else None
        if refusal is None and copy is None:
            raise IllegalTransitionError(
                "no copy of this student's documentation can be handed out yet (none is at "
                "the school unit or filed in the archive)"
            )
        location = copy_location(copy) if copy else None
        if copy is not None and record.protected:
            # Requests about a student with protected identity are decided at the archive.
            location = ARCHIVE
        request = DocumentRequest.make(
            uuid4(),
            record_id=record.id,
            copy_id=copy.id if copy else None,
            custodian_location=location,
            purpose=purpose,
            refusal=refusal,
            actor=principal.id,
        )
        self.commit(request)
        if refusal is not None:
            raise refused_request(refusal, logged_request_id=str(request.id))
        return request

    def request(self, request_id: UUID) -> DocumentRequest:
        return self.load(DocumentRequest, request_id, "request")

    def decide_request(self, principal: Principal, request_id: UUID, *, granted: bool,
                       reason: str) -> DocumentRequest:
        request = self.request(request_id)
        require_deciding_custodian(principal, request)
        request.decide(granted=granted, reason=reason, actor=principal.id)
        self.commit(request)
        return request

    def hand_out(self, principal: Principal, request_id: UUID) -> DocumentRequest:
        request = self.request(request_id)
        require_deciding_custodian(principal, request)
        request.hand_out(actor=principal.id)
        record = self.record(request.record_id)
        if request.copy_id is None:
            raise IllegalTransitionError("the request names no copy")
        record.lend(request.copy_id, request_id=request.id, to_actor=request.asker,
                    actor=principal.id)
        self.commit(request, record)
        return request

    def take_back(self, principal: Principal, request_id: UUID) -> DocumentRequest:
        request = self.request(request_id)
        require_deciding_custodian(principal, request)
        request.take_back(actor=principal.id)
        record = self.record(request.record_id)
        if request.copy_id is None:
            raise IllegalTransitionError("the request names no copy")
        record.take_back(request.copy_id, request_id=request.id, actor=principal.id)
        self.commit(request, record)
        return request



    # -- personal data: protected identity, renumbering ---------------------------------

    def student_record(self, principal: Principal, personnummer: str, doing: str) -> Record:
        """A student's record for the archivist; the role is decided before the lookup."""
        require_personal_data_work(principal, doing=doing)
        record = self.record(self.student_record_id(personnummer))
        if not record.is_student_documentation:
            raise NotFoundError("no student documentation under that personnummer")
        return record

    def protect(self, principal: Principal, personnummer: str, reason: str | None) -> UUID:
        record = self.student_record(principal, personnummer, "protect a student's identity")
        record.protect(reason=reason, actor=principal.id)
        self.commit(record)
        return record.id

    def lift_protection(self, principal: Principal, personnummer: str) -> UUID:
        record = self.student_record(principal, personnummer,
                                     "lift the protection of a student's identity")
        record.lift_protection(actor=principal.id)
        self.commit(record)
        return record.id

    def renumber(self, principal: Principal, personnummer: str, new_personnummer: str) -> UUID:
        """Both numbers lead to the record from now on: the new one through an alias
        saved in the same transaction (a number already in use is a conflict)."""
        record = self.student_record(principal, personnummer, "renumber a student")
        new = parse_personnummer(new_personnummer, "new_personnummer")
        alias_id = self.blind.student_record_id(new.normalized)
        if self.exists(alias_id):
            raise AlreadyExistsError("that personnummer leads to a record already",
                                     existing_id=str(self.student_record_id(new.formatted())))
        record.renumber(new_personnummer=new.formatted(), alias_id=alias_id, actor=principal.id)
        alias = StudentAlias.create(alias_id, record_id=record.id, actor=principal.id)
        try:
            self.save(record, alias)
        except IntegrityError:
            raise ConcurrentChangeError("the record or that personnummer changed at the same "
                                        "moment; nothing was stored, try again") from None
        return record.id
