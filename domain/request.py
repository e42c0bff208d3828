"""Document requests: staff order a document from the designated custodian.

Staff may not browse the printouts (point 4 of the decision and its summary): they ask,
the custodian who holds the copy decides, hands it out and takes it back. A request by
someone not authorised for that student is recorded as refused, with the reason, so
refusals are part of the log too.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from domain.errors import IllegalTransitionError, InvalidInputError
from domain.events import CustodyCreated, CustodyEvent


class RequestStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"
    HANDED_OUT = "handed_out"
    RETURNED = "returned"


class DocumentRequest(BaseAggregate[UUID]):
    TOPIC = "custody:DocumentRequest"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Made(Event, CustodyCreated):
        TOPIC = "custody:DocumentRequest.Made"
        record_id: UUID
        copy_id: UUID | None
        custodian_location: str | None
        purpose: str
        refusal: str | None

        def apply(self, request: DocumentRequest) -> None:
            request.asker = self.actor
            request.record_id = self.record_id
            request.copy_id = self.copy_id
            request.custodian_location = self.custodian_location
            request.purpose = self.purpose
            request.status = RequestStatus.REFUSED if self.refusal else RequestStatus.PENDING
            request.reason = self.refusal

    class Decided(Event):
        TOPIC = "custody:DocumentRequest.Decided"
        granted: bool
        reason: str

        def apply(self, request: DocumentRequest) -> None:
            request.status = RequestStatus.GRANTED if self.granted else RequestStatus.REFUSED
            request.reason = self.reason

    class HandedOut(Event):
        TOPIC = "custody:DocumentRequest.HandedOut"

        def apply(self, request: DocumentRequest) -> None:
            request.status = RequestStatus.HANDED_OUT

    class Returned(Event):
        TOPIC = "custody:DocumentRequest.Returned"

        def apply(self, request: DocumentRequest) -> None:
            request.status = RequestStatus.RETURNED

    asker: str
    record_id: UUID
    copy_id: UUID | None
    custodian_location: str | None
    purpose: str
    status: RequestStatus
    reason: str | None

    @classmethod
    def make(
        cls,
        request_id: UUID,
        *,
        record_id: UUID,
        copy_id: UUID | None,
        custodian_location: str | None,
        purpose: str,
        refusal: str | None,
        actor: str,
    ) -> DocumentRequest:
        """A request; ``refusal`` set records it as refused on arrival (unauthorised)."""
        if not purpose.strip():
            raise InvalidInputError("say what the document is needed for", field="purpose")
        return cls._create(
            cls.Made,
            id=request_id,
            record_id=record_id,
            copy_id=copy_id,
            custodian_location=custodian_location,
            purpose=purpose.strip(),
            refusal=refusal,
            actor=actor,
        )

    def decide(self, *, granted: bool, reason: str, actor: str) -> None:
        if self.status is not RequestStatus.PENDING:
            raise IllegalTransitionError(f"the request is {self.status.value}, not pending")
        if not reason.strip():
            raise InvalidInputError("a decision states its reason", field="reason")
        self.trigger_event(self.Decided, granted=granted, reason=reason.strip(), actor=actor)

    def hand_out(self, *, actor: str) -> None:
        if self.status is not RequestStatus.GRANTED:
            raise IllegalTransitionError(
                f"only a granted request is handed out; this one is {self.status.value}"
            )
        self.trigger_event(self.HandedOut, actor=actor)

    def take_back(self, *, actor: str) -> None:
        if self.status is not RequestStatus.HANDED_OUT:
            raise IllegalTransitionError(
                f"only a handed-out document is returned; this request is {self.status.value}"
            )
        self.trigger_event(self.Returned, actor=actor)
