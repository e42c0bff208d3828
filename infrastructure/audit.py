"""Verification of the live store (``custody verify``)."""

from __future__ import annotations

from collections.abc import Callable

from infrastructure.bootstrap import Runtime
from infrastructure.integrity import check_derived
from infrastructure.store_rows import iter_rows
from infrastructure.verification import VerifyReport, verify_rows


def verify_live(rt: Runtime, *, workers: int | None = None,
                progress: Callable[[int], None] | None = None) -> VerifyReport:
    report = verify_rows(iter_rows(rt.custody.recorder), rt.keyring.raw(), workers=workers,
                         progress=progress)
    rt.log.check(report)
    # The views, every stored tree node and the checkpoints (integrity.py).
    check_derived(rt, report)
    report.faults.sort(key=lambda f: (f.seq if f.seq is not None else -1, f.record_id))
    return report
