"""Archive deliveries (leveransreversal) and the finding aid (arkivförteckning) in the web
UI: the archivist delivers boxes of archive copies to the municipal archive, the archive's
custodian countersigns the receipt; the signed receipt prints (HTML) and downloads (PDF);
the finding aid is a paged, printable page and a Swedish spreadsheet (CSV: ``;``, BOM,
Swedish headers).

The same use cases as ``/api/v1/archive/…`` (:mod:`application.deliveries`); which forms
a page offers follows :mod:`application.policy`, and the use case still decides.

| URL (GET unless noted) | for | what |
| --- | --- | --- |
| ``/arkiv/leveranser`` | archive register readers | the deliveries; a new one |
| ``POST /arkiv/leveranser`` | archivist | deliver the chosen boxes |
| ``/arkiv/leveranser/{id}`` | archive register readers | the receipt; the countersigning form |
| ``POST /arkiv/leveranser/{id}/kvittens`` | the archive's custodian | countersign |
| ``/arkiv/leveranser/{id}/leveransreversal.pdf`` | archive register readers | the receipt as PDF |
| ``/arkiv/forteckning`` | archive register readers | the finding aid, in pages, printable |
| ``/arkiv/forteckning.csv`` | archive register readers | the finding aid as a spreadsheet |

May import the application and the domain.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.csv_export import Column, csv_response
from api.deps import get_runtime
from api.printable import receipt_printable, to_pdf
from api.problems import status_of
from api.web.deps import CSRF, WebUser
from api.web.paging import paginate
from api.web.rendering import WebRoute, redirect, render, translator
from application.deliveries import ArchiveDeliveries
from application.policy import (
    Principal,
    permits,
    require_archive_custodian,
    require_archive_delivery,
)
from domain.errors import DomainError, InvalidInputError, NotAuthorisedError

router = APIRouter(include_in_schema=False, route_class=WebRoute)

FINDING_AID: Final = [
    Column("series", "serie"), Column("box", "volym"), Column("shelf", "hylla"),
    Column("first_personnummer", "första personnummer"),
    Column("last_personnummer", "sista personnummer"), Column("first_date", "från"),
    Column("last_date", "till"), Column("copies", "antal exemplar"),
    Column("delivery_id", "leverans"), Column("first_reference", "första referens"),
    Column("last_reference", "sista referens"),
]
"""The finding aid's columns, Swedish headers as in the other spreadsheets."""


def deliveries_of(request: Request) -> ArchiveDeliveries:
    rt = get_runtime(request)
    return ArchiveDeliveries(rt.custody, rt.queries)


def delivers(principal: Principal) -> bool:
    return permits(require_archive_delivery, principal)


def countersigns(principal: Principal) -> bool:
    return permits(lambda p: require_archive_custodian(p, doing="countersign a delivery"),
                   principal)


def _list_page(request: Request, principal: Principal, *, sida: str | None = None,
               errors: dict[str, str] | None = None, chosen: list[str] | None = None,
               status: int = 200) -> Response:
    deliveries = deliveries_of(request)
    rows = deliveries.deliveries(principal)
    boxes = deliveries.deliverable_boxes(principal) if delivers(principal) else None
    done = request.query_params.get("klart")
    return render(request, "archive_deliveries.html", principal=principal,
                  paged=paginate(rows, sida, {}), boxes=boxes, errors=errors or {},
                  chosen=set(chosen or []), done="delivery_received"
                  if done == "delivery_received" else None,
                  status=status, canonical="/arkiv/leveranser",
                  title_key="deliveries.title")


@router.get("/arkiv/leveranser")
def deliveries_page(request: Request, principal: WebUser, sida: str | None = None) -> Response:
    return _list_page(request, principal, sida=sida)


@router.post("/arkiv/leveranser", dependencies=CSRF)
def deliver(request: Request, principal: WebUser,
            box: Annotated[list[str] | None, Form()] = None) -> Response:
    chosen = [b for b in (box or []) if b.strip()]
    try:
        doc = deliveries_of(request).deliver(principal, chosen)
    except NotAuthorisedError:
        raise
    except DomainError as error:
        status, _ = status_of(error)
        text = translator(request).message(error).text
        field = error.field if isinstance(error, InvalidInputError) and error.field else ""
        if not chosen:
            text = translator(request)("deliveries.choose_box")
        return _list_page(request, principal, errors={"boxes" if field.startswith("boxes")
                                                      or not field else field: text},
                          chosen=chosen, status=status)
    return redirect(f"/arkiv/leveranser/{doc['id']}?klart=delivery_made")


def _receipt_page(request: Request, principal: Principal, delivery_id: UUID, *,
                  error: str | None = None, note: str = "", status: int = 200) -> Response:
    doc = deliveries_of(request).delivery(principal, delivery_id)
    done = request.query_params.get("klart")
    return render(request, "archive_delivery.html", principal=principal, delivery=doc,
                  countersign=countersigns(principal) and doc["status"] == "delivered",
                  error=error, note=note, status=status,
                  done=done if done in ("delivery_made", "delivery_received") else None,
                  canonical=f"/arkiv/leveranser/{delivery_id}",
                  title_key="deliveries.receipt_title")


@router.get("/arkiv/leveranser/{delivery_id}")
def delivery_page(request: Request, delivery_id: UUID, principal: WebUser) -> Response:
    return _receipt_page(request, principal, delivery_id)


@router.post("/arkiv/leveranser/{delivery_id}/kvittens", dependencies=CSRF)
def countersign(request: Request, delivery_id: UUID, principal: WebUser,
                note: Annotated[str, Form()] = "") -> Response:
    try:
        deliveries_of(request).receive(principal, delivery_id, note.strip() or None)
    except NotAuthorisedError:
        raise
    except DomainError as error:
        status, _ = status_of(error)
        return _receipt_page(request, principal, delivery_id, status=status, note=note,
                             error=translator(request).message(error).text)
    return redirect(f"/arkiv/leveranser/{delivery_id}?klart=delivery_received")


@router.get("/arkiv/leveranser/{delivery_id}/leveransreversal.pdf")
def receipt_pdf(request: Request, delivery_id: UUID, principal: WebUser) -> Response:
    doc = deliveries_of(request).delivery(principal, delivery_id)
    pdf = to_pdf(receipt_printable(doc, translator(request).lang))
    return Response(pdf, media_type="application/pdf", headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="leveransreversal-{delivery_id}.pdf"'})


def _volumes(request: Request, principal: Principal) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    series = deliveries_of(request).finding_aid(principal)["series"][0]
    return series, [{**v, "series": series["code"]} for v in series["volumes"]]


@router.get("/arkiv/forteckning")
def finding_aid(request: Request, principal: WebUser, sida: str | None = None) -> Response:
    series, volumes = _volumes(request, principal)
    return render(request, "finding_aid.html", principal=principal, series=series,
                  paged=paginate(volumes, sida, {}),
                  printed_at_iso=dt.datetime.now(dt.UTC).isoformat(),
                  title_key="finding_aid.title")


@router.get("/arkiv/forteckning.csv")
def finding_aid_csv(request: Request, principal: WebUser) -> Response:
    _, volumes = _volumes(request, principal)
    return csv_response(volumes, FINDING_AID, "arkivforteckning.csv", swedish=True)
