"""Finding students by name, class or personnummer for the web's lists and search box.

For now this decrypts: the views hold each student's personal data readable only through
the per-student keys, so a name is matched by reading every student the caller may read.
It is one function so that a blind name index (another piece of work) can replace its
inside without any page changing.

May import the application's queries and policy, and the domain.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from application.policy import Principal, require_read, require_record_lookup
from application.queries import CustodyQueries, sort_key
from domain.errors import NotAuthorisedError
from domain.personnummer import InvalidPersonnummerError, Personnummer


@dataclass(frozen=True)
class StudentHit:
    record_id: str
    personnummer: str
    name: str
    class_name: str | None
    school_id: str


def fold(text: str) -> str:
    """Case- and accent-insensitive form for matching (``Åsa`` finds ``asa`` too)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def _as_personnummer(text: str) -> str | None:
    try:
        return Personnummer.parse(text).formatted()
    except InvalidPersonnummerError:
        return None


def find_students(queries: CustodyQueries, principal: Principal, text: str = "", *,
                  school_id: str | None = None, class_name: str | None = None
                  ) -> list[StudentHit]:
    """Students the caller may read whose name (every word, in any order), personnummer
    (any notation, or its digits) or class matches; in personnummer order."""
    require_record_lookup(principal)
    queries.fresh()
    wanted = [w for w in fold(text).split() if w]
    exact = _as_personnummer(text) if text.strip() else None
    digits = "".join(c for c in text if c.isdigit())
    hits: list[StudentHit] = []
    for record in queries.students():
        personal: dict[str, Any] = record.get("personal") or {}
        if not personal:
            continue
        if school_id and record.get("school_id") != school_id:
            continue
        if class_name and fold(str(personal.get("class") or "")) != fold(class_name):
            continue
        number = str(personal.get("personnummer") or "")
        name = str(personal.get("name") or "")
        if exact is not None:
            if number != exact:
                continue
        elif wanted:
            haystack = fold(name)
            number_digits = "".join(c for c in number if c.isdigit())
            if not (all(w in haystack for w in wanted)
                    or (len(digits) >= 4 and digits in number_digits)):
                continue
        try:
            copies = queries.views.get_many("copies", record.get("copy_ids", []))
            require_read(principal, record.get("school_id"),
                         (c.get("school_id") for c in copies))
        except NotAuthorisedError:
            continue
        hits.append(StudentHit(str(record["id"]), number, name,
                               personal.get("class"), str(record.get("school_id"))))
    hits.sort(key=lambda h: sort_key(h.personnummer))
    return hits


def student_labels(queries: CustodyQueries, principal: Principal,
                   rows: list[dict[str, Any]]) -> dict[str, StudentHit]:
    """The student (personnummer, name) behind each request row the caller was given.

    The rows come from :meth:`CustodyQueries.request_log`, which already limited them to
    what this caller may see: staff see their own requests (they named the student when
    ordering), a principal those about their school unit's students, a custodian those
    for their own copies. Nothing else is read."""
    labels: dict[str, StudentHit] = {}
    for row in rows:
        record_id = str(row.get("record_id") or "")
        if not record_id or record_id in labels:
            continue
        record = queries.views.get("records", record_id)
        personal: dict[str, Any] = (record or {}).get("personal") or {}
        if record is None or not personal:
            continue
        labels[record_id] = StudentHit(record_id, str(personal.get("personnummer") or ""),
                                       str(personal.get("name") or ""), personal.get("class"),
                                       str(record.get("school_id")))
    return labels
