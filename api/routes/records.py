"""Capture and custody: records, their copies, students' departures."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.deps import CurrentActor, CustodyDep, QueriesDep
from api.models import CursorQuery, LimitQuery, Page, RecordHistory, RecordPublic, RecordRef
from api.schemas import (
    ArchivalIn,
    CopyCreate,
    Created,
    CullDone,
    DeliveryIn,
    DepartureIn,
    GeneralInformationCreate,
    HoldIn,
    HoldLiftIn,
    IstEntryIn,
    RecordCreate,
    RecordCullIn,
    SchoolIdQuery,
    TransferIn,
    VerificationIn,
)
from application.paging import DEFAULT_LIMIT
from application.policy import Principal
from application.queries import CustodyQueries, parse_instant
from application.service import DocumentIn, StudentCapture
from domain.errors import NotAuthorisedError

router = APIRouter(prefix="/api/v1", tags=["records"])
Doc = dict[str, Any]
# A command answers with the record as it is now, or only its id when the caller may not
# read it any more.
AFTER: dict[str, Any] = {"response_model": RecordPublic | RecordRef,
                         "response_model_exclude_unset": True}
KindQuery = Literal["student_documentation", "general_information"]


def after_command(actor: Principal, record_id: UUID, queries: CustodyQueries) -> Doc:
    """The record as it is now, if the caller may read it (a custodian who just handed a
    copy to another school unit may not any more): else just its id."""
    try:
        return queries.record(actor, record_id)
    except NotAuthorisedError:
        return {"id": str(record_id)}


@router.post("/records", status_code=status.HTTP_201_CREATED, **AFTER)
def create_record(body: RecordCreate, actor: CurrentActor, custody: CustodyDep,
                  queries: QueriesDep) -> Doc:
    """Capture a student's documentation or a piece of general information from Unikum
    (archivist); 409 with the existing ``id`` if that student was captured already."""
    if isinstance(body, GeneralInformationCreate):
        record_id = custody.capture_general(actor, category=body.category, title=body.title,
                                            school_id=body.school_id, sha256=body.sha256)
    else:
        record_id = custody.capture_student(actor, StudentCapture(
            personnummer=body.personnummer, name=body.name, school_id=body.school_id,
            class_name=body.class_,
            documents=[DocumentIn(d.title, d.category, d.sha256, d.pages)
                       for d in body.documents],
        ))
    return after_command(actor, record_id, queries)


@router.get("/records", response_model=Page[RecordPublic], response_model_exclude_unset=True)
def find_records(
    actor: CurrentActor, custody: CustodyDep, queries: QueriesDep,
    personnummer: Annotated[str | None, Query(max_length=13, description=(
        "A student's personnummer (422 if it is not one)"))] = None,
    school_id: SchoolIdQuery = None,
    kind: KindQuery | None = None,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$",
                                        description="The record's status")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description=(
        "A personnummer in any notation, or a name (every word must match)"))] = None,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Doc:
    """Find records, general information included, in a stable order (by id), a page at
    a time; for the admin, archivist, auditors and custodians (a custodian sees those of
    their own school unit)."""
    if personnummer is not None and not (school_id or kind or status or q or cursor):
        # The exact look-up of one student: 403 (not an empty page) for a record the
        # caller may not read, as before the search existed.
        found = queries.records_by_personnummer(actor, custody.student_record_id(personnummer))
        return {"items": found, "next_cursor": None}
    if personnummer is not None:
        custody.student_record_id(personnummer)  # 422 for a wrong check digit
        q = personnummer
    return queries.records_page(actor, school_id=school_id, kind=kind, status=status, q=q,
                                limit=limit, cursor=cursor).as_dict()


@router.get("/records/{record_id}", response_model=RecordPublic,
            response_model_exclude_unset=True)
def get_record(record_id: UUID, actor: CurrentActor, queries: QueriesDep) -> Doc:
    """A record's current custody: where each copy is and who holds it."""
    return queries.record(actor, record_id)


@router.get("/records/{record_id}/history", response_model=RecordHistory,
            response_model_exclude_unset=True)
def get_history(record_id: UUID, actor: CurrentActor, queries: QueriesDep,
                as_of: str | None = Query(None, max_length=40,
                                          description="ISO-8601 date or time")) -> Doc:
    """Provenance: every signed event of the record, each with its signature checked;
    with ``as_of`` also the custody as it stood then."""
    instant = parse_instant(as_of) if as_of else None
    return queries.history(actor, record_id, instant)


