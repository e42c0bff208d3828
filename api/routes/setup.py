"""Set-up (admin): school units, staff and their assignments to students."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import CurrentActor, CustodyDep, QueriesDep
from api.schemas import ActorCreate, ActorCreated, AssignmentCreate, SchoolCreate, SchoolPublic

router = APIRouter(prefix="/api/v1", tags=["set-up"])


@router.post("/schools", status_code=status.HTTP_201_CREATED, response_model=SchoolPublic)
def create_school(body: SchoolCreate, actor: CurrentActor, custody: CustodyDep) -> SchoolPublic:
    custody.register_school(actor, body.id, body.name)
    return SchoolPublic(id=body.id, name=body.name)


@router.get("/schools")
def list_schools(actor: CurrentActor, queries: QueriesDep) -> list[dict[str, Any]]:
    return queries.schools()


@router.post("/actors", status_code=status.HTTP_201_CREATED, response_model=ActorCreated)
def create_actor(body: ActorCreate, actor: CurrentActor, custody: CustodyDep) -> ActorCreated:
    actor_id, token = custody.register_actor(actor, body.name, body.role, body.school_id)
    return ActorCreated(id=str(actor_id), token=token)


@router.get("/actors/me")
def whoami(actor: CurrentActor) -> dict[str, Any]:
    return {"id": actor.id, "name": actor.name, "role": actor.role.value,
            "school_id": actor.school_id}


@router.post("/actors/{actor_id}/assignments", status_code=status.HTTP_201_CREATED)
def assign(actor_id: UUID, body: AssignmentCreate, actor: CurrentActor,
           custody: CustodyDep) -> dict[str, str]:
    record_id = custody.assign(actor, actor_id, body.personnummer)
    return {"actor_id": str(actor_id), "record_id": str(record_id)}


@router.delete("/actors/{actor_id}/assignments/{personnummer}",
               status_code=status.HTTP_204_NO_CONTENT)
def end_assignment(actor_id: UUID, personnummer: str, actor: CurrentActor,
                   custody: CustodyDep) -> Response:
    custody.end_assignment(actor, actor_id, personnummer)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
