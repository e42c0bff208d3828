"""The rules of a record and its copies, with no database: aggregates built directly."""

from __future__ import annotations

import datetime as dt
from uuid import UUID, uuid4

import pytest

from domain.culling import (
    DECISION_ID,
    Condition,
    CullingDecision,
    DecisionPoint,
    LegalBasis,
    UnknownCullingBasisError,
    seed_decision,
)
from domain.documents import Document
from domain.errors import (
    AlreadyCulledError,
    ArchiveCopyCannotBeCulledError,
    CopyOnLoanError,
    CullNotLawfulError,
    IllegalTransitionError,
    InvalidInputError,
    RecordOnHoldError,
)
from domain.fingerprints import Fingerprint
from domain.personnummer import Personnummer
from domain.record import CopyStatus, DepartureReason, Purpose, Record

ACTOR = "archivist-1"
SHA = "a" * 64
BORN = dt.date(2004, 3, 15)  # the personnummer 20040315-1236 of student()
LEFT = dt.date(2018, 6, 10)  # the day the student of finished() left school
TODAY = dt.date(2019, 1, 10)
SEED = seed_decision(ACTOR)  # the register's seed: BU 2017/503 § 88


ANNA = Personnummer.parse("20040315-1236")
IUP = Document.of("IUP", "iup", SHA, 3)


def student(school: str = "holmes") -> Record:
    return Record.capture_student_documentation(
        uuid4(), subject=uuid4(), personnummer=ANNA, name="Anna Holm",
        school_id=school, class_name="9A", documents=[IUP], actor=ACTOR)


def general() -> Record:
    return Record.capture_general_information(
        uuid4(), subject=uuid4(), category="newsletter", title="Veckobrev v. 47",
        school_id="holmes", sha256=Fingerprint(SHA), actor=ACTOR)


def printed(record: Record, purpose: Purpose, school: str | None = None) -> UUID:
    copy_id = uuid4()
    record.print_copy(purpose, copy_id=copy_id, subject=uuid4(), school_id=school, actor=ACTOR)
    return copy_id


def school_copy_at_school(record: Record) -> UUID:
    copy_id = printed(record, Purpose.SCHOOL, record.school_id)
    record.deliver(copy_id, school_id=str(record.school_id), actor="custodian-1")
    return copy_id


def cull_copy(record: Record, copy_id: UUID, *, point: int = 4,
              basis: LegalBasis | None = None, today: dt.date = TODAY) -> None:
    record.cull_copy(copy_id, basis=basis or SEED.basis(point), method="shredding",
                     witness=None, certificate_id=uuid4(), commitment="c", today=today,
                     actor=ACTOR)


def cull_record(record: Record, *, point: int = 1) -> None:
    record.cull(basis=SEED.basis(point), method="deletion", witness=None,
                certificate_id=uuid4(), commitment="c", today=TODAY, actor=ACTOR)


def depart(record: Record, reason: DepartureReason, *, date: dt.date = LEFT,
           to_school_id: str | None = None, today: dt.date = TODAY) -> None:
    record.record_departure(reason=reason, to_school_id=to_school_id, date=date,
                            actor=ACTOR, today=today, born=BORN)


def finished(record: Record, *, date: dt.date = LEFT, today: dt.date = TODAY) -> None:
    depart(record, DepartureReason.FINISHED_COMPULSORY_SCHOOL, date=date, today=today)


class TestCapture:
    def test_student_documentation_needs_at_least_one_document(self) -> None:
        with pytest.raises(InvalidInputError) as caught:
            Record.capture_student_documentation(
                uuid4(), subject=uuid4(), personnummer=ANNA, name="Anna",
                school_id="holmes", class_name=None, documents=[], actor=ACTOR)
        assert caught.value.field == "documents"

    def test_student_documentation_needs_a_name(self) -> None:
        with pytest.raises(InvalidInputError):
            Record.capture_student_documentation(
                uuid4(), subject=uuid4(), personnummer=ANNA, name="  ",
                school_id="holmes", class_name=None, documents=[IUP], actor=ACTOR)

    def test_general_information_is_only_of_the_decisions_categories(self) -> None:
        with pytest.raises(InvalidInputError) as caught:
            Record.capture_general_information(
                uuid4(), subject=uuid4(), category="iup", title="IUP", school_id="holmes",
                sha256=Fingerprint(SHA), actor=ACTOR)
        assert caught.value.field == "category"

    def test_a_captured_student_is_one_event_with_the_actor(self) -> None:
        record = student()
        events = record.collect_events()
        assert [type(e).__name__ for e in events] == ["StudentDocumentationCaptured"]
        assert events[0].actor == ACTOR


