"""The auditor's pages, and an event's inclusion proof.

| URL | for | purpose |
| --- | --- | --- |
| ``/logg/{seq}`` | auditors, custodians | an event's inclusion proof in the transparency log |
| ``/granskning`` | auditors | checkpoint, verification, export bundle |
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web.deps import CSRF, WebUser
from api.web.rendering import WebRoute, render
from application.policy import Principal, require_audit, require_log_proofs

router = APIRouter(include_in_schema=False, route_class=WebRoute)


@router.get("/logg/{seq}")
def proof_page(request: Request, seq: int, principal: WebUser,
               post: UUID | None = None) -> Response:
    require_log_proofs(principal)
    log = get_runtime(request).log_reader
    log.seal_and_checkpoint()
    proof = log.proof_text(seq)
    return render(request, "proof.html", principal=principal, seq=seq, proof=proof,
                  record_id=str(post) if post else None, title_key="proof.title")


# -- the auditor ----------------------------------------------------------------------------------


def _audit_page(request: Request, principal: Principal, report: Any = None,
                seconds: float | None = None) -> Response:
    log = get_runtime(request).log_reader
    note = log.latest_checkpoint() or log.seal_and_checkpoint()
    lines = (note or "").split("\n")
    checkpoint = ({"origin": lines[0], "size": lines[1], "root": lines[2], "note": note}
                  if note and len(lines) > 2 else None)
    keys = [k.as_dict() for k in get_runtime(request).keyring.all()]
    return render(request, "audit.html", principal=principal, checkpoint=checkpoint, keys=keys,
                  report=report, seconds=seconds, canonical="/granskning",
                  title_key="audit.title")


@router.get("/granskning")
def audit(request: Request, principal: WebUser) -> Response:
    require_audit(principal)
    return _audit_page(request, principal)


@router.post("/granskning", dependencies=CSRF)
def run_verification(request: Request, principal: WebUser) -> Response:
    require_audit(principal, doing="verify the store")
    rt = get_runtime(request)
    events = rt.custody.recorder.max_notification_id() or 0
    started = time.monotonic()
    # In-process for everyday stores: a process pool forked from a threaded server is
    # fragile, and small stores verify in well under a second anyway.
    report = rt.verify(workers=1 if events < 50_000 else None)
    return _audit_page(request, principal, report=report,
                       seconds=time.monotonic() - started)


@router.get("/granskning/export")
def export(request: Request, principal: WebUser) -> Response:
    require_audit(principal, doing="export the store")
    data = get_runtime(request).export_bundle()
    return Response(data, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="custody-bundle.json"',
                             "Cache-Control": "no-store"})
