"""Every rights rule lives in ``application/policy.py``: the use cases, the queries and
every door of the API (routes, web pages, observability) call its named functions and
never compare roles, call ``require(`` or raise ``NotAuthorisedError`` themselves, so a
new door cannot forget a rule or write a different one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

RIGHTS_RULE = re.compile(
    r"\brequire\("                                    # the policy's generic role check
    r"|NotAuthorisedError\("                          # a refusal written in place
    r"|\.role\s+(?:is|==|!=|in|not)\b"                # principal.role is/in ...
    r"|(?:\bis|==|!=|\bin)\s+\(?\s*Role\.\w+"         # ... is Role.X, in (Role.X, ...)
)

# Not rights rules, and why.
ALLOWED = {
    # The web session's CSRF check: proof that the browser's user sent the change
    # (authentication of the request), not a decision about what they may do.
    ("api/deps.py", 'raise NotAuthorisedError('),
    # Reading an identity provider's claims: which of our roles a claim value names (a
    # parse of the claim, not a decision about what the person may do).
    ("application/credentials.py", "not in Role.__members__.values()"),
    ("application/credentials.py", "elif value in Role.__members__.values()"),
    ("application/credentials.py", "role is Role.CUSTODIAN) else None"),
}


def scanned() -> list[Path]:
    """Every module of the application but the policy itself, and every door."""
    files = [p for p in sorted((ROOT / "application").glob("**/*.py")) if p.name != "policy.py"]
    return files + sorted((ROOT / "api").glob("**/*.py"))


def rules_outside_policy() -> list[str]:
    found = []
    for path in scanned():
        relative = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if RIGHTS_RULE.search(code) and not any(
                    relative == f and snippet in code for f, snippet in ALLOWED):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_no_rights_rule_outside_policy() -> None:
    assert rules_outside_policy() == []


def test_the_pattern_finds_each_kind_of_rights_rule() -> None:
    for line in ['require(principal, Role.ADMIN, doing="x")',
                 'raise NotAuthorisedError("no")',
                 "if principal.role is Role.CUSTODIAN:",
                 "if actor.role in READERS:",
                 "if role in (Role.TEACHER, Role.MENTOR):"]:
        assert RIGHTS_RULE.search(line), line
    for line in ["require_audit(principal)", "require_custody_of(principal, copy, doing='x')",
                 "roles = menu(principal.role)", "raise refused_request(refusal)"]:
        assert not RIGHTS_RULE.search(line), line


NAVIGATION = ROOT / "api" / "web" / "navigation.py"
ROLE_LIST = re.compile(r"\bRole\b|frozenset\(|\{\s*[A-Z]\s*[,}]|domain\.actor")
"""A role, a set of roles (``frozenset({A, R})``, ``{C}``), or the import they need."""


def test_the_menu_asks_the_policy_and_keeps_no_role_lists() -> None:
    """Which links a principal sees is decided by the policy's ``may_…`` predicates (the
    rule its ``require_…`` uses), not by role sets in the menu: a second copy of the rules."""
    from api.web.navigation import NAV

    lines = [f"{number}: {line.strip()}" for number, line in
             enumerate(NAVIGATION.read_text(encoding="utf-8").splitlines(), 1)
             if ROLE_LIST.search(line)]
    assert lines == []
    assert {item.shown.__module__ for item in NAV} == {"application.policy"}


def test_the_menu_pattern_finds_role_lists() -> None:
    for line in ['NavItem("inbox", "/inkorg", frozenset({C}))',
                 "    roles: frozenset[Role]", "from domain.actor import Role",
                 "A, R = Role.ADMIN, Role.ARCHIVIST", 'NavItem("x", "/x", {R, U})']:
        assert ROLE_LIST.search(line), line
    for line in ['NavItem("inbox", "/inkorg", policy.may_decide_requests)',
                 '    "admin": "/oversikt",', "def menu(principal: Principal) -> list[NavItem]:"]:
        assert not ROLE_LIST.search(line), line
