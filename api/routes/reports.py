"""Reports: shelf list, holdings, culling register, agreement readiness, rollover."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from api import csv_export
from api.csv_export import csv_response, request_rows, wants_swedish
from api.deps import CurrentActor, MigrationDep, QueriesDep
from api.models import (
    AcceptLanguage,
    CullPublic,
    CursorQuery,
    FormatQuery,
    HoldingRow,
    LimitQuery,
    Page,
    Readiness,
    RolloverCandidate,
    SchoolProgress,
    ShelfRow,
    YearClosing,
)
from api.schemas import SchoolIdPath
from application.paging import DEFAULT_LIMIT
from application.policy import Principal
from application.queries import CustodyQueries, parse_instant

router = APIRouter(prefix="/api/v1", tags=["reports"])
Doc = dict[str, Any]
AsOfQuery = Query(None, max_length=40, description="ISO-8601 date or time")
CSV_SCHEMA = {"text/csv": {"schema": {"type": "string"}}}
CSV_TOO: dict[int | str, dict[str, Any]] = {200: {
    "content": CSV_SCHEMA, "description": "JSON, or with `format=csv` the whole list as CSV"}}
CSV_ONLY: dict[int | str, dict[str, Any]] = {200: {
    "content": CSV_SCHEMA,
    "description": "CSV (UTF-8 with BOM; `;` and Swedish with `Accept-Language: sv`)"}}


@router.get("/archive/shelf-list", response_model=Page[ShelfRow], responses=CSV_TOO,
            response_model_exclude_unset=True)
def shelf_list(actor: CurrentActor, queries: QueriesDep, as_of: str | None = AsOfQuery,
               limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
               format: FormatQuery = "json",
               accept_language: AcceptLanguage = None) -> Any:
    """The archive copies in personnummer order (the archive's custodian, archivist,
    admin, auditors); with ``as_of`` as they stood then."""
    instant = parse_instant(as_of) if as_of else None
    if format == "csv":
        return csv_response(queries.shelf_list(actor, instant), csv_export.SHELF_LIST,
                            "hyllforteckning.csv", swedish=wants_swedish(accept_language))
    return queries.shelf_list_page(actor, limit, cursor, instant).as_dict()


@router.get("/schools/{school_id}/holdings", response_model=Page[HoldingRow],
            responses=CSV_TOO, response_model_exclude_unset=True)
def holdings(school_id: SchoolIdPath, actor: CurrentActor, queries: QueriesDep,
             as_of: str | None = AsOfQuery, limit: LimitQuery = DEFAULT_LIMIT,
             cursor: CursorQuery = None,
             format: FormatQuery = "json",
             accept_language: AcceptLanguage = None) -> Any:
    """The copies a school unit holds now, in personnummer order; copies on their way to
    it have status ``in_transit``."""
    instant = parse_instant(as_of) if as_of else None
    if format == "csv":
        return _holdings_csv(queries, actor, school_id, accept_language)
    return queries.holdings_page(actor, school_id, limit, cursor, instant).as_dict()


@router.get("/culls", response_model=Page[CullPublic], responses=CSV_TOO,
            response_model_exclude_unset=True)
def culls(actor: CurrentActor, queries: QueriesDep, limit: LimitQuery = DEFAULT_LIMIT,
          cursor: CursorQuery = None,
          format: FormatQuery = "json",
          accept_language: AcceptLanguage = None) -> Any:
    """The culling register, in the order of the culls."""
    if format == "csv":
        return csv_response(queries.culls(actor), csv_export.CULLS, "gallringsregister.csv",
                            swedish=wants_swedish(accept_language))
    return queries.culls_page(actor, limit, cursor).as_dict()


@router.get("/culls/{certificate_id}", response_model=CullPublic,
            response_model_exclude_unset=True)
def cull(certificate_id: UUID, actor: CurrentActor, queries: QueriesDep) -> Doc:
    """One entry of the culling register (``custody certificate`` prints the signed
    certificate)."""
    return queries.cull(actor, certificate_id)


@router.get("/agreement", response_model=Readiness, response_model_exclude_unset=True)
def agreement(actor: CurrentActor, queries: QueriesDep) -> Doc:
    """Whether every captured student's archive copy is printed, archived and verified,
    so that the archive agreement with the vendor can end."""
    return queries.readiness(actor)


@router.get("/agreement.csv", response_class=Response, responses=CSV_ONLY)
def agreement_csv(actor: CurrentActor, queries: QueriesDep,
                  accept_language: AcceptLanguage = None) -> Response:
    """What is missing before the agreement can end, for the archive's files."""
    return csv_response(queries.readiness(actor)["missing"], csv_export.AGREEMENT_MISSING,
                        "arkiveringsavtal-saknas.csv", swedish=wants_swedish(accept_language))


