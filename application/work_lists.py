"""Work lists for steps done in bulk from the web: which students still need a copy
printed. The steps themselves are the ordinary use cases, one record at a time.

May import the application's queries and policy, and the domain.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.policy import Principal, require_archive_copy_work
from application.queries import CustodyQueries, sort_key


def needing_print(queries: CustodyQueries, principal: Principal, purpose: str,
                  school_id: str | None = None) -> list[UUID]:
    """Students (of ``school_id``, if given) with no live copy of ``purpose`` yet, in
    personnummer order."""
    require_archive_copy_work(principal, doing="print copies")
    queries.fresh()
    found: list[tuple[tuple[Any, ...], UUID]] = []
    for record in queries.students():
        if school_id and record.get("school_id") != school_id:
            continue
        if record.get("status") == "culled" or not record.get("personal"):
            continue
        copies = queries.views.get_many("copies", record.get("copy_ids", []))
        if any(c["purpose"] == purpose and c["status"] not in ("replaced", "culled")
               for c in copies):
            continue
        found.append((sort_key(record["personal"].get("personnummer")), UUID(record["id"])))
    found.sort(key=lambda pair: pair[0])
    return [record_id for _, record_id in found]
