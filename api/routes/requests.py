"""Document requests: staff ask, the designated custodian decides, hands out, takes back."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from api import csv_export
from api.csv_export import csv_response, request_rows, wants_swedish
from api.deps import CurrentActor, CustodyDep, QueriesDep
from api.models import AcceptLanguage, CursorQuery, FormatQuery, LimitQuery, Page, RequestPublic
from api.schemas import (
    ActorIdQuery,
    DecisionIn,
    RequestCreate,
    RequestCreated,
    RequestStatusQuery,
    SchoolIdQuery,
)
from application.paging import DEFAULT_LIMIT
from domain.errors import InvalidInputError

router = APIRouter(prefix="/api/v1", tags=["requests"])
Doc = dict[str, Any]
REQUEST: dict[str, Any] = {"response_model": RequestPublic, "response_model_exclude_unset": True}


def _uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInputError(f"{field} must be a UUID", field=field) from None


@router.post("/requests", status_code=status.HTTP_201_CREATED)
def make_request(body: RequestCreate, actor: CurrentActor, custody: CustodyDep) -> RequestCreated:
    """Order a student's documentation from its custodian (teacher, mentor, principal);
    403 when the asker is not authorised for that student now — the refusal is logged."""
    request = custody.make_request(actor, _uuid(body.record_id, "record_id"), body.purpose)
    return RequestCreated(id=str(request.id), status=request.status.value)


@router.get("/requests", response_model=Page[RequestPublic], response_model_exclude_unset=True,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                             "description": "JSON, or with `format=csv` the whole log as CSV"}})
def request_log(actor: CurrentActor, queries: QueriesDep, school_id: SchoolIdQuery = None,
                status: RequestStatusQuery = None, actor_id: ActorIdQuery = None,
                limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
                format: FormatQuery = "json", accept_language: AcceptLanguage = None) -> Any:
    """The request log, refusals included, oldest first (staff see their own requests, a
    custodian those for their copies, a principal those about their school's students)."""
    if format == "csv":
        rows = queries.request_log(actor, school_id=school_id, status=status,
                                   actor_id=actor_id)
        return csv_response(request_rows(rows), csv_export.REQUESTS, "bestallningslogg.csv",
                            swedish=wants_swedish(accept_language))
    return queries.request_log_page(actor, limit, cursor, school_id=school_id, status=status,
                                    actor_id=actor_id).as_dict()


@router.get("/requests/{request_id}", **REQUEST)
def get_request(request_id: UUID, actor: CurrentActor, queries: QueriesDep) -> Doc:
    """One document request and what became of it."""
    return queries.request(actor, request_id)


@router.post("/requests/{request_id}/decision", **REQUEST)
def decide(request_id: UUID, body: DecisionIn, actor: CurrentActor, custody: CustodyDep,
           queries: QueriesDep) -> Doc:
    """Grant or refuse a pending request (the copy's custodian), with the reason."""
    custody.decide_request(actor, request_id, granted=body.granted, reason=body.reason)
    return queries.request(actor, request_id)


@router.post("/requests/{request_id}/handout", **REQUEST)
def hand_out(request_id: UUID, actor: CurrentActor, custody: CustodyDep,
             queries: QueriesDep) -> Doc:
    """Hand the copy out to the asker (only when granted)."""
    custody.hand_out(actor, request_id)
    return queries.request(actor, request_id)


@router.post("/requests/{request_id}/return", **REQUEST)
def take_back(request_id: UUID, actor: CurrentActor, custody: CustodyDep,
              queries: QueriesDep) -> Doc:
    """Take the copy back from the asker."""
    custody.take_back(actor, request_id)
    return queries.request(actor, request_id)
