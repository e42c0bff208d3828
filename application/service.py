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
from typing import TypeVar, cast
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
from domain.documents import Document
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
from domain.fingerprints import Fingerprint
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
    """A document as a door received it (checked into a :class:`Document` by capture)."""

    title: str
    category: str
    sha256: str
    pages: int | str


@dataclass(frozen=True)
class StudentCapture:
    """One student's documentation to capture. A door that has parsed the personnummer
    or checked the documents already hands over the value objects themselves."""

    personnummer: str | Personnummer
    name: str
    school_id: str
    class_name: str | None
    documents: Sequence[DocumentIn | Document]


@dataclass(frozen=True)
class GeneralCapture:
    """One item of general information to capture; ``record_id`` is the import's keyed
    id (a re-run finds it again), else a new one is made."""

    category: str
    title: str
    school_id: str
    sha256: str | Fingerprint
    record_id: UUID | None = None


CaptureItem = StudentCapture | GeneralCapture


@dataclass(frozen=True)
class CullResult:
    certificate_id: UUID
    record_id: UUID
    copy_id: UUID | None
    seq: int | None


def checked_documents(documents: Sequence[DocumentIn | Document]) -> list[Document]:
    """Each document as a checked :class:`Document` (the domain's rules, field names
    ``documents[i].title`` and so on)."""
    return [d if isinstance(d, Document) else
            Document.of(d.title, d.category, d.sha256, d.pages, where=f"documents[{i}]")
            for i, d in enumerate(documents)]


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
            ).with_code("concurrent_change") from None
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
            raise InvalidInputError("a school unit id is required", field=field).with_code(
                "school_unit_required")
        if code == ARCHIVE:
            raise InvalidInputError("'archive' is the municipal archive, not a school unit",
                                    field=field).with_code("archive_is_not_a_school_unit")
        if not self.exists(school_unit_id(code)):
            raise InvalidInputError(f"school unit {code!r} is not registered", field=field
                                    ).with_code("school_unit_not_registered", school_id=code)
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

    def stored_ids(self, ids: Sequence[UUID]) -> set[UUID]:
        """Which of ``ids`` have events in the store: reads ids only, never events."""
        if not ids:
            return set()
        lookup = self.ports.stored_ids
        if lookup is None:
            return {i for i in ids if self.exists(i)}
        return lookup(cast(AggregateRecorder, self.recorder), ids)

    def capture_batch(self, principal: Principal, items: Sequence[CaptureItem], *,
                      known_new: bool = False, doing: str = "capture records") -> list[UUID]:
        """Capture every item, all or nothing, in one ``save``: the one capture path of
        the API, the inventory import and the demo. Returns the record ids in order.

        Every item is checked by the domain (personnummer, documents, fingerprints) and
        every school unit named once. ``known_new``: the caller has just found that no
        item is in the store (the import asks for a whole batch at once), so the
        per-batch existence query is skipped; a conflict is still caught by the save.
        :class:`AlreadyExistsError` when an item was captured already (nothing is then
        stored); the store writes a batch of several at once (COPY on PostgreSQL)."""
        require_capture(principal, doing=doing)
        if not items:
            return []
        schools: set[str] = set()  # each school unit is looked up once per batch
        checked = [self._checked(item, schools) for item in items]
        ids = [record_id for record_id, _ in checked]
        if not known_new:
            self._require_new(ids, items)
        subjects = self.keys.new_subjects(len(checked))
        records = [build(subject, principal.id)
                   for (_, build), subject in zip(checked, subjects, strict=True)]
        with self.gate.capturing():
            self.require_agreement_open()
            try:
                self.save(*records, bulk=len(records) > 1)
            except IntegrityError:
                self._require_new(ids, items)
                raise self._already(ids[0], items[0]) from None
        return ids

    def _require_new(self, ids: list[UUID], items: Sequence[CaptureItem]) -> None:
        stored = self.stored_ids(ids)
        for record_id, item in zip(ids, items, strict=True):
            if record_id in stored:
                raise self._already(record_id, item)

    @staticmethod
    def _already(record_id: UUID, item: CaptureItem) -> AlreadyExistsError:
        what = ("this student's documentation" if isinstance(item, StudentCapture)
                else "this item of general information")
        error = AlreadyExistsError(f"{what} was captured already", existing_id=str(record_id))
        return (error.with_code("student_already_captured") if isinstance(item, StudentCapture)
                else error)

    def _checked(self, item: CaptureItem, schools: set[str] | None = None
                 ) -> tuple[UUID, Callable[[UUID, str], Record]]:
        """The item's record id and how to build its record once it has a data key;
        checks the item (and its school unit, unless it is in ``schools``)."""

        def require_school() -> None:
            if schools is None or item.school_id not in schools:
                self.require_school(item.school_id)
                if schools is not None:
                    schools.add(item.school_id)

        if isinstance(item, GeneralCapture):
            require_school()
            sha256 = (item.sha256 if isinstance(item.sha256, Fingerprint)
                      else Fingerprint.parse(item.sha256))
            general_id = item.record_id or uuid4()

            def general(subject: UUID, actor: str) -> Record:
                return Record.capture_general_information(
                    general_id, subject=subject, category=item.category, title=item.title,
                    school_id=item.school_id, sha256=sha256, actor=actor)
            return general_id, general
        pnr = (item.personnummer if isinstance(item.personnummer, Personnummer)
               else parse_personnummer(item.personnummer))
        require_school()
        documents = checked_documents(item.documents)
        record_id = self.blind.student_record_id(pnr.normalized)

        def student(subject: UUID, actor: str) -> Record:
            return Record.capture_student_documentation(
                record_id, subject=subject, personnummer=pnr, name=item.name,
                school_id=item.school_id, class_name=item.class_name, documents=documents,
                actor=actor)
        return record_id, student

    def capture_student(self, principal: Principal, capture: StudentCapture) -> UUID:
        """One student: :meth:`capture_batch` with one item."""
        return self.capture_batch(principal, [capture])[0]

    def capture_general(self, principal: Principal, *, category: str, title: str,
                        school_id: str, sha256: str) -> UUID:
        """One item of general information: :meth:`capture_batch` with one item."""
        return self.capture_batch(principal, [GeneralCapture(category, title, school_id,
                                                             sha256)])[0]

    def require_agreement_open(self) -> None:
        """Nothing is captured from Unikum once the archive agreement ended; call it
        inside ``gate.capturing()`` so a termination cannot slip in before the save."""
        if self.exists(AGREEMENT_ID):
            raise AgreementTerminatedError(
                "the archive agreement with Unikum's vendor was terminated; nothing more is "
                "captured from Unikum")

    def prepare(self, principal: Principal, item: CaptureItem,
                subject: UUID | None = None) -> Record:
        """The record :meth:`capture_batch` would save for ``item``, unsaved and without
        its policy and existence checks (benchmarks and store tests build records so)."""
        _, build = self._checked(item)
        return build(subject or self.keys.new_subject(), principal.id)

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
                                    field="purpose").with_code("purpose_invalid") from None
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
