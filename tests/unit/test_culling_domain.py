"""The culling rules as pure domain logic, no I/O: the register of decisions, the four
eyes of a culling list, and the conditions checked when a destruction is confirmed."""

from __future__ import annotations

import datetime as dt
from uuid import UUID, uuid4

import pytest

from domain.culling import (
    Condition,
    CullingDecision,
    DecisionPoint,
    UnknownCullingBasisError,
    seed_decision,
)
from domain.culling_list import CullingList, ItemStatus, ListStatus
from domain.documents import Document
from domain.errors import (
    CullNotLawfulError,
    IllegalTransitionError,
    InvalidInputError,
    NotAuthorisedError,
)
from domain.personnummer import Personnummer
from domain.record import DepartureReason, Purpose, Record

TODAY = dt.date(2018, 8, 20)
BORN = dt.date(2002, 3, 3)


def school_copy_of_leaver(date: dt.date = dt.date(2018, 6, 15),
                          reason: DepartureReason = DepartureReason.FINISHED_COMPULSORY_SCHOOL
                          ) -> tuple[Record, UUID]:
    record = Record.capture_student_documentation(
        uuid4(), subject=uuid4(), personnummer=Personnummer.parse("20020303-0002"),
        name="Leo Klar", school_id="holmes", class_name="9B",
        documents=[Document.of("IUP", "iup", "a" * 64, 1)], actor="archivist")
    copy_id = uuid4()
    record.print_copy(Purpose.SCHOOL, copy_id=copy_id, subject=uuid4(), school_id="holmes",
                      actor="archivist")
    record.deliver(copy_id, school_id="holmes", actor="custodian")
    record.record_departure(reason=reason, to_school_id=None, date=date, actor="custodian",
                            today=max(date, TODAY), born=BORN)
    return record, copy_id


def proposed() -> CullingList:
    return CullingList.propose(uuid4(), decision="BU 2017/503 § 88", point=4, items=[
        {"key": str(k), "record_id": str(uuid4()), "copy_id": str(k), "location": "holmes"}
        for k in (uuid4(), uuid4())], note=None, school_year=2018, actor="arne")


class TestTheRegister:
    def test_the_seed_decision_allows_culls_under_points_1_and_4_only(self) -> None:
        decision = seed_decision("system")
        assert decision.basis(1).allows is Condition.GENERAL_INFORMATION
        assert decision.basis(4).allows is Condition.SCHOOL_COPY_AFTER_FINISHING
        for point in (2, 3):
            with pytest.raises(CullNotLawfulError):
                decision.basis(point)
        with pytest.raises(UnknownCullingBasisError):
            decision.basis(5)

    def test_a_decision_numbers_each_point_once(self) -> None:
        point = DecisionPoint(1, "text", Condition.NOTHING)
        with pytest.raises(InvalidInputError):
            CullingDecision.register("UN 1/1 § 1", body="Nämnden", date="2019-01-01",
                                     points=[point, point], actor="arne")


class TestFourEyes:
    def test_the_proposer_cannot_approve_their_own_list(self) -> None:
        culling_list = proposed()
        with pytest.raises(NotAuthorisedError):
            culling_list.decide(approved=True, reason=None, actor="arne")
        culling_list.decide(approved=True, reason=None, actor="berit")
        assert culling_list.status is ListStatus.APPROVED

    def test_nothing_is_destroyed_before_approval(self) -> None:
        culling_list = proposed()
        key = next(iter(culling_list.items))
        with pytest.raises(IllegalTransitionError, match="not approved"):
            culling_list.require_destroyable(key)

    def test_the_list_is_executed_when_every_item_is_destroyed_or_withdrawn(self) -> None:
        culling_list = proposed()
        culling_list.decide(approved=True, reason=None, actor="berit")
        first, second = culling_list.items
        culling_list.confirm_destruction(first, certificate_id=uuid4(), method="shredding",
                                         date=TODAY, witness="Greta", contractor_reference=None,
                                         actor="cecilia")
        assert not culling_list.done
        culling_list.withdraw(second, reason="går om", actor="arne")
        assert culling_list.done
        assert [culling_list.item_status(i) for i in culling_list.items.values()] == [
            ItemStatus.DESTROYED, ItemStatus.WITHDRAWN]

    def test_paper_is_destroyed_before_a_witness_or_by_a_contractor(self) -> None:
        culling_list = proposed()
        culling_list.decide(approved=True, reason=None, actor="berit")
        key = next(iter(culling_list.items))
        with pytest.raises(InvalidInputError):
            culling_list.confirm_destruction(key, certificate_id=uuid4(), method="shredding",
                                             date=TODAY, witness=None,
                                             contractor_reference=None, actor="cecilia")


class TestConditionsAtDestruction:
    def test_a_departure_is_never_dated_in_the_future_or_before_birth(self) -> None:
        record, _ = school_copy_of_leaver()
        record.departure = None  # as if no departure were recorded yet
        with pytest.raises(InvalidInputError, match="future"):
            record.record_departure(reason=DepartureReason.MOVED_AWAY, to_school_id=None,
                                    date=TODAY + dt.timedelta(days=1), actor="c", today=TODAY,
                                    born=BORN)
        with pytest.raises(InvalidInputError, match="born"):
            record.record_departure(reason=DepartureReason.MOVED_AWAY, to_school_id=None,
                                    date=BORN - dt.timedelta(days=1), actor="c", today=TODAY,
                                    born=BORN)

    def test_a_copy_is_culled_only_once_the_departure_date_has_passed(self) -> None:
        record, copy_id = school_copy_of_leaver(date=dt.date(2018, 6, 15))
        basis = seed_decision("system").basis(4)
        with pytest.raises(CullNotLawfulError, match="not passed"):
            record.cullable_copy(copy_id, basis, today=dt.date(2018, 6, 14))
        assert "2018-06-15" in record.cullable_copy(copy_id, basis, today=TODAY)

    def test_the_seed_decision_does_not_allow_culling_a_copy_of_a_student_who_moved_away(
        self,
    ) -> None:
        record, copy_id = school_copy_of_leaver(reason=DepartureReason.MOVED_AWAY)
        with pytest.raises(CullNotLawfulError):
            record.cullable_copy(copy_id, seed_decision("system").basis(4), today=TODAY)
        other = CullingDecision.register(
            "UN 2019/77 § 12", body="Utbildningsnämnden", date="2019-03-20",
            points=[DecisionPoint(1, "flyttat", Condition.SCHOOL_COPY_AFTER_MOVING_AWAY)],
            actor="arne")
        assert "moved away" in record.cullable_copy(copy_id, other.basis(1), today=TODAY)
