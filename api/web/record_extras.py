"""What the record page offers about the student's personal data and a hand-over outside
the municipality: protected identity, renumbering, the register extract, the access log.

Only asks :mod:`application.policy` (the use cases still decide); the forms themselves
are in ``templates/_record_personal.html``, their handlers in :mod:`api.web.personal_data`.

May import the application and the domain.
"""

from __future__ import annotations

from typing import Any

from application.policy import (
    Principal,
    does_personal_data_work,
    hands_over_externally,
    permits,
    records_external_receipt,
    require_access_log_reader,
    require_register_extract,
    sees_protected_identities,
)
from domain.record import CopyStatus


def personal_actions(principal: Principal, record: dict[str, Any]) -> dict[str, Any]:
    """The personal-data forms and links for this person on this record."""
    student_doc = record.get("kind") == "student_documentation"
    live = student_doc and not record.get("shredded")
    protected = bool((record.get("student") or {}).get("protected"))
    work = live and does_personal_data_work(principal)
    moved_away = (record.get("departure") or {}).get("reason") == "moved_away"
    school_copies = [c for c in record.get("copies", []) if c["purpose"] == "school"]
    handover = next((c for c in school_copies if moved_away and c["status"] == CopyStatus.AT_SCHOOL
                     and not c.get("on_loan")
                     and hands_over_externally(principal, c.get("school_id"))), None)
    receipt = next((c for c in school_copies if c["status"] == CopyStatus.HANDED_OVER_EXTERNALLY
                    and not (c.get("external_handover") or {}).get("receipt_reference")
                    and records_external_receipt(principal, c.get("school_id"))), None)
    offered = {
        "protect": work and not protected,
        "lift_protection": work and protected,
        "renumber": work,
        "extract": student_doc and permits(require_register_extract, principal),
        "access_log": student_doc and permits(require_access_log_reader, principal),
        "external_handover": handover,
        "external_receipt": receipt,
    }
    return {**offered, "personal_any": any(bool(v) for v in offered.values()),
            "shows_protection": protected and sees_protected_identities(principal)}
