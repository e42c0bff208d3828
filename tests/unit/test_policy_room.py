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
