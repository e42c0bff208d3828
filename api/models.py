"""Response bodies, one model per shape the API answers with (``response_model=``), so
that the OpenAPI document tells integrators what they get.

Models allow fields beyond those declared (``extra="allow"``): a later version may add
fields, and a client must ignore the ones it does not know. Routes answer with
``response_model_exclude_unset`` so that a field the service did not send stays absent.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Header, Query
from pydantic import BaseModel, ConfigDict, Field

from application.paging import DEFAULT_LIMIT, MAX_LIMIT

T = TypeVar("T")
Json = dict[str, Any]


class Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Page(BaseModel, Generic[T]):
    """One page of a list; follow ``next_cursor`` (null on the last page)."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null "
                                                "when this is the last")


class StudentPublic(Open):
    personnummer: str | None = None
    name: str | None = None
    class_: str | None = Field(None, alias="class")


class CopyPublic(Open):
    id: str
    purpose: Literal["archive", "school"]
    status: str
    school_id: str | None = None
    location: Json | None = None
    holder: str | None = None
    on_loan: bool | None = None
    loan_request_id: str | None = None
    verification: Json | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    certificate_id: str | None = None


class RecordPublic(Open):
    """A record's current custody (personal data absent once it is culled)."""

    id: str
    kind: Literal["student_documentation", "general_information"]
    status: str
    school_id: str | None
    """None where the reader may not learn it (a protected identity)."""
    student: StudentPublic | None = None
    documents: list[Json] = []
    category: str | None = None
    title: str | None = None
    sha256: str | None = None
    fingerprint: str | None = None
    shredded: bool | None = None
    copies: list[CopyPublic] = []
    holds: list[Json] = []
    departure: Json | None = None
    ist_entered: Json | None = None
    culled: Json | None = None
    captured_at: str | None = None
    updated_at: str | None = None
    version: int | None = None


class RecordRef(Open):
    """Only the id: the caller may no longer read the record after this change."""

    id: str


class HistoryEvent(Open):
    seq: int | None = None
    version: int
    type: str
    topic: str | None = None
    at: str | None = None
    actor: str | None = None
    data: Json = {}
    key_id: str | None = None
    signature_valid: bool
    problem: str | None = None


class RecordHistory(Open):
    record_id: str
    events: list[HistoryEvent]
    as_of: str | None = None
    custody: RecordPublic | None = None


class RequestPublic(Open):
    id: str
    record_id: str
    copy_id: str | None = None
    school_id: str | None = None
    student_school_id: str | None = None
    actor: str
    actor_name: str | None = None
    purpose: str
    status: Literal["pending", "granted", "refused", "handed_out", "returned"]
    made_at: str
    refused_on_arrival: bool | None = None
    decision: Json | None = None
    handed_out: Json | None = None
    returned: Json | None = None
    seq: int


class CullPublic(Open):
    """A culling register entry (the certificate's facts)."""

    certificate_id: str
    record_id: str
    copy_id: str | None = None
    kind: str
    category: str | None = None
    school_id: str | None = None
    decision: str
    point: int
    condition: Any = None
    method: str
    witness: str | None = None
    commitment: str | None = None
    actor: str | None = None
    at: str
    seq: int
    version: int | None = None
    shredded_subject: str | None = None


class ShelfRow(Open):
    personnummer: str | None = None
    name: str | None = None
    record_id: str
    copy_id: str
    status: str
    box: str | None = None
    shelf: str | None = None
    verified: bool
    verification: Json | None = None
    school_id: str | None = None


class HoldingRow(Open):
    """A copy the school unit holds (``in_transit``: on its way to it)."""

    copy_id: str
    record_id: str
    status: str
    personnummer: str | None = None
    name: str | None = None
    holder: str | None = None
    on_loan: bool
    from_school_id: str | None = None


class SchoolListed(Open):
    id: str
    name: str


class ActorListed(Open):
    id: str
    name: str
    role: str
    school_id: str | None = None
    revoked: bool
    registered_at: str | None = None


class Me(Open):
    id: str
    name: str
    role: str
    school_id: str | None = None


class AssignmentCreated(Open):
    actor_id: str
    record_id: str


class Readiness(Open):
    ready: bool
    terminated: bool
    terminated_at: str | None = None
    students: int
    printed: int
    archived: int
    verified: int
    missing: list[Json]


class SchoolProgress(Open):
    school_id: str
    name: str
    captured: int
    printed: int
    archived: int
    verified: int
    delivered: int
    ist_entered: int
    general_information: int
    culled: int


class RolloverCandidate(Open):
    record_id: str
    reason: str
    date: str
    from_school_id: str | None = None
    to_school_id: str | None = None
    handled: str | None = None


class ClosingTransfer(Open):
    record_id: str
    copy_id: str
    from_school_id: str | None
    to_school_id: str


class YearClosing(Open):
    """What the closing proposed: transfers started (in transit until the receiving
    custodian's receipt) and one culling list of the school copies of students who
    finished compulsory school; nothing is culled by the closing. A repeated closing
    answers the same, changing nothing."""

    year: int
    transfers: list[ClosingTransfer]
    culling_list_id: str | None
    for_archivist: list[Json]
    blocked: list[Json] = []


class InventoryRejection(Open):
    line: int
    reason: str


class InventoryReport(Open):
    rows: int
    captured_students: int
    captured_general: int
    already_captured: int
    rejected: list[InventoryRejection]


class InclusionProof(Open):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    hashes: list[str]


class ConsistencyProof(Open):
    first: int
    second: int
    hashes: list[str]


class KeyPublic(Open):
    key_id: str
    vkey: str
    public_key_pem: str
    active: bool


class Keys(Open):
    keys: list[KeyPublic]


# -- list parameters shared by every list -------------------------------------------------

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=(
    f"Items per page (1 to {MAX_LIMIT}, default {DEFAULT_LIMIT})"))]
CursorQuery = Annotated[str | None, Query(
    max_length=2000, pattern=r"^[A-Za-z0-9_-]*$",
    description="The `next_cursor` of the previous page (opaque)")]
FormatQuery = Annotated[Literal["json", "csv"], Query(
    description="`csv`: the whole list as CSV (`;`, Swedish headers and ja/nej with "
                "`Accept-Language: sv`; `,` and English otherwise), cells neutralised")]
AcceptLanguage = Annotated[str | None, Header(include_in_schema=False)]