@router.post("/records/{record_id}/copies", status_code=status.HTTP_201_CREATED)
def print_copy(record_id: UUID, body: CopyCreate, actor: CurrentActor,
               custody: CustodyDep) -> Created:
    """Print a copy: for the archive, or for a school unit."""
    return Created(id=str(custody.print_copy(actor, record_id, body.purpose, body.school_id)))


@router.post("/records/{record_id}/copies/{copy_id}/reprint", status_code=201)
def reprint(record_id: UUID, copy_id: UUID, actor: CurrentActor, custody: CustodyDep) -> Created:
    """Print a new copy that replaces this one (after a discrepancy was found)."""
    return Created(id=str(custody.reprint(actor, record_id, copy_id)))


@router.post("/records/{record_id}/copies/{copy_id}/archival", **AFTER)
def archive(record_id: UUID, copy_id: UUID, body: ArchivalIn, actor: CurrentActor,
            custody: CustodyDep, queries: QueriesDep) -> Doc:
    """File the archive copy in its box (and shelf), in personnummer order."""
    custody.archive_copy(actor, record_id, copy_id, box=body.box, shelf=body.shelf)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/copies/{copy_id}/verification", **AFTER)
def verify(record_id: UUID, copy_id: UUID, body: VerificationIn, actor: CurrentActor,
           custody: CustodyDep, queries: QueriesDep) -> Doc:
    """Record the check of a copy against the original: ok, or a discrepancy."""
    custody.verify_copy(actor, record_id, copy_id, outcome=body.outcome, note=body.note)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/copies/{copy_id}/delivery", **AFTER)
def deliver(record_id: UUID, copy_id: UUID, body: DeliveryIn, actor: CurrentActor,
            custody: CustodyDep, queries: QueriesDep) -> Doc:
    """Deliver a school copy to its school unit."""
    custody.deliver_copy(actor, record_id, copy_id, body.school_id)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/copies/{copy_id}/transfer", **AFTER)
def transfer(record_id: UUID, copy_id: UUID, body: TransferIn, actor: CurrentActor,
             custody: CustodyDep, queries: QueriesDep) -> Doc:
    """Send a school copy to another school unit (the student moved)."""
    custody.transfer_copy(actor, record_id, copy_id, body.to_school_id)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/copies/{copy_id}/receipt", **AFTER)
def receive(record_id: UUID, copy_id: UUID, actor: CurrentActor, custody: CustodyDep,
            queries: QueriesDep) -> Doc:
    """Confirm that a transferred copy arrived at its new school unit."""
    custody.receive_copy(actor, record_id, copy_id)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/cull")
def cull_record(record_id: UUID, body: RecordCullIn, actor: CurrentActor,
                custody: CustodyDep) -> CullDone:
    """Cull general information under the decision (its personal data is shredded)."""
    result = custody.cull_record(actor, record_id, decision=body.decision, point=body.point,
                                 method=body.method, witness=body.witness)
    return CullDone(certificate_id=str(result.certificate_id), seq=result.seq)


@router.post("/records/{record_id}/ist-entry", **AFTER)
def ist_entry(record_id: UUID, body: IstEntryIn, actor: CurrentActor, custody: CustodyDep,
              queries: QueriesDep) -> Doc:
    """Record that what the student needs was entered into IST-lärande."""
    custody.enter_into_ist(actor, record_id, body.note)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/holds", status_code=201)
def place_hold(record_id: UUID, body: HoldIn, actor: CurrentActor,
               custody: CustodyDep) -> Created:
    """Place a hold that stops any cull of the record until it is lifted."""
    return Created(id=str(custody.place_hold(actor, record_id, body.reason)))


@router.post("/records/{record_id}/holds/{hold_id}/lifting", **AFTER)
def lift_hold(record_id: UUID, hold_id: UUID, body: HoldLiftIn, actor: CurrentActor,
              custody: CustodyDep, queries: QueriesDep) -> Doc:
    """Lift a hold."""
    custody.lift_hold(actor, record_id, hold_id, body.reason)
    return after_command(actor, record_id, queries)


@router.post("/students/{personnummer}/departure", **AFTER)
def departure(personnummer: str, body: DepartureIn, actor: CurrentActor, custody: CustodyDep,
              queries: QueriesDep) -> Doc:
    """Record that a student left a school unit (moved, or finished compulsory school)."""
    record_id = custody.record_departure(actor, personnummer, reason=body.reason,
                                         to_school_id=body.to_school_id, date=body.date)
    return after_command(actor, record_id, queries)
