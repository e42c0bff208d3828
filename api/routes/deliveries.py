"""Archive delivery receipts (leveransreversal) and the finding aid (arkivförteckning)."""

from __future__ import annotations

import csv
import io
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import CurrentActor, DeliveriesDep
from api.document_models import DeliveryReceipt, FindingAid, json_or
from api.models import CursorQuery, LimitQuery, Open, Page
from api.printable import Printable, Table, receipt_printable, to_html, to_pdf
from api.schemas import DeliveryCreate, DeliveryReceiptIn
from application.paging import DEFAULT_LIMIT, page_in_order

router = APIRouter(prefix="/api/v1/archive", tags=["archive"])
Doc = dict[str, Any]
NO_STORE = {"Cache-Control": "no-store"}
def _cell(row: Doc, column: str) -> Any:
    """A cell of a printed table: a bound's personnummer, or the reference the caller was
    given instead (the use case decided which)."""
    if column.endswith("_personnummer"):
        return row.get(column) or row.get(column.replace("_personnummer", "_reference"))
    return row.get(column)


def _formatted(doc: Doc, printable: Printable, fmt: str, name: str) -> Response | Doc:
    if fmt == "html":
        return Response(to_html(printable), media_type="text/html; charset=utf-8",
                        headers=NO_STORE)
    if fmt == "pdf":
        return Response(to_pdf(printable), media_type="application/pdf",
                        headers={**NO_STORE, "Content-Disposition": f'inline; filename="{name}"'})
    return doc


@router.post("/deliveries", status_code=status.HTTP_201_CREATED)
def deliver(body: DeliveryCreate, actor: CurrentActor, deliveries: DeliveriesDep,
            response: Response) -> Doc:
    """Delivers archive boxes to the archive authority; the delivery awaits the archive
    custodian's receipt."""
    response.headers.update(NO_STORE)
    return deliveries.deliver(actor, body.boxes)


class DeliverySummary(Open):
    """One delivery in the list: its boxes by name, who delivered and who countersigned."""

    id: str
    status: str
    boxes: list[str]
    copies: int
    delivered_by_name: str | None = None
    delivered_at: str | None = None
    received_by_name: str | None = None
    received_at: str | None = None


@router.get("/deliveries", response_model=Page[DeliverySummary],
            response_model_exclude_unset=True)
def deliveries_list(actor: CurrentActor, deliveries: DeliveriesDep,
                    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None) -> Any:
    """The deliveries to the archive, newest first, in pages (the archivist, the
    archive's custodian, the admin, auditors)."""
    return page_in_order(deliveries.deliveries(actor), "id", limit, cursor).as_dict()


@router.post("/deliveries/{delivery_id}/receipt")
def receive(delivery_id: UUID, actor: CurrentActor, deliveries: DeliveriesDep,
            response: Response, body: DeliveryReceiptIn | None = None) -> Doc:
    """The archive's custodian countersigns a delivery: the boxes are in the archive's
    custody."""
    response.headers.update(NO_STORE)
    return deliveries.receive(actor, delivery_id, body.note if body else None)


@router.get("/deliveries/{delivery_id}", response_model=None,
            responses=json_or(DeliveryReceipt, "text/html", "application/pdf"))
def delivery(delivery_id: UUID, actor: CurrentActor, deliveries: DeliveriesDep,
             response: Response, format: Literal["json", "html", "pdf"] = "json",
             lang: Literal["sv", "en"] = "sv") -> Response | Doc:
    """One delivery and its receipt (leveransreversal), as JSON, printable HTML or PDF (in
    Swedish, or English with ``lang=en``)."""
    response.headers.update(NO_STORE)
    doc = deliveries.delivery(actor, delivery_id)
    return _formatted(doc, receipt_printable(doc, lang), format,
                      f"leveransreversal-{delivery_id}.pdf")


@router.get("/finding-aid", response_model=None,
            responses=json_or(FindingAid, "text/html", "text/csv"))
def finding_aid(actor: CurrentActor, deliveries: DeliveriesDep, response: Response,
                format: Literal["json", "html", "csv"] = "json") -> Response | Doc:
    """The finding aid (arkivförteckning) of the archive boxes, as JSON, HTML or CSV."""
    response.headers.update(NO_STORE)
    doc = deliveries.finding_aid(actor)
    series = doc["series"][0]
    columns = ["box", "shelf", "first_personnummer", "last_personnummer", "first_date",
               "last_date", "copies", "delivery_id"]
    references = ["first_reference", "last_reference"]
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        writer.writerow(["serie", *columns, *references])
        for volume in series["volumes"]:
            writer.writerow([series["code"], *["" if volume.get(c) is None else volume.get(c)
                                               for c in columns + references]])
        return Response(buffer.getvalue().encode("utf-8-sig"),
                        media_type="text/csv; charset=utf-8",
                        headers={**NO_STORE, "Content-Disposition":
                                 'attachment; filename="arkivforteckning.csv"'})
    if format == "html":
        printable = Printable(
            title="Arkivförteckning",
            facts=[("Serie", f"{series['code']} {series['title']}")],
            tables=[Table("Volymer", ["volym", "hylla", "första personnummer",
                                      "sista personnummer", "från", "till", "antal",
                                      "leverans"],
                          [[_cell(v, c) for c in columns] for v in series["volumes"]])])
        return Response(to_html(printable), media_type="text/html; charset=utf-8",
                        headers=NO_STORE)
    return doc
