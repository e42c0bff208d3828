"""Each ``may_…`` predicate of the policy (what the web menu asks) and the ``require_…``
check of the same decision agree for every kind of principal: the rule exists once, so a
link is shown exactly to those the page does not refuse."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from application import policy
from application.policy import Principal
from domain.actor import Role
from domain.errors import NotAuthorisedError

SCHOOL = "skola-1"
PRINCIPALS = [Principal(f"{role.value}-{school or 'none'}", role.value, role, school)
              for role, school in [(Role.ADMIN, None), (Role.ARCHIVIST, None),
                                   (Role.AUDITOR, None), (Role.CUSTODIAN, None),
                                   (Role.CUSTODIAN, SCHOOL), (Role.PRINCIPAL, SCHOOL),
                                   (Role.TEACHER, SCHOOL), (Role.MENTOR, SCHOOL)]]

PAIRS: list[tuple[Callable[[Principal], bool], Callable[[Principal], None]]] = [
    (policy.may_set_up, lambda p: policy.require_set_up(p, doing="manage staff")),
    (policy.may_capture, policy.require_capture),
    (policy.does_archive_work,
     lambda p: policy.require_archive_copy_work(p, doing="file copies in the archive")),
    (policy.may_close_school_year, policy.require_school_year_closing),
    (policy.may_look_up_records, policy.require_record_lookup),
    (policy.may_read_shelf_list, policy.require_shelf_list),
    (policy.may_read_culling_register, policy.require_culling_register),
    (policy.may_read_progress, policy.require_progress_reader),
    (policy.may_audit, policy.require_audit),
    (policy.is_school_custodian,
     lambda p: policy.require_school_custodian(p, doing="record deliveries")),
    (policy.may_read_culling_lists, policy.require_list_reader),
    (policy.may_read_archive_register, policy.require_archive_register_reader),
]


def allowed(check: Callable[[Principal], None], who: Principal) -> bool:
    try:
        check(who)
    except NotAuthorisedError:
        return False
    return True


@pytest.mark.parametrize(("may", "require"), PAIRS, ids=[may.__name__ for may, _ in PAIRS])
def test_the_predicate_and_the_check_agree(may: Callable[[Principal], bool],
                                           require: Callable[[Principal], None]) -> None:
    answers = {who.id: may(who) for who in PRINCIPALS}
    assert answers == {who.id: allowed(require, who) for who in PRINCIPALS}
    assert True in answers.values()  # a predicate nobody passes would hide its link for good


def test_the_holdings_link_leads_to_ones_own_units_holdings() -> None:
    """The link is for a school unit's staff; the archive readers read any unit's
    holdings but start from the shelf list instead."""
    for who in PRINCIPALS:
        if policy.may_read_own_holdings(who):
            assert who.school_id is not None
            assert allowed(lambda p: policy.require_holdings(p, SCHOOL), who)
            assert not allowed(lambda p: policy.require_holdings(p, "another-school"), who)
    assert [who.role for who in PRINCIPALS if policy.may_read_own_holdings(who)] == [
        Role.CUSTODIAN, Role.PRINCIPAL]


def test_a_refusal_names_who_the_work_is_for() -> None:
    teacher = PRINCIPALS[6]
    with pytest.raises(NotAuthorisedError,
                       match="a teacher may not audit the store; that is for: auditor, "
                             "archivist, admin"):
        policy.require_audit(teacher)


def test_who_orders_who_sees_others_requests_and_who_decides() -> None:
    """The predicates without a require_… of their own (request_refusal, request_log_scope
    and require_deciding_custodian ask them)."""
    assert [who.role for who in PRINCIPALS if policy.may_order_documents(who)] == [
        Role.PRINCIPAL, Role.TEACHER, Role.MENTOR]
    assert [who.role for who in PRINCIPALS if policy.sees_others_requests(who)] == [
        Role.ADMIN, Role.ARCHIVIST, Role.AUDITOR, Role.CUSTODIAN, Role.CUSTODIAN,
        Role.PRINCIPAL]
    assert [who.role for who in PRINCIPALS if policy.may_decide_requests(who)] == [
        Role.CUSTODIAN, Role.CUSTODIAN]
