"""Document requests: staff ask, the designated custodian decides, hands out, takes back."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, status

from api.deps import CurrentActor, CustodyDep, QueriesDep
from api.schemas import (
    ActorIdQuery,
    DecisionIn,
    RequestCreate,
    RequestCreated,
    RequestStatusQuery,
    SchoolIdQuery,
)
from domain.errors import InvalidInputError

router = APIRouter(prefix="/api/v1", tags=["requests"])
Doc = dict[str, Any]


def _uuid(value: str, field: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInputError(f"{field} must be a UUID", field=field) from None


@router.post("/requests", status_code=status.HTTP_201_CREATED)
def make_request(body: RequestCreate, actor: CurrentActor, custody: CustodyDep) -> RequestCreated:
    request = custody.make_request(actor, _uuid(body.record_id, "record_id"), body.purpose)
    return RequestCreated(id=str(request.id), status=request.status.value)


@router.get("/requests")
def request_log(actor: CurrentActor, queries: QueriesDep, school_id: SchoolIdQuery = None,
                status: RequestStatusQuery = None, actor_id: ActorIdQuery = None) -> list[Doc]:
    return queries.request_log(actor, school_id=school_id, status=status, actor_id=actor_id)


@router.get("/requests/{request_id}")
def get_request(request_id: UUID, actor: CurrentActor, queries: QueriesDep) -> Doc:
    return queries.request(actor, request_id)


@router.post("/requests/{request_id}/decision")
def decide(request_id: UUID, body: DecisionIn, actor: CurrentActor, custody: CustodyDep,
           queries: QueriesDep) -> Doc:
    custody.decide_request(actor, request_id, granted=body.granted, reason=body.reason)
    return queries.request(actor, request_id)


@router.post("/requests/{request_id}/handout")
def hand_out(request_id: UUID, actor: CurrentActor, custody: CustodyDep,
             queries: QueriesDep) -> Doc:
    custody.hand_out(actor, request_id)
    return queries.request(actor, request_id)


@router.post("/requests/{request_id}/return")
def take_back(request_id: UUID, actor: CurrentActor, custody: CustodyDep,
              queries: QueriesDep) -> Doc:
    custody.take_back(actor, request_id)
    return queries.request(actor, request_id)
