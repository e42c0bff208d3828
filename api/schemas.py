"""Request and response bodies, named by role (``RecordCreate``, ``RecordPublic``).

Each request body carries an example for the OpenAPI page at ``/docs``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from domain.fingerprints import SHA256_PATTERN

EXAMPLE_PNR = "20050315-1230"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def example(value: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [value]})


Text = Annotated[str, Field(min_length=1, max_length=500)]

# -- path and query parameters that reach SQL as they are: bounded here, so that a
# PostgreSQL text column never meets a NUL byte and no integer exceeds a BIGINT --------------
SCHOOL_CODE = r"^[a-z0-9][a-z0-9_-]{0,39}$"
"""A school unit id as ``domain.school.check_school_code`` accepts it, or ``archive``."""
BIGINT = 2**63 - 1
SchoolIdPath = Annotated[str, Path(pattern=SCHOOL_CODE, description="A school unit id")]
SchoolIdQuery = Annotated[str | None, Query(pattern=SCHOOL_CODE,
                                            description="A school unit id, or archive")]
ActorIdQuery = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9:_-]{1,64}$",
                                           description="A staff member's id")]
RequestStatusQuery = Annotated[
    Literal["pending", "granted", "refused", "handed_out", "returned"] | None, Query()
]
SeqPath = Annotated[int, Path(ge=1, le=BIGINT, description="The event's global sequence number")]
TreeSizeQuery = Annotated[int | None, Query(ge=1, le=BIGINT)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class SchoolCreate(BaseModel):
    model_config = example({"id": "holmes", "name": "Holmesskolan"})
    id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    name: ShortText


class SchoolPublic(BaseModel):
    id: str
    name: str


class ActorCreate(BaseModel):
    model_config = example({"name": "Tove Lärare", "role": "teacher", "school_id": "holmes"})
    name: ShortText
    role: Literal["admin", "archivist", "custodian", "principal", "teacher", "mentor", "auditor"]
    school_id: str | None = None


class ActorCreated(BaseModel):
    id: str
    token: str


class AssignmentCreate(BaseModel):
    model_config = example({"personnummer": EXAMPLE_PNR})
    personnummer: Annotated[str, Field(min_length=10, max_length=13)]


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text
    category: ShortText
    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)]
    pages: Annotated[int, Field(ge=1, le=100_000)]


class StudentDocumentationCreate(BaseModel):
    model_config = example({
        "kind": "student_documentation", "personnummer": EXAMPLE_PNR, "name": "Alva Andersson",
        "school_id": "holmes", "class": "7A",
        "documents": [{"title": "IUP vårterminen 2017", "category": "iup", "sha256": SHA,
                       "pages": 4}],
    })
    kind: Literal["student_documentation"]
    personnummer: Annotated[str, Field(min_length=10, max_length=13)]
    name: ShortText
    school_id: ShortText
    class_: Annotated[str | None, Field(alias="class", max_length=40)] = None
    documents: Annotated[list[DocumentIn], Field(min_length=1, max_length=1000)]


class GeneralInformationCreate(BaseModel):
    model_config = example({
        "kind": "general_information", "category": "newsletter",
        "title": "Veckobrev v. 12", "school_id": "holmes", "sha256": SHA,
    })
    kind: Literal["general_information"]
    category: Literal["newsletter", "blog_post", "statistics", "compilation", "other"]
    title: Text
    school_id: ShortText
    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)]


RecordCreate = Annotated[
    StudentDocumentationCreate | GeneralInformationCreate, Field(discriminator="kind")
]


class CopyCreate(BaseModel):
    model_config = example({"purpose": "school", "school_id": "holmes"})
    purpose: Literal["archive", "school"]
    school_id: str | None = None


class Created(BaseModel):
    id: str


class ArchivalIn(BaseModel):
    model_config = example({"box": "A-0001", "shelf": "H3"})
    box: ShortText
    shelf: Annotated[str | None, Field(max_length=200)] = None


class VerificationIn(BaseModel):
    model_config = example({"outcome": "ok", "note": None})
    outcome: Literal["ok", "discrepancy"]
    note: Annotated[str | None, Field(max_length=2000)] = None


class DeliveryIn(BaseModel):
    model_config = example({"school_id": "holmes"})
    school_id: ShortText


class TransferIn(BaseModel):
    model_config = example({"to_school_id": "kvistberg"})
    to_school_id: ShortText


class CopyCullIn(BaseModel):
    model_config = example({"decision": "BU 2017/503 § 88", "point": 4, "method": "shredding",
                            "witness": "Greta Granskare"})
    decision: ShortText
    point: Annotated[int, Field(ge=1, le=99)]
    method: ShortText
    witness: Annotated[str | None, Field(max_length=200)] = None


class RecordCullIn(BaseModel):
    model_config = example({"decision": "BU 2017/503 § 88", "point": 1, "method": "deletion"})
    decision: ShortText
    point: Annotated[int, Field(ge=1, le=99)]
    method: ShortText
    witness: Annotated[str | None, Field(max_length=200)] = None


class CullDone(BaseModel):
    certificate_id: str
    seq: int | None = None


class IstEntryIn(BaseModel):
    model_config = example({"note": "Stödinsatser förda in i IST-lärande"})
    note: Annotated[str | None, Field(max_length=2000)] = None


class DepartureIn(BaseModel):
    model_config = example({"reason": "moved_within_municipality", "to_school_id": "kvistberg",
                            "date": "2018-06-15"})
    reason: Literal["moved_within_municipality", "moved_away", "finished_compulsory_school"]
    to_school_id: str | None = None
    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class HoldIn(BaseModel):
    model_config = example({"reason": "Överklagande pågår (dnr BU 2018/12)"})
    reason: Text


class HoldLiftIn(BaseModel):
    model_config = example({"reason": "Överklagandet avgjort"})
    reason: Text


class RequestCreate(BaseModel):
    model_config = example({"record_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                            "purpose": "Inför utvecklingssamtal"})
    record_id: str
    purpose: Text


class RequestCreated(BaseModel):
    id: str
    status: str


class DecisionIn(BaseModel):
    model_config = example({"granted": True, "reason": "Mentor för eleven"})
    granted: bool
    reason: Text


# -- culling decisions, culling lists, deliveries, external handover ---------------------

class DecisionPointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    point: Annotated[int, Field(ge=1, le=99)]
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    allows: Literal["nothing", "general_information", "school_copy_after_finishing",
                    "school_copy_after_moving_away"]


class CullingDecisionCreate(BaseModel):
    model_config = example({
        "id": "UN 2019/77 § 12", "body": "Utbildningsnämnden", "date": "2019-03-20",
        "points": [{"point": 1, "text": "Skolexemplar för elever som flyttat från kommunen "
                    "gallras när överlämningen är kvitterad.",
                    "allows": "school_copy_after_moving_away"}]})
    id: ShortText
    body: ShortText
    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    points: Annotated[list[DecisionPointIn], Field(min_length=1, max_length=99)]


class CullingItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_id: UUID
    copy_id: UUID | None = None


class CullingListCreate(BaseModel):
    model_config = example({
        "decision": "BU 2017/503 § 88", "point": 4,
        "items": [{"record_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                   "copy_id": "6fa459ea-ee8a-3ca4-894e-db77e160355e"}],
        "note": "Elever som slutat årskurs 9 vt 2018"})
    decision: ShortText
    point: Annotated[int, Field(ge=1, le=99)]
    items: Annotated[list[CullingItemIn], Field(min_length=1, max_length=10_000)]
    note: Annotated[str | None, Field(max_length=2000)] = None


class ApprovalIn(BaseModel):
    model_config = example({"approved": True, "reason": "Kontrollerad mot elevregistret"})
    approved: bool
    reason: Annotated[str | None, Field(max_length=2000)] = None


class DestructionIn(BaseModel):
    model_config = example({"method": "shredding", "date": "2018-08-20",
                            "witness": "Greta Granskare", "contractor_reference": None})
    method: Literal["shredding", "incineration", "secure_disposal_bin", "deletion"]
    date: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    witness: Annotated[str | None, Field(max_length=200)] = None
    contractor_reference: Annotated[str | None, Field(max_length=200)] = None


class WithdrawalIn(BaseModel):
    model_config = example({"reason": "Eleven går kvar ett år till"})
    reason: Annotated[str | None, Field(max_length=2000)] = None


class DeliveryCreate(BaseModel):
    model_config = example({"boxes": ["A001", "A002"]})
    boxes: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]],
                     Field(min_length=1, max_length=10_000)]


class DeliveryReceiptIn(BaseModel):
    model_config = example({"note": "Mottaget i närarkivet, hylla H3"})
    note: Annotated[str | None, Field(max_length=2000)] = None


class ExternalHandoverIn(BaseModel):
    model_config = example({"organiser": "Karlstads kommun", "school": "Västerstrandskolan",
                            "receipt_reference": "KS 2018/1234"})
    organiser: ShortText
    school: ShortText
    receipt_reference: Annotated[str | None, Field(max_length=200)] = None


class ExternalReceiptIn(BaseModel):
    model_config = example({"receipt_reference": "KS 2018/1234"})
    receipt_reference: ShortText
class TokenCreate(BaseModel):
    model_config = example({"name": "integration with IST", "expires_at": "2027-06-30T00:00:00Z"})
    name: ShortText
    expires_at: datetime | None = None


class TokenCreated(BaseModel):
    id: str
    token: str


class TokenPublic(BaseModel):
    id: str
    name: str
    issued_at: str
    expires_at: str | None
    status: Literal["active", "expired", "withdrawn", "revoked"]


class TokenList(BaseModel):
    items: list[TokenPublic]
    next_cursor: str | None = None


class ActorPublic(BaseModel):
    id: str
    name: str
    role: str
    school_id: str | None
    revoked: bool
    registered_at: str | None = None


class ActorList(BaseModel):
    items: list[ActorPublic]
    next_cursor: str | None = None


class RevocationCreate(BaseModel):
    model_config = example({"reason": "left the municipality"})
    reason: str = Field(default="", max_length=500)


class RevocationDone(BaseModel):
    id: str
    revoked: bool
    already_revoked: bool
