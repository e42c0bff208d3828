"""Reports: shelf list, holdings, culling register, agreement readiness, rollover."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path, Query

from api.deps import CurrentActor, MigrationDep, QueriesDep
from application.policy import require
from application.queries import READERS, parse_instant
from domain.actor import Role

router = APIRouter(prefix="/api/v1", tags=["reports"])
Doc = dict[str, Any]


@router.get("/archive/shelf-list")
def shelf_list(actor: CurrentActor, queries: QueriesDep,
               as_of: str | None = Query(None, description="ISO-8601 date or time")) -> list[Doc]:
    return queries.shelf_list(actor, parse_instant(as_of) if as_of else None)


@router.get("/schools/{school_id}/holdings")
def holdings(school_id: str, actor: CurrentActor, queries: QueriesDep,
             as_of: str | None = Query(None, description="ISO-8601 date or time")) -> Doc:
    return queries.holdings(actor, school_id, parse_instant(as_of) if as_of else None)


@router.get("/culls")
def culls(actor: CurrentActor, queries: QueriesDep) -> list[Doc]:
    return queries.culls(actor)


@router.get("/culls/{certificate_id}")
def cull(certificate_id: UUID, actor: CurrentActor, queries: QueriesDep) -> Doc:
    return queries.cull(actor, certificate_id)


@router.get("/agreement")
def agreement(actor: CurrentActor, queries: QueriesDep) -> Doc:
    require(actor, *READERS, doing="read the agreement's readiness")
    return queries.readiness()


@router.post("/agreement/termination")
def terminate(actor: CurrentActor, migration: MigrationDep) -> Doc:
    return migration.terminate_agreement(actor)


@router.get("/progress")
def progress(actor: CurrentActor, queries: QueriesDep) -> list[Doc]:
    require(actor, *READERS, Role.PRINCIPAL, doing="read the migration progress")
    return queries.progress()


@router.get("/school-years/{year}/candidates")
def candidates(actor: CurrentActor, queries: QueriesDep,
               year: int = Path(ge=2000, le=2100)) -> list[Doc]:
    require(actor, *READERS, doing="read the rollover candidates")
    return queries.rollover_candidates(year)


@router.post("/school-years/{year}/closing")
def close_year(actor: CurrentActor, migration: MigrationDep,
               year: int = Path(ge=2000, le=2100)) -> Doc:
    return migration.close_school_year(actor, year)
