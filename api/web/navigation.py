"""The menu each role sees and the page each role starts on.

This only decides which links to show: every page still asks the application, which
enforces :mod:`application.policy`, so a typed URL a role may not use says so instead of
showing anything. The lists mirror that policy (who reads reports, who orders, who
decides) so nobody is shown a link that leads to a refusal.

May import the domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from domain.actor import Role

A, R, C, P, T, M, U = (Role.ADMIN, Role.ARCHIVIST, Role.CUSTODIAN, Role.PRINCIPAL,
                       Role.TEACHER, Role.MENTOR, Role.AUDITOR)


@dataclass(frozen=True)
class NavItem:
    key: str
    """The translation key of the link text (``nav.<key>``)."""
    path: str
    roles: frozenset[Role]
    archive_custodian_only: bool = False
    """For custodians: only the archive's (the shelf list is the archive's own list)."""
    school_custodian_only: bool = False
    """For custodians: only a school unit's (deliveries to a school)."""


NAV: Final = (
    NavItem("inbox", "/inkorg", frozenset({C})),
    NavItem("order", "/bestall", frozenset({T, M, P})),
    NavItem("overview", "/oversikt", frozenset({A, R, C, U, P})),
    NavItem("find_student", "/elev", frozenset({A, R, C, U})),
    NavItem("inventory", "/inventering", frozenset({R})),
    NavItem("box_session", "/arkiv/kartong", frozenset({R})),
    NavItem("verify_session", "/arkiv/kontroll", frozenset({R})),
    NavItem("school_year", "/lasar", frozenset({R})),
    NavItem("deliveries", "/skola/leverans", frozenset({C}), school_custodian_only=True),
    NavItem("holdings", "/skola/innehav", frozenset({C, P}), school_custodian_only=True),
    NavItem("assignments", "/personal/kopplingar", frozenset({A})),
    NavItem("shelf_list", "/arkiv/hyllforteckning", frozenset({A, R, C, U}),
            archive_custodian_only=True),
    NavItem("archive_deliveries", "/arkiv/leveranser", frozenset({A, R, C, U}),
            archive_custodian_only=True),
    NavItem("finding_aid", "/arkiv/forteckning", frozenset({A, R, C, U}),
            archive_custodian_only=True),
    NavItem("culls", "/gallring", frozenset({A, R, C, U})),
    NavItem("request_log", "/bestallningar", frozenset({A, R, C, U, P})),
    NavItem("audit", "/granskning", frozenset({A, R, U})),
    NavItem("staff", "/personal", frozenset({A})),
)

HOME: Final = {
    A: "/oversikt",
    R: "/oversikt",
    C: "/inkorg",
    P: "/bestall",
    T: "/bestall",
    M: "/bestall",
    U: "/granskning",
}


def menu(role: Role, school_id: str | None = None) -> list[NavItem]:
    return [item for item in NAV if role in item.roles and not (
        item.archive_custodian_only and role is C and school_id is not None) and not (
        item.school_custodian_only and role is C and school_id is None)]


def home(role: Role) -> str:
    return HOME.get(role, "/oversikt")


def safe_next(path: str | None) -> str | None:
    """A local path to return to after sign-in, never another site (``//evil``)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    if path.startswith(("/login", "/logout", "/api/")):
        return None
    return path
