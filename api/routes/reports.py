"""Reports: shelf list, holdings, culling register, agreement readiness, rollover."""

from __future__ import annotations

import csv
import io
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from api.deps import CurrentActor, MigrationDep, QueriesDep
from api.schemas import SchoolIdPath
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
def holdings(school_id: SchoolIdPath, actor: CurrentActor, queries: QueriesDep,
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


@router.get("/agreement.csv", response_class=Response)
def agreement_csv(actor: CurrentActor, queries: QueriesDep) -> Response:
    """What is missing before the agreement can end, for the archive's files."""
    require(actor, *READERS, doing="read the agreement's readiness")
    return _csv(queries.readiness()["missing"], ["record_id", "school_id", "archive_copy",
                                                 "missing"], "arkiveringsavtal-saknas.csv")


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


def _csv(rows: list[Doc], columns: list[str], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return Response(buffer.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/archive/shelf-list.csv", response_class=Response)
def shelf_list_csv(actor: CurrentActor, queries: QueriesDep) -> Response:
    """The shelf list for printing box labels and lists (UTF-8 with BOM for spreadsheets)."""
    return _csv(queries.shelf_list(actor), ["personnummer", "name", "reference", "box", "shelf",
                                            "status",
                                            "verified", "school_id", "record_id", "copy_id"],
                "hyllforteckning.csv")


@router.get("/schools/{school_id}/holdings.csv", response_class=Response)
def holdings_csv(school_id: SchoolIdPath, actor: CurrentActor,
                 queries: QueriesDep) -> Response:
    result = queries.holdings(actor, school_id)
    rows = result["copies"] + result["incoming"]
    return _csv(rows, ["personnummer", "name", "reference", "status", "on_loan", "holder",
                       "from_school_id",
                       "record_id", "copy_id"], f"innehav-{school_id}.csv")


@router.get("/requests.csv", response_class=Response)
def requests_csv(actor: CurrentActor, queries: QueriesDep) -> Response:
    rows = []
    for r in queries.request_log(actor):
        decision = r.get("decision") or {}
        rows.append({**r, "decided_by": decision.get("by"), "decision_reason": decision.get(
            "reason"), "handed_out_at": (r.get("handed_out") or {}).get("at"),
            "returned_at": (r.get("returned") or {}).get("at")})
    return _csv(rows, ["seq", "made_at", "actor", "actor_name", "record_id", "purpose", "status",
                       "decided_by", "decision_reason", "handed_out_at", "returned_at",
                       "school_id"], "bestallningslogg.csv")
