"""Personal data as Swedish law requires: the access log and personnummer aliases.

An :class:`AccessLog` is one process's slice of the log of reads of personal data
(loggning av åtkomst): each ``Recorded`` event carries a batch of entries (who, when,
what, which students by record id, allowed or refused), stored and signed like every other
event, so the same chains, signatures and transparency log make it tamper-evident.

A :class:`StudentAlias` lets a second personnummer (after a renumbering by the tax
agency) lead to the record that was captured under the first: its id is the blind index
of the new number, so nothing here names the person.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from domain.errors import InvalidInputError
from domain.events import CustodyCreated, CustodyEvent

OUTCOMES = frozenset({"allowed", "refused"})
AccessEntry = dict[str, Any]
"""``{"at", "actor", "action", "route", "outcome", "record_ids": [...]}``; times as
ISO-8601 strings, record ids as strings (pseudonymous: blind-index ids)."""


def check_entry(entry: AccessEntry) -> AccessEntry:
    for key in ("at", "actor", "action", "route", "outcome"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise InvalidInputError(f"an access-log entry needs {key}", field=key)
    if entry["outcome"] not in OUTCOMES:
        raise InvalidInputError("outcome is allowed or refused", field="outcome")
    ids = entry.get("record_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise InvalidInputError("record_ids is a list of record ids", field="record_ids")
    return {k: entry[k] for k in ("at", "actor", "action", "route", "outcome", "record_ids")}


class AccessLog(BaseAggregate[UUID]):
    """A slice of the access log, written by one process only (so never contended)."""

    TOPIC = "custody:AccessLog"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Opened(Event, CustodyCreated):
        TOPIC = "custody:AccessLog.Opened"
        opened_at: str

        def apply(self, log: AccessLog) -> None:
            log.opened_at = self.opened_at
            log.entries = 0

    class Recorded(Event):
        TOPIC = "custody:AccessLog.Recorded"
        entries: list[AccessEntry]

        def apply(self, log: AccessLog) -> None:
            log.entries += len(self.entries)

    opened_at: str
    entries: int

    @classmethod
    def open(cls, log_id: UUID, *, opened_at: str, actor: str) -> AccessLog:
        return cls._create(cls.Opened, id=log_id, opened_at=opened_at, actor=actor)

    def record(self, entries: list[AccessEntry], *, actor: str) -> None:
        if not entries:
            raise InvalidInputError("nothing to record", field="entries")
        self.trigger_event(self.Recorded, entries=[check_entry(e) for e in entries],
                           actor=actor)


class StudentAlias(BaseAggregate[UUID]):
    """Another personnummer of a captured student: its id is that number's blind index."""

    TOPIC = "custody:StudentAlias"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Created(Event, CustodyCreated):
        TOPIC = "custody:StudentAlias.Created"
        record_id: UUID

        def apply(self, alias: StudentAlias) -> None:
            alias.record_id = self.record_id

    record_id: UUID

    @classmethod
    def create(cls, alias_id: UUID, *, record_id: UUID, actor: str) -> StudentAlias:
        return cls._create(cls.Created, id=alias_id, record_id=record_id, actor=actor)
