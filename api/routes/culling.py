"""Culling as it happens on paper: the register of culling decisions, culling lists
(propose, approve, destroy, withdraw), their signed protocols; the handover of a copy
outside the municipality."""

from __future__ import annotations

import base64
import json
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import CullingDep, CurrentActor, CustodyDep, ExportsDep, QueriesDep
from api.document_models import CullingProtocol, json_or
from api.printable import protocol_printable, to_html, to_pdf
from api.routes.records import after_command
from api.schemas import (
    ApprovalIn,
    CopyCullIn,
    CullDone,
    CullingDecisionCreate,
    CullingListCreate,
    DestructionIn,
    ExternalHandoverIn,
    ExternalReceiptIn,
    WithdrawalIn,
)
from application.culling import Destruction, ItemIn, PointIn
from application.policy import require_list_reader
from domain.errors import InvalidInputError

router = APIRouter(prefix="/api/v1", tags=["culling"])
Doc = dict[str, Any]
NO_STORE = {"Cache-Control": "no-store"}


def page(rows: list[Doc], limit: int, cursor: str | None) -> Doc:
    """``{"items", "next_cursor"}``: the cursor is the opaque position of the next item."""
    start = 0
    if cursor:
        try:
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
        except ValueError:
            raise InvalidInputError("the cursor is not one this service gave",
                                    field="cursor") from None
    chunk = rows[start:start + limit]
    following = start + limit
    next_cursor = (base64.urlsafe_b64encode(str(following).encode()).decode()
                   if following < len(rows) else None)
    return {"items": chunk, "next_cursor": next_cursor}


Limit = Query(100, ge=1, le=1000)


@router.get("/culling-decisions")
def decisions(actor: CurrentActor, culling: CullingDep, limit: int = Limit,
              cursor: str | None = Query(None, max_length=100)) -> Doc:
    """The register of culling decisions, each with its numbered points and the condition
    each point allows."""
    return page(culling.decisions(actor), limit, cursor)


@router.post("/culling-decisions", status_code=status.HTTP_201_CREATED)
def register_decision(body: CullingDecisionCreate, actor: CurrentActor,
                      culling: CullingDep) -> Doc:
    """Registers a culling decision and its points; a changed decision is a new one with
    its own id."""
    return culling.register_decision(
        actor, decision=body.id, body=body.body, date=body.date,
        points=[PointIn(p.point, p.text, p.allows) for p in body.points])


@router.post("/culling-lists", status_code=status.HTTP_201_CREATED)
def propose(body: CullingListCreate, actor: CurrentActor, culling: CullingDep) -> Doc:
    """Proposes a culling list: items under one point of a registered decision, each
    checked against that point's condition (422 naming the items that may not be
    culled)."""
    return culling.propose(actor, decision=body.decision, point=body.point,
                           items=[ItemIn(i.record_id, i.copy_id) for i in body.items],
                           note=body.note)


@router.get("/culling-lists")
def lists(actor: CurrentActor, culling: CullingDep, limit: int = Limit,
          cursor: str | None = Query(None, max_length=100),
          status: Literal["proposed", "approved", "rejected", "executed"] | None = None
          ) -> Doc:
    """The culling lists, optionally only those in one status."""
    return page(culling.lists(actor, status), limit, cursor)


@router.get("/culling-lists/{list_id}")
def culling_list(list_id: UUID, actor: CurrentActor, culling: CullingDep) -> Doc:
    """One culling list with its items and what happened to each."""
    return culling.culling_list(actor, list_id)


@router.post("/culling-lists/{list_id}/approval")
def approve(list_id: UUID, body: ApprovalIn, actor: CurrentActor, culling: CullingDep) -> Doc:
    """The principal of the items' school unit approves or rejects the list (a rejection
    says why; nothing on it is destroyed)."""
    return culling.decide(actor, list_id, approved=body.approved, reason=body.reason)


@router.post("/culling-lists/{list_id}/items/{copy_id}/destruction")
def destroy(list_id: UUID, copy_id: UUID, body: DestructionIn, actor: CurrentActor,
            culling: CullingDep) -> CullDone:
    """The holder confirms one item of an approved list destroyed (method, date, witness or
    contractor); the copy is culled and its certificate issued."""
    result = culling.destroy(actor, list_id, copy_id, Destruction(
        body.method, body.date, body.witness, body.contractor_reference))
    return CullDone(certificate_id=str(result.certificate_id), seq=result.seq)


@router.post("/culling-lists/{list_id}/items/{copy_id}/withdrawal")
def withdraw(list_id: UUID, copy_id: UUID, actor: CurrentActor, culling: CullingDep,
             body: WithdrawalIn | None = None) -> Doc:
    """Takes one item off the list: it is kept."""
    return culling.withdraw(actor, list_id, copy_id, body.reason if body else None)


@router.get("/culling-lists/{list_id}/protocol", response_model=None,
            responses=json_or(CullingProtocol, "text/html", "application/pdf"))
def protocol(list_id: UUID, exports: ExportsDep, actor: CurrentActor,
             format: Literal["json", "html", "pdf"] = "json",
             lang: Literal["sv", "en"] = "sv") -> Response:
    """The culling protocol of one list (gallringsprotokoll), as JSON, printable HTML or
    PDF (in Swedish, or English with ``lang=en``; the signed JSON is the same either way)."""
    require_list_reader(actor)
    document = exports.culling_protocol(list_id)
    name = f"gallringsprotokoll-{list_id}"
    if format == "html":
        return Response(to_html(protocol_printable(document, lang)),
                        media_type="text/html; charset=utf-8", headers=NO_STORE)
    if format == "pdf":
        return Response(to_pdf(protocol_printable(document, lang)), media_type="application/pdf",
                        headers={**NO_STORE,
                                 "Content-Disposition": f'inline; filename="{name}.pdf"'})
    return Response(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                    media_type="application/json", headers=NO_STORE)


@router.post("/records/{record_id}/copies/{copy_id}/cull")
def cull_copy(record_id: UUID, copy_id: UUID, body: CopyCullIn, actor: CurrentActor,
              culling: CullingDep) -> CullDone:
    """A paper copy: only from an approved culling list, then as its destruction there."""
    result = culling.cull_copy(actor, record_id, copy_id, decision=body.decision,
                               point=body.point, method=body.method, witness=body.witness)
    return CullDone(certificate_id=str(result.certificate_id), seq=result.seq)


@router.post("/records/{record_id}/copies/{copy_id}/external-handover")
def external_handover(record_id: UUID, copy_id: UUID, body: ExternalHandoverIn,
                      actor: CurrentActor, custody: CustodyDep, queries: QueriesDep) -> Doc:
    """Skollagen 3 kap. 12 j §: to a school of another organiser, with a receipt."""
    custody.hand_over_externally(actor, record_id, copy_id, organiser=body.organiser,
                                 school=body.school, receipt_reference=body.receipt_reference)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/copies/{copy_id}/external-handover/receipt")
def external_receipt(record_id: UUID, copy_id: UUID, body: ExternalReceiptIn,
                     actor: CurrentActor, custody: CustodyDep, queries: QueriesDep) -> Doc:
    """The receiving organiser's receipt for a school copy handed over to a school outside
    the municipality."""
    custody.record_external_receipt(actor, record_id, copy_id, body.receipt_reference)
    return after_command(actor, record_id, queries)
