"""An archive delivery (leveransreversal): boxes of archive copies handed to the
municipal archive, listed and signed by the deliverer, countersigned by the archive.

The box list (shelf, first and last personnummer, number of copies) is personal data:
it travels in ``personal`` under the delivery's own subject key, like a record's.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from domain.errors import IllegalTransitionError, InvalidInputError
from domain.events import CustodyCreated, CustodyEvent, PersonalData


class ArchiveDelivery(BaseAggregate[UUID]):
    TOPIC = "custody:ArchiveDelivery"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Delivered(Event, CustodyCreated):
        TOPIC = "custody:ArchiveDelivery.Delivered"
        boxes: list[str]
        copies: int
        subject: UUID
        personal: PersonalData | None

        def apply(self, delivery: ArchiveDelivery) -> None:
            delivery.boxes = list(self.boxes)
            delivery.copies = self.copies
            delivery.subject = self.subject
            delivery.personal = self.personal
            delivery.deliverer = self.actor
            delivery.received_by = None

    class Received(Event):
        """The archive's custodian countersigns: the boxes are in the archive's hands."""

        TOPIC = "custody:ArchiveDelivery.Received"
        boxes: list[str]
        note: str | None

        def apply(self, delivery: ArchiveDelivery) -> None:
            delivery.received_by = self.actor

    boxes: list[str]
    copies: int
    subject: UUID
    personal: PersonalData | None
    deliverer: str
    received_by: str | None

    @classmethod
    def deliver(cls, delivery_id: UUID, *, boxes: list[dict[str, Any]], subject: UUID,
                actor: str) -> ArchiveDelivery:
        if not boxes:
            raise InvalidInputError("a delivery lists at least one box", field="boxes")
        names = [str(b["box"]) for b in boxes]
        if len(set(names)) != len(names):
            raise InvalidInputError("each box is delivered once", field="boxes")
        return cls._create(cls.Delivered, id=delivery_id, boxes=names,
                           copies=sum(int(b["copies"]) for b in boxes), subject=subject,
                           personal={"boxes": boxes}, actor=actor)

    def receive(self, *, note: str | None, actor: str) -> None:
        if self.received_by is not None:
            raise IllegalTransitionError("the archive countersigned this delivery already")
        if actor == self.deliverer:
            raise IllegalTransitionError(
                "the archive's custodian countersigns; the deliverer cannot receive their "
                "own delivery")
        self.trigger_event(self.Received, boxes=list(self.boxes), note=note, actor=actor)