class TestCopies:
    def test_one_archive_copy_per_student(self) -> None:
        record = student()
        printed(record, Purpose.ARCHIVE)
        with pytest.raises(IllegalTransitionError):
            printed(record, Purpose.ARCHIVE)

    def test_general_information_is_not_printed(self) -> None:
        with pytest.raises(IllegalTransitionError):
            printed(general(), Purpose.ARCHIVE)

    def test_the_archive_copy_is_filed_then_verified(self) -> None:
        record = student()
        copy_id = printed(record, Purpose.ARCHIVE)
        record.archive(copy_id, box="A001", shelf="3", actor=ACTOR)
        record.verify(copy_id, outcome="ok", note=None, actor=ACTOR)
        assert record.copy(copy_id).status is CopyStatus.VERIFIED

    def test_an_unfiled_copy_cannot_be_verified(self) -> None:
        record = student()
        copy_id = printed(record, Purpose.ARCHIVE)
        with pytest.raises(IllegalTransitionError):
            record.verify(copy_id, outcome="ok", note=None, actor=ACTOR)

    def test_the_archive_copy_stays_in_the_archive(self) -> None:
        record = student()
        copy_id = printed(record, Purpose.ARCHIVE)
        with pytest.raises(IllegalTransitionError):
            record.deliver(copy_id, school_id="holmes", actor=ACTOR)

    def test_a_copy_on_loan_is_not_transferred(self) -> None:
        record = student()
        copy_id = school_copy_at_school(record)
        record.lend(copy_id, request_id=uuid4(), to_actor="teacher-1", actor="custodian-1")
        with pytest.raises(CopyOnLoanError):
            record.transfer(copy_id, to_school_id="kvistberg", reason="moved", actor=ACTOR)

    def test_a_transferred_copy_is_in_transit_until_received(self) -> None:
        record = student()
        copy_id = school_copy_at_school(record)
        record.transfer(copy_id, to_school_id="kvistberg", reason="moved", actor=ACTOR)
        assert record.copy(copy_id).status is CopyStatus.IN_TRANSIT
        record.receive(copy_id, school_id="kvistberg", actor="custodian-2")
        assert record.copy(copy_id).status is CopyStatus.AT_SCHOOL


