"""The student's personal data and a hand-over outside the municipality, from the record
page: protected identity (set, lift), a new personnummer, the register extract (GDPR art.
15) to download, the student's access log, and the hand-over of a school copy to another
organiser with its receipt.

Each POST calls the same use case as the API (``/api/v1/students/{pnr}/…``,
``/api/v1/records/{id}/copies/{copy}/external-handover``) and redirects back to the record
(``?klart=<what>``); a domain error is shown beside its field in the page's language, a
refusal as the refusal page (nothing is changed either way). Pages address the student by
record id, never by personnummer: a URL is logged and shared.

| URL (POST unless noted) | for | what |
| --- | --- | --- |
| ``/post/{id}/skydd`` | archivist | mark the identity as protected |
| ``/post/{id}/skydd/havning`` | archivist | lift the protection |
| ``/post/{id}/personnummer`` | archivist | a new personnummer (both numbers find the record) |
| ``GET /post/{id}/registerutdrag?format=html/pdf/json`` | archivist | the register extract |
| ``GET /post/{id}/atkomstlogg?fran=`` | archivist, auditors | the access log, in pages |
| ``/post/{id}/exemplar/{copy}/extern-overlamning`` | the unit's custodian | hand over |
| ``/post/{id}/exemplar/{copy}/extern-kvittens`` | that custodian, archivist | its receipt |

May import the application and the domain.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.extract_document import extract_html, extract_pdf
from api.problems import status_of
from api.web.deps import CSRF, WebUser
from api.web.paging import PAGE_SIZE
from api.web.rendering import Directory, WebRoute, redirect, render, translator
from api.web.work import render_record
from application.policy import Principal
from domain.errors import DomainError, InvalidInputError, NotAuthorisedError

router = APIRouter(include_in_schema=False, route_class=WebRoute)
NO_STORE = {"Cache-Control": "no-store"}


def field_errors(request: Request, form: str, error: DomainError,
                 default_field: str) -> dict[str, dict[str, str]]:
    """``{form: {field: text}}``: the error by its code, beside the field it names."""
    field = error.field if isinstance(error, InvalidInputError) and error.field else None
    t = translator(request)
    text = t.message(error).text
    name = (field or default_field).split(".")[-1]
    if error.code == "invalid_input" and t.has(f"personal.errors.{name}"):
        text = t(f"personal.errors.{name}")  # the class's general text says less
    return {form: {name: text}}


def step(request: Request, principal: Principal, record_id: UUID, form: str, field: str,
         done: str, run: Callable[[], Any], values: dict[str, str] | None = None) -> Response:
    """Run one use case; a refusal is the refusal page, any other domain error is shown
    beside its form on the record page."""
    try:
        run()
    except NotAuthorisedError:
        raise
    except DomainError as error:
        status, _ = status_of(error)
        return render_record(request, principal, record_id, status=status,
                             errors=field_errors(request, form, error, field),
                             values={f"{form}.{k}": v for k, v in (values or {}).items()})
    return redirect(f"/post/{record_id}?klart={done}#personuppgifter")


def personnummer_of(request: Request, principal: Principal, record_id: UUID) -> str:
    """The student's number as this person may see it ("" when hidden: the use case then
    refuses on the role before it looks anything up)."""
    record = get_runtime(request).queries.record(principal, record_id)
    return str((record.get("student") or {}).get("personnummer") or "")


@router.post("/post/{record_id}/skydd", dependencies=CSRF)
def protect(request: Request, record_id: UUID, principal: WebUser,
            reason: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    number = personnummer_of(request, principal, record_id)
    return step(request, principal, record_id, "protect", "reason", "protected",
                lambda: custody.protect(principal, number, reason.strip() or None),
                {"reason": reason})


@router.post("/post/{record_id}/skydd/havning", dependencies=CSRF)
def lift_protection(request: Request, record_id: UUID, principal: WebUser) -> Response:
    custody = get_runtime(request).custody
    number = personnummer_of(request, principal, record_id)
    return step(request, principal, record_id, "lift_protection", "lift_protection",
                "protection_lifted", lambda: custody.lift_protection(principal, number))


@router.post("/post/{record_id}/personnummer", dependencies=CSRF)
def renumber(request: Request, record_id: UUID, principal: WebUser,
             new_personnummer: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    number = personnummer_of(request, principal, record_id)
    return step(request, principal, record_id, "renumber", "new_personnummer", "renumbered",
                lambda: custody.renumber(principal, number, new_personnummer.strip()),
                {"new_personnummer": new_personnummer})


@router.post("/post/{record_id}/exemplar/{copy_id}/extern-overlamning", dependencies=CSRF)
def hand_over_externally(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser,
                         organiser: Annotated[str, Form()] = "",
                         school: Annotated[str, Form()] = "",
                         receipt_reference: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    return step(request, principal, record_id, "external_handover", "organiser",
                "handed_over_externally",
                lambda: custody.hand_over_externally(
                    principal, record_id, copy_id, organiser=organiser, school=school,
                    receipt_reference=receipt_reference.strip() or None),
                {"organiser": organiser, "school": school,
                 "receipt_reference": receipt_reference})


@router.post("/post/{record_id}/exemplar/{copy_id}/extern-kvittens", dependencies=CSRF)
def external_receipt(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser,
                     receipt_reference: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    return step(request, principal, record_id, "external_receipt", "receipt_reference",
                "external_receipt",
                lambda: custody.record_external_receipt(principal, record_id, copy_id,
                                                        receipt_reference),
                {"receipt_reference": receipt_reference})


@router.get("/post/{record_id}/registerutdrag")
def register_extract(request: Request, record_id: UUID, principal: WebUser,
                     format: Literal["html", "pdf", "json"] = "html") -> Response:
    """The extract as a file to keep or send (the same document as the API's)."""
    doc = get_runtime(request).queries.extract(principal, record_id)
    lang = translator(request).lang
    name = f"registerutdrag-{record_id}"
    if format == "pdf":
        return Response(extract_pdf(doc, lang), media_type="application/pdf", headers={
            **NO_STORE, "Content-Disposition": f'attachment; filename="{name}.pdf"'})
    if format == "json":
        body = json.dumps(doc, ensure_ascii=False, indent=2, default=str).encode()
        return Response(body, media_type="application/json", headers={
            **NO_STORE, "Content-Disposition": f'attachment; filename="{name}.json"'})
    return Response(extract_html(doc, lang), media_type="text/html; charset=utf-8", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{name}.html"'})


def via(route: str) -> str:
    """Which door a read came through, as a key (``access.via.<key>``)."""
    path = route.split(" ", 1)[-1]
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/"):
        return "web"
    return "cli" if route else "unknown"


@router.get("/post/{record_id}/atkomstlogg")
def access_log(request: Request, record_id: UUID, principal: WebUser,
               fran: Annotated[str | None, Query(max_length=400)] = None) -> Response:
    """Who read the student's personal data and when, oldest first, a page at a time."""
    queries = get_runtime(request).queries
    page = queries.access_log(principal, record_id, limit=PAGE_SIZE, cursor=fran or None)
    t = translator(request)
    names = Directory(request, t)
    rows = [{"at": item["at"], "who": names.person(item["actor"]),
             "action": t.optional("access.action." + str(item["action"]).replace(" ", "_"),
                                  t("access.action.other")),
             "via": t("access.via." + via(str(item.get("route") or ""))),
             "refused": item["outcome"] != "allowed"} for item in page["items"]]
    return render(request, "access_log.html", principal=principal, record_id=record_id,
                  rows=rows, next_cursor=page["next_cursor"], first_page=not fran,
                  canonical=f"/post/{record_id}/atkomstlogg", title_key="access.title")