@router.post("/agreement/termination", response_model=Readiness,
             response_model_exclude_unset=True)
def terminate(actor: CurrentActor, migration: MigrationDep) -> Doc:
    """End the archive agreement (archivist): 200 when ready, else 409 listing what is
    missing."""
    return migration.terminate_agreement(actor)


@router.get("/progress", response_model=list[SchoolProgress],
            response_model_exclude_unset=True)
def progress(actor: CurrentActor, queries: QueriesDep) -> list[Doc]:
    """The migration's progress per school unit (a short list: one row per unit)."""
    return queries.progress(actor)


@router.get("/school-years/{year}/candidates", response_model=list[RolloverCandidate],
            response_model_exclude_unset=True)
def candidates(actor: CurrentActor, queries: QueriesDep,
               year: int = Path(ge=2000, le=2100)) -> list[Doc]:
    """The students who left by the end of that school year: what its closing will
    hand over or cull."""
    return queries.rollover_candidates(actor, year)


@router.post("/school-years/{year}/closing", response_model=YearClosing,
             response_model_exclude_unset=True)
def close_year(actor: CurrentActor, migration: MigrationDep,
               year: int = Path(ge=2000, le=2100)) -> Doc:
    """Close a school year (archivist): which school copies go to which school unit,
    which are culled; runs once per year."""
    return migration.close_school_year(actor, year)


@router.get("/archive/shelf-list.csv", response_class=Response, responses=CSV_ONLY)
def shelf_list_csv(actor: CurrentActor, queries: QueriesDep,
                   accept_language: AcceptLanguage = None) -> Response:
    """The shelf list for printing box labels and lists (as ``?format=csv``)."""
    return csv_response(queries.shelf_list(actor), csv_export.SHELF_LIST,
                        "hyllforteckning.csv", swedish=wants_swedish(accept_language))


@router.get("/schools/{school_id}/holdings.csv", response_class=Response, responses=CSV_ONLY)
def holdings_csv(school_id: SchoolIdPath, actor: CurrentActor, queries: QueriesDep,
                 accept_language: AcceptLanguage = None) -> Response:
    """A school unit's holdings as CSV (as ``?format=csv``)."""
    return _holdings_csv(queries, actor, school_id, accept_language)


def _holdings_csv(queries: CustodyQueries, actor: Principal, school_id: str,
                  accept_language: str | None) -> Response:
    result = queries.holdings(actor, school_id)
    return csv_response(result["copies"] + result["incoming"], csv_export.HOLDINGS,
                        f"innehav-{school_id}.csv", swedish=wants_swedish(accept_language))


@router.get("/requests.csv", response_class=Response, responses=CSV_ONLY)
def requests_csv(actor: CurrentActor, queries: QueriesDep,
                 accept_language: AcceptLanguage = None) -> Response:
    """The request log as CSV (as ``GET /api/v1/requests?format=csv``)."""
    return csv_response(request_rows(queries.request_log(actor)), csv_export.REQUESTS,
                        "bestallningslogg.csv", swedish=wants_swedish(accept_language))
