"""Set-up (admin): school units, staff and their assignments to students."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import CurrentActor, CustodyDep, QueriesDep
from api.models import (
    ActorListed,
    AssignmentCreated,
    CursorQuery,
    LimitQuery,
    Me,
    Page,
    SchoolListed,
)
from api.schemas import ActorCreate, ActorCreated, AssignmentCreate, SchoolCreate, SchoolPublic
from application.paging import DEFAULT_LIMIT

router = APIRouter(prefix="/api/v1", tags=["set-up"])


@router.post("/schools", status_code=status.HTTP_201_CREATED, response_model=SchoolPublic)
def create_school(body: SchoolCreate, actor: CurrentActor, custody: CustodyDep) -> SchoolPublic:
    """Register a school unit (admin)."""
    custody.register_school(actor, body.id, body.name)
    return SchoolPublic(id=body.id, name=body.name)


@router.get("/schools", response_model=Page[SchoolListed], response_model_exclude_unset=True)
def list_schools(actor: CurrentActor, queries: QueriesDep, limit: LimitQuery = DEFAULT_LIMIT,
                 cursor: CursorQuery = None) -> dict[str, Any]:
    """The school units, by id."""
    return queries.schools_page(limit, cursor).as_dict()


@router.post("/actors", status_code=status.HTTP_201_CREATED, response_model=ActorCreated)
def create_actor(body: ActorCreate, actor: CurrentActor, custody: CustodyDep) -> ActorCreated:
    """Register a staff member (admin); the answer carries their bearer token, shown once."""
    actor_id, token = custody.register_actor(actor, body.name, body.role, body.school_id)
    return ActorCreated(id=str(actor_id), token=token)


@router.get("/actors", response_model=Page[ActorListed], response_model_exclude_unset=True)
def list_actors(actor: CurrentActor, queries: QueriesDep, limit: LimitQuery = DEFAULT_LIMIT,
                cursor: CursorQuery = None) -> dict[str, Any]:
    """The staff, by name (the admin only); tokens are never listed."""
    return queries.actors_page(actor, limit, cursor).as_dict()


@router.get("/actors/me", response_model=Me, response_model_exclude_unset=True)
def whoami(actor: CurrentActor) -> dict[str, Any]:
    """The staff member the token belongs to."""
    return {"id": actor.id, "name": actor.name, "role": actor.role.value,
            "school_id": actor.school_id}


@router.post("/actors/{actor_id}/assignments", status_code=status.HTTP_201_CREATED,
             response_model=AssignmentCreated)
def assign(actor_id: UUID, body: AssignmentCreate, actor: CurrentActor,
           custody: CustodyDep) -> dict[str, str]:
    """Authorise a teacher or mentor for a student from now on (admin)."""
    record_id = custody.assign(actor, actor_id, body.personnummer)
    return {"actor_id": str(actor_id), "record_id": str(record_id)}


@router.delete("/actors/{actor_id}/assignments/{personnummer}",
               status_code=status.HTTP_204_NO_CONTENT)
def end_assignment(actor_id: UUID, personnummer: str, actor: CurrentActor,
                   custody: CustodyDep) -> Response:
    """End a teacher's or mentor's authorisation for a student (admin)."""
    custody.end_assignment(actor, actor_id, personnummer)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
