"""What the archive agreement's readiness counts, from the views.

:func:`count_readiness` is the definition, over documents; a SQL view store counts the
same in the database (``SQLViewStore.readiness_counts``): two queries, one aggregate and
one that returns only the students still missing something, reading no document into
Python and opening no personal data (a test holds the two to the same answer).

Of the captured students (records of student documentation): ``printed`` (an archive
copy neither replaced nor culled), ``archived`` (that copy filed or verified),
``verified``; ``missing``: every student whose archive copy is not verified, in record-id
order (the store's key order), with the copy's status (``None``: none printed).

The domain keeps at most one such archive copy per record (a second is printed only as a
reprint, which replaces the first), so which one "counts" needs no order.

Imports: the standard library and the domain's enums only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.record import CopyStatus, Kind, Purpose

Doc = dict[str, Any]

GONE = (CopyStatus.REPLACED, CopyStatus.CULLED)
"""Archive copies that no longer count."""


def count_readiness(records: Iterable[Doc], copies: Iterable[Doc]) -> Doc:
    """``{"students", "printed", "archived", "verified", "missing"}``; each missing item
    is ``{"record_id", "school_id", "archive_copy"}``. ``records`` in key order."""
    archive = {c["id"]: c for c in copies if c["purpose"] == Purpose.ARCHIVE}
    students = printed = archived = verified = 0
    missing: list[Doc] = []
    for record in records:
        if record["kind"] != Kind.STUDENT_DOCUMENTATION:
            continue
        students += 1
        live = [archive[c] for c in record["copy_ids"]
                if c in archive and archive[c]["status"] not in GONE]
        status = live[0]["status"] if live else None
        printed += bool(live)
        archived += status in (CopyStatus.ARCHIVED, CopyStatus.VERIFIED)
        if status == CopyStatus.VERIFIED:
            verified += 1
        else:
            missing.append({"record_id": record["id"], "school_id": record["school_id"],
                            "archive_copy": status})
    return {"students": students, "printed": printed, "archived": archived,
            "verified": verified, "missing": missing}
