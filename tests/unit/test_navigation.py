"""The menu each role sees and the page each role starts on, pinned: the menu asks
:mod:`application.policy`, and a change there that changes a menu must change this table
on purpose. One principal per role, and both kinds of custodian (the archive's, a school
unit's)."""

from __future__ import annotations

import pytest

from api.web import navigation
from application.policy import Principal
from domain.actor import Role

SCHOOL = "skola-1"

EXPECTED: dict[tuple[Role, str | None], tuple[list[str], str]] = {
    (Role.ADMIN, None): (["overview", "find_student", "assignments", "shelf_list",
                          "archive_deliveries", "finding_aid", "culls", "culling_lists",
                          "request_log", "audit", "staff"], "/oversikt"),
    (Role.ARCHIVIST, None): (["overview", "find_student", "inventory", "box_session",
                              "verify_session", "school_year", "shelf_list",
                              "archive_deliveries", "finding_aid", "culls", "culling_lists",
                              "request_log", "audit"], "/oversikt"),
    (Role.AUDITOR, None): (["overview", "find_student", "shelf_list", "archive_deliveries",
                            "finding_aid", "culls", "culling_lists", "request_log", "audit"],
                           "/granskning"),
    (Role.CUSTODIAN, None): (["inbox", "overview", "find_student", "shelf_list",
                              "archive_deliveries", "finding_aid", "culls", "culling_lists",
                              "request_log"], "/inkorg"),
    (Role.CUSTODIAN, SCHOOL): (["inbox", "overview", "find_student", "deliveries", "holdings",
                                "culls", "culling_lists", "request_log"], "/inkorg"),
    (Role.PRINCIPAL, SCHOOL): (["order", "overview", "holdings", "culling_lists", "request_log"],
                               "/bestall"),
    (Role.TEACHER, SCHOOL): (["order"], "/bestall"),
    (Role.MENTOR, SCHOOL): (["order"], "/bestall"),
}

PATHS = {"inbox": "/inkorg", "order": "/bestall", "overview": "/oversikt",
         "find_student": "/elev", "inventory": "/inventering", "box_session": "/arkiv/kartong",
         "verify_session": "/arkiv/kontroll", "school_year": "/lasar",
         "deliveries": "/skola/leverans", "holdings": "/skola/innehav",
         "assignments": "/personal/kopplingar", "shelf_list": "/arkiv/hyllforteckning",
         "archive_deliveries": "/arkiv/leveranser", "finding_aid": "/arkiv/forteckning",
         "culls": "/gallring", "culling_lists": "/gallringslistor",
         "request_log": "/bestallningar", "audit": "/granskning", "staff": "/personal"}


def principal(role: Role, school_id: str | None) -> Principal:
    return Principal(f"{role.value}-1", role.value, role, school_id)


def menu_of(who: Principal) -> list[navigation.NavItem]:
    return navigation.menu(who)


def home_of(who: Principal) -> str:
    return navigation.home(who)


def test_every_role_and_kind_of_custodian_is_pinned() -> None:
    assert {role for role, _ in EXPECTED} == set(Role)


@pytest.mark.parametrize(("role", "school_id"), list(EXPECTED))
def test_the_menu_and_start_page_of_each_role(role: Role, school_id: str | None) -> None:
    who = principal(role, school_id)
    keys, home = EXPECTED[(role, school_id)]
    shown = menu_of(who)
    assert [item.key for item in shown] == keys
    assert {item.key: item.path for item in shown} == {key: PATHS[key] for key in keys}
    assert home_of(who) == home


def test_each_start_page_is_in_that_roles_menu() -> None:
    for (role, school_id), (_, home) in EXPECTED.items():
        who = principal(role, school_id)
        assert home in [item.path for item in menu_of(who)], (role, school_id)


def test_every_item_is_shown_to_someone() -> None:
    shown = {key for keys, _ in EXPECTED.values() for key in keys}
    assert shown == {item.key for item in navigation.NAV}
