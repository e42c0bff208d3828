"""Copy, request and culling-list statuses are named by their enums (``CopyStatus``,
``RequestStatus`` in ``domain/record.py`` / ``domain/request.py``; ``ListStatus``,
``ItemStatus`` in ``domain/culling_list.py``), never written as raw strings in the
application, the infrastructure or the API: a status renamed or added then shows up in
every place that decides on it. The enums are ``StrEnum``, so stored values, JSON and
templates are unchanged.

The scan (an AST walk, not a regex): a string constant equal to one of the enums' values,
on a side of a comparison (``==``, ``in (...)``), as the value assigned (also in a tuple or
``x if c else y``), as a dict value or a ``status…=`` keyword argument. SQL text and
templates are not Python constants of that shape, so they are not scanned here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from domain.culling_list import ItemStatus, ListStatus
from domain.record import CopyStatus
from domain.request import RequestStatus

ROOT = Path(__file__).resolve().parents[2]
STATUSES = frozenset(s.value for e in (CopyStatus, RequestStatus, ListStatus, ItemStatus)
                     for s in e)

# (file, where, value): the same word meaning something other than such a status.
ALLOWED = {
    # The placeholder reason of a withdrawal given none (domain/culling_list.py), not a status.
    ("api/printable.py", "reason", "withdrawn"),
    # Counter names of the migration's progress, not statuses.
    ("application/progress.py", "COUNTERS", "printed"),
    ("application/progress.py", "COUNTERS", "archived"),
    ("application/progress.py", "COUNTERS", "verified"),
    ("application/progress.py", "COUNTERS", "culled"),
    ("api/web/presenters.py", "STAGES", "printed"),
    ("api/web/presenters.py", "STAGES", "archived"),
    ("api/web/presenters.py", "STAGES", "verified"),
    # A record's own status in the views (captured | culled): records have no status enum.
    ("application/progress.py", "record['status']", "culled"),
    ("application/projections/projector.py", "record['status']", "culled"),
    ("api/web/work.py", "record.get('status')", "culled"),
    ("application/work_lists.py", "r.get('status')", "culled"),
    # An API token's status (active | expired | withdrawn | revoked).
    ("application/credentials.py", "status", "withdrawn"),
    # How a departure was handled (a field of the departure, not of a copy).
    ("application/projections/projector.py", "departure['handled']", "culled"),
    ("application/projections/projector.py", "departure['handled']",
     "handed_over_externally"),
    # A verification's outcome (ok | discrepancy), not the copy's status.
    ("application/projections/projector.py", "e.outcome", "discrepancy"),
    ("api/web/presenters.py", "outcome", "discrepancy"),
    ("api/web/sessions.py", "result", "discrepancy"),
    # The reasons a student is missing from readiness (locale keys readiness.missing.*).
    ("api/web/lists.py", "MISSING_REASONS", "discrepancy"),
    ("api/web/presenters.py", "CopyStatus.DISCREPANCY", "discrepancy"),
}


def _constants(node: ast.AST | None) -> Iterator[ast.Constant]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            yield from _constants(element)
    elif isinstance(node, ast.IfExp):
        yield from _constants(node.body)
        yield from _constants(node.orelse)


def _raw_statuses(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """(line, where, value) of each raw status; ``where`` names what it is compared with,
    assigned to or keyed by."""
    for node in ast.walk(tree):
        pairs: list[tuple[str, ast.AST | None]] = []
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            other = next((s for s in sides if not next(_constants(s), None)), sides[0])
            pairs = [(ast.unparse(other), s) for s in sides]
        elif isinstance(node, ast.Assign):
            pairs = [(ast.unparse(node.targets[0]), node.value)]
        elif isinstance(node, ast.AnnAssign):
            pairs = [(ast.unparse(node.target), node.value)]
        elif isinstance(node, ast.Dict):
            pairs = [(ast.unparse(k) if k is not None else "**", v)
                     for k, v in zip(node.keys, node.values, strict=True)]
        elif isinstance(node, ast.keyword) and node.arg and "status" in node.arg:
            pairs = [(node.arg, node.value)]
        for where, value in pairs:
            for constant in _constants(value):
                if constant.value in STATUSES:
                    yield constant.lineno, where.replace('"', "'"), constant.value


def raw_statuses() -> list[str]:
    found = []
    for package in ("application", "infrastructure", "api"):
        for path in sorted((ROOT / package).glob("**/*.py")):
            name = path.relative_to(ROOT).as_posix()
            for line, where, value in _raw_statuses(ast.parse(path.read_text())):
                if (name, where, value) not in ALLOWED:
                    found.append(f"{name}:{line}: {value!r} ({where})")
    return sorted(set(found))


def test_statuses_are_named_by_their_enums() -> None:
    assert raw_statuses() == []


def test_the_scan_finds_a_raw_status() -> None:
    source = ('if copy["status"] == "archived": pass\n'
              'held = copy["status"] in ("printed", "at_school")\n'
              'doc["status"] = "granted" if ok else "refused"\n'
              'row = {"status": "withdrawn"}\n'
              'views.find("copies", status="in_transit")\n'
              'fine = copy["status"] == CopyStatus.ARCHIVED\n'
              'other = copy["kind"] == "student_documentation"\n')
    found = sorted((line, value) for line, _, value in _raw_statuses(ast.parse(source)))
    assert found == sorted([(1, "archived"), (2, "printed"), (2, "at_school"), (3, "granted"),
                            (3, "refused"), (4, "withdrawn"), (5, "in_transit")])


def test_every_allowed_exception_is_still_there() -> None:
    """An allow-list entry whose code is gone is removed, not left to excuse a new one."""
    seen = set()
    for package in ("application", "infrastructure", "api"):
        for path in sorted((ROOT / package).glob("**/*.py")):
            name = path.relative_to(ROOT).as_posix()
            seen |= {(name, where, value)
                     for _, where, value in _raw_statuses(ast.parse(path.read_text()))}
    assert ALLOWED <= seen, ALLOWED - seen
