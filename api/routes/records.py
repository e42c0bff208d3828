"""Capture and custody: records, their copies, students' departures."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, status

from api.deps import CurrentActor, CustodyDep, QueriesDep
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
    TransferIn,
    VerificationIn,
)
from application.policy import Principal
from application.queries import CustodyQueries, parse_instant
from application.service import DocumentIn, StudentCapture
from domain.errors import NotAuthorisedError

router = APIRouter(prefix="/api/v1", tags=["records"])
Doc = dict[str, Any]


def after_command(actor: Principal, record_id: UUID, queries: CustodyQueries) -> Doc:
    """The record as it is now, if the caller may read it (a custodian who just handed a
    copy to another school unit may not any more): else just its id."""
    try:
        return queries.record(actor, record_id)
    except NotAuthorisedError:
        return {"id": str(record_id)}


@router.post("/records", status_code=status.HTTP_201_CREATED)
def create_record(body: RecordCreate, actor: CurrentActor, custody: CustodyDep,
                  queries: QueriesDep) -> Doc:
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


@router.get("/records")
def find_records(personnummer: str, actor: CurrentActor, custody: CustodyDep,
                 queries: QueriesDep) -> list[Doc]:
    return queries.records_by_personnummer(actor, custody.student_record_id(personnummer))


@router.get("/records/{record_id}")
def get_record(record_id: UUID, actor: CurrentActor, queries: QueriesDep) -> Doc:
    return queries.record(actor, record_id)


@router.get("/records/{record_id}/history")
def get_history(record_id: UUID, actor: CurrentActor, queries: QueriesDep,
                as_of: str | None = Query(None, description="ISO-8601 date or time")) -> Doc:
    instant = parse_instant(as_of) if as_of else None
    return queries.history(actor, record_id, instant)


@router.post("/records/{record_id}/copies", status_code=status.HTTP_201_CREATED)
def print_copy(record_id: UUID, body: CopyCreate, actor: CurrentActor,
               custody: CustodyDep) -> Created:
    return Created(id=str(custody.print_copy(actor, record_id, body.purpose, body.school_id)))


@router.post("/records/{record_id}/copies/{copy_id}/reprint", status_code=201)
def reprint(record_id: UUID, copy_id: UUID, actor: CurrentActor, custody: CustodyDep) -> Created:
    return Created(id=str(custody.reprint(actor, record_id, copy_id)))


@router.post("/records/{record_id}/copies/{copy_id}/archival")
def archive(record_id: UUID, copy_id: UUID, body: ArchivalIn, actor: CurrentActor,
            custody: CustodyDep, queries: QueriesDep) -> Doc:
    custody.archive_copy(actor, record_id, copy_id, box=body.box, shelf=body.shelf)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/copies/{copy_id}/verification")
def verify(record_id: UUID, copy_id: UUID, body: VerificationIn, actor: CurrentActor,
           custody: CustodyDep, queries: QueriesDep) -> Doc:
    custody.verify_copy(actor, record_id, copy_id, outcome=body.outcome, note=body.note)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/copies/{copy_id}/delivery")
def deliver(record_id: UUID, copy_id: UUID, body: DeliveryIn, actor: CurrentActor,
            custody: CustodyDep, queries: QueriesDep) -> Doc:
    custody.deliver_copy(actor, record_id, copy_id, body.school_id)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/copies/{copy_id}/transfer")
def transfer(record_id: UUID, copy_id: UUID, body: TransferIn, actor: CurrentActor,
             custody: CustodyDep, queries: QueriesDep) -> Doc:
    custody.transfer_copy(actor, record_id, copy_id, body.to_school_id)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/copies/{copy_id}/receipt")
def receive(record_id: UUID, copy_id: UUID, actor: CurrentActor, custody: CustodyDep,
            queries: QueriesDep) -> Doc:
    custody.receive_copy(actor, record_id, copy_id)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/cull")
def cull_record(record_id: UUID, body: RecordCullIn, actor: CurrentActor,
                custody: CustodyDep) -> CullDone:
    result = custody.cull_record(actor, record_id, decision=body.decision, point=body.point,
                                 method=body.method, witness=body.witness)
    return CullDone(certificate_id=str(result.certificate_id), seq=result.seq)


@router.post("/records/{record_id}/ist-entry")
def ist_entry(record_id: UUID, body: IstEntryIn, actor: CurrentActor, custody: CustodyDep,
              queries: QueriesDep) -> Doc:
    custody.enter_into_ist(actor, record_id, body.note)
    return after_command(actor, record_id, queries)


@router.post("/records/{record_id}/holds", status_code=201)
def place_hold(record_id: UUID, body: HoldIn, actor: CurrentActor,
               custody: CustodyDep) -> Created:
    return Created(id=str(custody.place_hold(actor, record_id, body.reason)))


@router.post("/records/{record_id}/holds/{hold_id}/lifting")
def lift_hold(record_id: UUID, hold_id: UUID, body: HoldLiftIn, actor: CurrentActor,
              custody: CustodyDep, queries: QueriesDep) -> Doc:
    custody.lift_hold(actor, record_id, hold_id, body.reason)
    return after_command(actor, record_id, queries)


@router.post("/students/{personnummer}/departure")
def departure(personnummer: str, body: DepartureIn, actor: CurrentActor, custody: CustodyDep,
              queries: QueriesDep) -> Doc:
    record_id = custody.record_departure(actor, personnummer, reason=body.reason,
                                         to_school_id=body.to_school_id, date=body.date)
    return after_command(actor, record_id, queries)
