"""Personal data (issue 12): protected identity, the access log, the register extract,
renumbering. Everything about one student, addressed by personnummer (old or new)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentActor, CustodyDep, QueriesDep
from api.document_models import RegisterExtract, json_or
from api.extract_document import extract_html, extract_pdf
from application.policy import Principal, require_student_data_lookup
from application.service import Custody

router = APIRouter(prefix="/api/v1", tags=["personal data"])
Doc = dict[str, Any]
NO_STORE = {"Cache-Control": "no-store"}
Pnr = Annotated[str, Field(min_length=10, max_length=13)]


class ProtectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"reason": "skyddad folkbokföring enligt Skatteverket"}]})
    reason: Annotated[str | None, Field(max_length=500)] = None


class RenumberingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"new_personnummer": "20050505-0009"}]})
    new_personnummer: Pnr


@router.post("/students/{personnummer}/protection")
def protect(personnummer: str, actor: CurrentActor, custody: CustodyDep, queries: QueriesDep,
            response: Response, body: ProtectionIn | None = None) -> Doc:
    """Marks the student's identity as protected (skyddade personuppgifter): only named
    roles learn the name and school unit; the reason is sealed."""
    record_id = custody.protect(actor, personnummer, body.reason if body else None)
    response.headers.update(NO_STORE)
    return {"record_id": str(record_id), "protected": True}


@router.delete("/students/{personnummer}/protection", status_code=status.HTTP_204_NO_CONTENT)
def lift_protection(personnummer: str, actor: CurrentActor, custody: CustodyDep) -> Response:
    """Ends the student's protected identity."""
    custody.lift_protection(actor, personnummer)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/students/{personnummer}/renumbering")
def renumber(personnummer: str, body: RenumberingIn, actor: CurrentActor,
             custody: CustodyDep, queries: QueriesDep, response: Response) -> Doc:
    """Records a new personnummer from the tax agency; both numbers find the record and the
    archive copy keeps its filing place."""
    record_id = custody.renumber(actor, personnummer, body.new_personnummer)
    response.headers.update(NO_STORE)
    return queries.record(actor, record_id, action="renumbering")


@router.get("/students/{personnummer}/access-log")
def access_log(personnummer: str, actor: CurrentActor, custody: CustodyDep,
               queries: QueriesDep, response: Response,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               cursor: Annotated[str | None, Query(max_length=400)] = None) -> Doc:
    """Who read the student's personal data, and when, in pages."""
    response.headers.update(NO_STORE)
    return queries.access_log(actor, _record_id(actor, personnummer, custody), limit=limit,
                              cursor=cursor)


@router.get("/students/{personnummer}/extract", response_model=None,
            responses=json_or(RegisterExtract, "text/html", "application/pdf"))
def extract(personnummer: str, actor: CurrentActor, custody: CustodyDep, queries: QueriesDep,
            format: Literal["json", "html", "pdf"] = Query("json"),
            lang: Literal["sv", "en"] = Query("sv")) -> Response | Doc:
    """The register extract (registerutdrag) of what is kept about the student, as JSON,
    HTML or PDF (the HTML and PDF in Swedish, or English with ``lang=en``)."""
    doc = queries.extract(actor, _record_id(actor, personnummer, custody))
    if format == "html":
        return Response(extract_html(doc, lang), media_type="text/html; charset=utf-8",
                        headers=NO_STORE)
    if format == "pdf":
        return Response(extract_pdf(doc, lang), media_type="application/pdf", headers={
            **NO_STORE, "Content-Disposition": 'attachment; filename="registerutdrag.pdf"'})
    return Response(_json(doc), media_type="application/json", headers=NO_STORE)


def _record_id(actor: Principal, personnummer: str, custody: Custody) -> UUID:
    # The role first, so a caller who may not read learns nothing about the number.
    require_student_data_lookup(actor)
    return custody.student_record_id(personnummer)


def _json(doc: Doc) -> bytes:
    return json.dumps(doc, ensure_ascii=False, default=str).encode()