class TestCullingBasis:
    def test_the_archive_copy_of_student_documentation_is_never_culled(self) -> None:
        record = student()
        copy_id = printed(record, Purpose.ARCHIVE)
        finished(record)
        with pytest.raises(ArchiveCopyCannotBeCulledError):
            cull_copy(record, copy_id)

    def test_a_school_copy_is_not_culled_before_the_student_finished_school(self) -> None:
        record = student()
        copy_id = school_copy_at_school(record)
        with pytest.raises(CullNotLawfulError):
            cull_copy(record, copy_id)

    def test_a_school_copy_is_not_culled_when_the_student_only_moved(self) -> None:
        record = student()
        copy_id = school_copy_at_school(record)
        depart(record, DepartureReason.MOVED_WITHIN_MUNICIPALITY, to_school_id="kvistberg")
        with pytest.raises(CullNotLawfulError):
            cull_copy(record, copy_id)

    def test_a_school_copy_is_culled_under_point_4_once_the_student_finished(self) -> None:
        record = student()
        copy_id = school_copy_at_school(record)
        finished(record)
        cull_copy(record, copy_id)
        assert record.copy(copy_id).status is CopyStatus.CULLED
        with pytest.raises(AlreadyCulledError):
            cull_copy(record, copy_id)

    def test_a_school_copy_is_not_culled_under_point_1(self) -> None:
        record = student()
        copy_id = school_copy_at_school(record)
        finished(record)
        with pytest.raises(CullNotLawfulError):
            cull_copy(record, copy_id, point=1)

    def test_a_cull_names_the_registered_decision(self) -> None:
        record = student()
        copy_id = school_copy_at_school(record)
        finished(record)
        cull_copy(record, copy_id)
        culled = record.pending_events[-1]
        assert isinstance(culled, Record.CopyCulled)
        assert (culled.decision, culled.point) == (DECISION_ID, 4)

    def test_a_point_the_decision_does_not_have_is_no_basis(self) -> None:
        with pytest.raises(UnknownCullingBasisError):
            SEED.basis(9)

    @pytest.mark.parametrize("point", [2, 3])
    def test_a_point_that_preserves_allows_no_cull(self, point: int) -> None:
        with pytest.raises(CullNotLawfulError):
            SEED.basis(point)

    def test_a_school_copy_is_not_culled_before_the_day_the_student_left(self) -> None:
        record = student()
        copy_id = school_copy_at_school(record)
        finished(record, date=LEFT, today=LEFT)
        with pytest.raises(CullNotLawfulError):
            cull_copy(record, copy_id, today=LEFT - dt.timedelta(days=1))
        assert record.copy(copy_id).status is CopyStatus.AT_SCHOOL
        cull_copy(record, copy_id, today=LEFT)
        assert record.copy(copy_id).status is CopyStatus.CULLED

    def test_another_registered_decision_culls_under_its_own_condition(self) -> None:
        moved_away = CullingDecision.register(
            "BU 2026/9 § 4", body="Barn- och utbildningsnämnden", date="2026-11-30",
            points=[DecisionPoint(1, "Skolexemplar när eleven flyttat ut",
                                  Condition.SCHOOL_COPY_AFTER_MOVING_AWAY)],
            actor=ACTOR).basis(1)
        finishing = student()
        kept = school_copy_at_school(finishing)
        finished(finishing)
        with pytest.raises(CullNotLawfulError):
            cull_copy(finishing, kept, basis=moved_away)
        record = student()
        copy_id = school_copy_at_school(record)
        depart(record, DepartureReason.MOVED_AWAY)
        with pytest.raises(CullNotLawfulError):
            cull_copy(record, copy_id)  # point 4 of the seed: only after finishing
        cull_copy(record, copy_id, basis=moved_away)
        assert record.copy(copy_id).status is CopyStatus.CULLED

    def test_general_information_is_culled_under_point_1_only(self) -> None:
        item = general()
        with pytest.raises(CullNotLawfulError):
            cull_record(item, point=4)
        cull_record(item, point=1)
        assert item.culled

    def test_student_documentation_as_a_whole_is_never_culled(self) -> None:
        with pytest.raises(ArchiveCopyCannotBeCulledError):
            cull_record(student())

    def test_nothing_on_hold_is_culled(self) -> None:
        item = general()
        item.place_hold(hold_id=uuid4(), reason="begäran om allmän handling", actor=ACTOR)
        with pytest.raises(RecordOnHoldError):
            cull_record(item)

    def test_a_lifted_hold_allows_the_cull_again(self) -> None:
        item = general()
        hold = uuid4()
        item.place_hold(hold_id=hold, reason="utredning", actor=ACTOR)
        item.lift_hold(hold, reason="klar", actor=ACTOR)
        cull_record(item)
        assert item.culled


class TestDepartures:
    def test_a_move_within_the_municipality_names_the_next_school_unit(self) -> None:
        with pytest.raises(InvalidInputError):
            depart(student(), DepartureReason.MOVED_WITHIN_MUNICIPALITY, to_school_id=None)

    def test_a_departure_is_not_in_the_future(self) -> None:
        record = student()
        with pytest.raises(InvalidInputError) as caught:
            finished(record, date=TODAY + dt.timedelta(days=1), today=TODAY)
        assert caught.value.field == "date"
        assert record.departure is None
        finished(record, date=TODAY, today=TODAY)
        assert record.departure is not None

    def test_a_departure_is_not_before_the_student_was_born(self) -> None:
        record = student()
        with pytest.raises(InvalidInputError) as caught:
            finished(record, date=BORN - dt.timedelta(days=1))
        assert caught.value.field == "date"
        assert record.departure is None

    def test_nothing_departs_after_finishing_compulsory_school(self) -> None:
        record = student()
        finished(record)
        with pytest.raises(IllegalTransitionError):
            finished(record)
