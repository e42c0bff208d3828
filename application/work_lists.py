"""Work lists for steps done in bulk from the web: which students still need a copy
printed. The steps themselves are the ordinary use cases, one record at a time.

May import the application's queries and policy, and the domain.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.policy import Principal, require_archive_copy_work
from application.queries import CustodyQueries, sort_key
from domain.record import CopyStatus


def needing_print(queries: CustodyQueries, principal: Principal, purpose: str,
                  school_id: str | None = None) -> list[UUID]:
    """Students (of ``school_id``, if given) with no live copy of ``purpose`` yet, in
    personnummer order."""
    require_archive_copy_work(principal, doing="print copies")
    queries.fresh()
    found: list[tuple[tuple[Any, ...], UUID]] = []
    students = [r for r in queries.students()
                if not (school_id and r.get("school_id") != school_id)
                and r.get("status") != "culled" and r.get("personal")]
    # Every student's copies in one read (one query per 500), not one query per student.
    copies = {c["id"]: c for c in queries.views.get_many(
        "copies", [c for r in students for c in r.get("copy_ids", [])])}
    for record in students:
        if any(c["purpose"] == purpose
               and c["status"] not in (CopyStatus.REPLACED, CopyStatus.CULLED)
               for c in (copies[i] for i in record.get("copy_ids", []) if i in copies)):
            continue
        found.append((sort_key(record["personal"].get("personnummer")), UUID(record["id"])))
    found.sort(key=lambda pair: pair[0])
    return [record_id for _, record_id in found]
