"""The menu each role sees and the page each role starts on.

This only decides which links to show: every page still asks the application, which
enforces :mod:`application.policy`, so a typed URL a role may not use says so instead of
showing anything. Each link asks the policy's own predicate (``may_…``, the rule the
page's ``require_…`` uses), so nobody is shown a link that leads to a refusal and no rule
is written twice (``tests/unit/test_policy_room.py`` fails on role sets here).

May import the application's policy and the domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from application import policy
from application.policy import Principal


@dataclass(frozen=True)
class NavItem:
    key: str
    """The translation key of the link text (``nav.<key>``)."""
    path: str
    shown: Callable[[Principal], bool]
    """The policy's predicate: whether this principal gets the link."""


NAV: Final = (
    NavItem("inbox", "/inkorg", policy.may_decide_requests),
    NavItem("order", "/bestall", policy.may_order_documents),
    NavItem("overview", "/oversikt", policy.may_read_progress),
    NavItem("find_student", "/elev", policy.may_look_up_records),
    NavItem("inventory", "/inventering", policy.may_capture),
    NavItem("box_session", "/arkiv/kartong", policy.does_archive_work),
    NavItem("verify_session", "/arkiv/kontroll", policy.does_archive_work),
    NavItem("school_year", "/lasar", policy.may_close_school_year),
    NavItem("deliveries", "/skola/leverans", policy.is_school_custodian),
    NavItem("holdings", "/skola/innehav", policy.may_read_own_holdings),
    NavItem("assignments", "/personal/kopplingar", policy.may_set_up),
    NavItem("shelf_list", "/arkiv/hyllforteckning", policy.may_read_shelf_list),
    NavItem("archive_deliveries", "/arkiv/leveranser", policy.may_read_archive_register),
    NavItem("finding_aid", "/arkiv/forteckning", policy.may_read_archive_register),
    NavItem("culls", "/gallring", policy.may_read_culling_register),
    NavItem("culling_lists", "/gallringslistor", policy.may_read_culling_lists),
    NavItem("request_log", "/bestallningar", policy.sees_others_requests),
    NavItem("audit", "/granskning", policy.may_audit),
    NavItem("staff", "/personal", policy.may_set_up),
)

HOME: Final = {
    "admin": "/oversikt",
    "archivist": "/oversikt",
    "custodian": "/inkorg",
    "principal": "/bestall",
    "teacher": "/bestall",
    "mentor": "/bestall",
    "auditor": "/granskning",
}
"""Where each role starts (by the role's name): a preference, not a right — every start
page is in that role's menu (``tests/unit/test_navigation.py``)."""


def menu(principal: Principal) -> list[NavItem]:
    return [item for item in NAV if item.shown(principal)]


def home(principal: Principal) -> str:
    return HOME.get(principal.role.value, "/oversikt")


def safe_next(path: str | None) -> str | None:
    """A local path to return to after sign-in, never another site (``//evil``)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    if path.startswith(("/login", "/logout", "/api/")):
        return None
    return path
