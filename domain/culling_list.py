"""A culling list (gallringslista): what is proposed for destruction, item by item, under
one decision and point — approved by a second person, then carried out by whoever holds
each piece of paper.

Nothing is destroyed by proposing or approving: each item is destroyed (or withdrawn) on
its own, by the custodian who holds that copy, who confirms how, when and with which
witness or contractor. When every item is destroyed or withdrawn, the list is executed and
its culling protocol (gallringsprotokoll) can be issued.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import BaseAggregate

from domain.errors import (
    IllegalTransitionError,
    InvalidInputError,
    NotAuthorisedError,
    NotFoundError,
)
from domain.events import CustodyCreated, CustodyEvent
from domain.school import NAMESPACE


class ListStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXECUTED = "executed"


class ItemStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DESTROYED = "destroyed"
    WITHDRAWN = "withdrawn"


SYSTEM_LOCATION = "system"
"""Where an item without paper (general information in the store) is 'held'."""


@dataclass
class ListItem:
    """One copy (or one record of general information) on the list."""

    key: UUID
    record_id: UUID
    copy_id: UUID | None
    location: str
    destroyed: dict[str, Any] | None = None
    withdrawn: str | None = None
    certificate_id: UUID | None = None


def school_year_list_id(year: int) -> UUID:
    """The list the closing of ``year`` proposes: one id, so a second closing finds it."""
    return uuid5(NAMESPACE, f"school-year:{year}:culling-list")


def parse_destruction_date(value: str, today: dt.date) -> dt.date:
    try:
        date = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"date must be YYYY-MM-DD, not {value!r}",
                                field="date").with_code("date_format") from None
    if date > today:
        raise InvalidInputError(
            f"the destruction is confirmed once it happened; {date.isoformat()} is in the "
            f"future (today is {today.isoformat()})", field="date")
    return date


class CullingList(BaseAggregate[UUID]):
    TOPIC = "custody:CullingList"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Proposed(Event, CustodyCreated):
        TOPIC = "custody:CullingList.Proposed"
        decision: str
        point: int
        items: list[dict[str, Any]]
        note: str | None
        school_year: int | None

        def apply(self, culling_list: CullingList) -> None:
            culling_list.decision = self.decision
            culling_list.point = self.point
            culling_list.note = self.note
            culling_list.school_year = self.school_year
            culling_list.proposer = self.actor
            culling_list.status = ListStatus.PROPOSED
            culling_list.approver = None
            culling_list.items = {}
            for item in self.items:
                key = UUID(str(item["key"]))
                culling_list.items[key] = ListItem(
                    key=key, record_id=UUID(str(item["record_id"])),
                    copy_id=UUID(str(item["copy_id"])) if item.get("copy_id") else None,
                    location=str(item["location"]))

    class Approved(Event):
        TOPIC = "custody:CullingList.Approved"
        reason: str | None

        def apply(self, culling_list: CullingList) -> None:
            culling_list.status = ListStatus.APPROVED
            culling_list.approver = self.actor

    class Rejected(Event):
        TOPIC = "custody:CullingList.Rejected"
        reason: str | None

        def apply(self, culling_list: CullingList) -> None:
            culling_list.status = ListStatus.REJECTED
            culling_list.approver = self.actor

    class ItemDestroyed(Event):
        """The holder of the paper destroyed it; the copy's cull is saved with this."""

        TOPIC = "custody:CullingList.ItemDestroyed"
        key: UUID
        certificate_id: UUID
        method: str
        date: str
        witness: str | None
        contractor_reference: str | None

        def apply(self, culling_list: CullingList) -> None:
            item = culling_list.items[self.key]
            item.certificate_id = self.certificate_id
            item.destroyed = {"by": self.actor, "method": self.method, "date": self.date,
                              "witness": self.witness,
                              "contractor_reference": self.contractor_reference}
            culling_list._maybe_executed()

    class ItemWithdrawn(Event):
        TOPIC = "custody:CullingList.ItemWithdrawn"
        key: UUID
        reason: str | None

        def apply(self, culling_list: CullingList) -> None:
            culling_list.items[self.key].withdrawn = self.reason or "withdrawn"
            culling_list._maybe_executed()

    decision: str
    point: int
    note: str | None
    school_year: int | None
    proposer: str
    approver: str | None
    status: ListStatus
    items: dict[UUID, ListItem]

    def _maybe_executed(self) -> None:
        if self.status is ListStatus.APPROVED and all(
                i.destroyed is not None or i.withdrawn is not None for i in self.items.values()):
            self.status = ListStatus.EXECUTED

    # -- commands ------------------------------------------------------------------------

    @classmethod
    def propose(cls, list_id: UUID, *, decision: str, point: int,
                items: list[dict[str, Any]], note: str | None, school_year: int | None,
                actor: str) -> CullingList:
        if not items:
            raise InvalidInputError("a culling list names at least one item", field="items")
        keys = [str(i["key"]) for i in items]
        if len(set(keys)) != len(keys):
            raise InvalidInputError("each copy is on the list once", field="items")
        return cls._create(cls.Proposed, id=list_id, decision=decision, point=point,
                           items=items, note=(note or "").strip() or None,
                           school_year=school_year, actor=actor)

    def item(self, key: UUID) -> ListItem:
        try:
            return self.items[key]
        except KeyError:
            raise NotFoundError(f"culling list {self.id} has no item {key}") from None

    def item_status(self, item: ListItem) -> ItemStatus:
        if item.destroyed is not None:
            return ItemStatus.DESTROYED
        if item.withdrawn is not None or self.status is ListStatus.REJECTED:
            return ItemStatus.WITHDRAWN
        if self.status in (ListStatus.APPROVED, ListStatus.EXECUTED):
            return ItemStatus.APPROVED
        return ItemStatus.PROPOSED

    def decide(self, *, approved: bool, reason: str | None, actor: str) -> None:
        """Four eyes: never the proposer. Who else may is the policy's to say."""
        if actor == self.proposer:
            raise NotAuthorisedError(
                "a culling list is approved by someone other than the one who proposed it")
        if self.status is not ListStatus.PROPOSED:
            raise IllegalTransitionError(
                f"culling list {self.id} was already {self.status.value}")
        if approved and all(i.withdrawn is not None for i in self.items.values()):
            raise IllegalTransitionError("every item was withdrawn; nothing is left to approve")
        if not approved and not (reason or "").strip():
            raise InvalidInputError("say why the list is rejected", field="reason")
        event = self.Approved if approved else self.Rejected
        self.trigger_event(event, reason=(reason or "").strip() or None, actor=actor)

    def require_destroyable(self, key: UUID) -> ListItem:
        item = self.item(key)
        if self.status is ListStatus.PROPOSED:
            raise IllegalTransitionError(
                f"culling list {self.id} is not approved yet; nothing on it is destroyed "
                "before a second person approved it")
        if self.status is ListStatus.REJECTED:
            raise IllegalTransitionError(f"culling list {self.id} was rejected")
        if item.destroyed is not None:
            raise IllegalTransitionError(f"item {key} was destroyed already")
        if item.withdrawn is not None:
            raise IllegalTransitionError(f"item {key} was withdrawn from the list")
        return item

    def confirm_destruction(self, key: UUID, *, certificate_id: UUID, method: str,
                            date: dt.date, witness: str | None,
                            contractor_reference: str | None, actor: str) -> None:
        item = self.require_destroyable(key)
        if item.copy_id is not None and not ((witness or "").strip()
                                             or (contractor_reference or "").strip()):
            raise InvalidInputError(
                "paper is destroyed before a witness or by a contractor: name the witness or "
                "give the contractor's reference", field="witness")
        self.trigger_event(self.ItemDestroyed, key=key, certificate_id=certificate_id,
                           method=method, date=date.isoformat(),
                           witness=(witness or "").strip() or None,
                           contractor_reference=(contractor_reference or "").strip() or None,
                           actor=actor)

    def withdraw(self, key: UUID, *, reason: str | None, actor: str) -> None:
        item = self.item(key)
        if self.status in (ListStatus.REJECTED, ListStatus.EXECUTED):
            raise IllegalTransitionError(f"culling list {self.id} is {self.status.value}")
        if item.destroyed is not None:
            raise IllegalTransitionError(f"item {key} was destroyed already")
        if item.withdrawn is not None:
            raise IllegalTransitionError(f"item {key} was withdrawn already")
        self.trigger_event(self.ItemWithdrawn, key=key,
                           reason=(reason or "").strip() or None, actor=actor)

    @property
    def done(self) -> bool:
        """Every item destroyed or withdrawn: the protocol can be issued."""
        return self.status is ListStatus.EXECUTED
