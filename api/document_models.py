"""The JSON shapes of the documents that are also served as HTML, PDF or CSV (culling
protocol, delivery receipt, finding aid, register extract), for the OpenAPI document.

The routes answer these as a plain ``Response`` (one document, several formats), so the
models only declare the JSON; fields are typed to their first level, the nested parts
as objects. Imports: pydantic and ``api.models``.
"""

from __future__ import annotations

from typing import Any

from api.models import Json, Open


class ProtocolBody(Open):
    format: str
    title: str
    origin: str
    culling_list_id: str
    legal_basis: Json
    school_year: int | None = None
    note: str | None = None
    proposed_by: str
    proposed_by_name: str | None = None
    approved_by: str | None = None
    approved_by_name: str | None = None
    items: list[Json]
    list_events: list[Json]
    certificates: list[Any]
    issued_at: str


class CullingProtocol(Open):
    """A culling list's protocol (gallringsprotokoll), signed by the service."""

    protocol: ProtocolBody
    signature: Any


class DeliveryReceipt(Open):
    """A delivery to the archive authority and its receipt (leveransreversal)."""

    id: str
    status: str
    boxes: list[Json]
    copies: int
    delivered_by: str
    delivered_by_name: str | None = None
    delivered_at: str | None = None
    received_by: str | None = None
    received_by_name: str | None = None
    received_at: str | None = None


class FindingAid(Open):
    """The finding aid (arkivförteckning): series, each with its volumes (boxes)."""

    series: list[Json]


class RegisterExtract(Open):
    """The register extract (registerutdrag, GDPR art. 15) of one student."""

    produced_at: str
    produced_by: str
    student: Json
    record: Json
    documents: list[Json]
    copies: list[Json]
    recipients: list[Json]
    movements: list[Json]
    culls: list[Json]
    access_log: list[Json]


def json_or(model: type[Open], *others: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering ``model`` as JSON, or the ``others`` media
    types (``text/html``, ``application/pdf``, ``text/csv``)."""
    return {200: {"model": model, "content": {media: {} for media in others}}}
