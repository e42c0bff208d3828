"""What the migration's progress counts, per school unit, from the views.

:func:`count_progress` is the definition, over documents; a SQL view store counts the
same in the database (``SQLViewStore.progress_counts``), reading no document into
Python and opening no personal data (a test holds the two to the same numbers).

Per school unit (the record's ``school_id``):
- ``captured``: student documentation captured; ``general_information``: other records,
  of which ``culled`` were culled;
- of the students: ``printed`` (an archive copy not replaced), ``archived`` (one filed or
  verified), ``verified``, ``delivered`` (a school copy delivered), ``ist_entered``.

Imports: the standard library and the domain's ``CopyStatus``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.record import CopyStatus

Doc = dict[str, Any]

COUNTERS = ("captured", "printed", "archived", "verified", "delivered", "ist_entered",
            "general_information", "culled")


def count_progress(records: Iterable[Doc], copies: Iterable[Doc]) -> dict[str, dict[str, int]]:
    """Counters per school unit that has a record (units without records are absent)."""
    by_id = {c["id"]: c for c in copies}
    out: dict[str, dict[str, int]] = {}
    for record in records:
        row = out.setdefault(str(record["school_id"]), dict.fromkeys(COUNTERS, 0))
        if record["kind"] != "student_documentation":
            row["general_information"] += 1
            row["culled"] += record["status"] == "culled"
            continue
        row["captured"] += 1
        mine = [by_id[c] for c in record["copy_ids"] if c in by_id]
        archive = [c for c in mine
                   if c["purpose"] == "archive" and c["status"] != CopyStatus.REPLACED]
        school = [c for c in mine if c["purpose"] == "school"]
        row["printed"] += bool(archive)
        row["archived"] += any(c["status"] in (CopyStatus.ARCHIVED, CopyStatus.VERIFIED)
                               for c in archive)
        row["verified"] += any(c["status"] == CopyStatus.VERIFIED for c in archive)
        row["delivered"] += any(c.get("delivered_at") for c in school)
        row["ist_entered"] += record.get("ist_entered") is not None
    return out
