"""The archive agreement (arkiveringsavtal) with Unikum's vendor, and school years.

The agreement may be terminated only when every student captured from Unikum has an
archive copy that is printed, archived and verified. The readiness figures are computed
by the application from the records and handed in, so the rule itself lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import BaseAggregate

from domain.errors import AgreementNotReadyError, IllegalTransitionError
from domain.events import CustodyCreated, CustodyEvent
from domain.school import NAMESPACE

AGREEMENT_ID = uuid5(NAMESPACE, "archive-agreement:unikum")


@dataclass(frozen=True)
class Readiness:
    students: int
    printed: int
    archived: int
    verified: int
    missing: Sequence[dict[str, object]] = field(default_factory=tuple)

    @property
    def ready(self) -> bool:
        return not self.missing and self.verified == self.students


class ArchiveAgreement(BaseAggregate[UUID]):
    TOPIC = "custody:ArchiveAgreement"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Terminated(Event, CustodyCreated):
        TOPIC = "custody:ArchiveAgreement.Terminated"
        students: int
        verified: int

        def apply(self, agreement: ArchiveAgreement) -> None:
            agreement.terminated = True

    terminated: bool

    @classmethod
    def terminate(cls, readiness: Readiness, *, actor: str) -> ArchiveAgreement:
        if not readiness.ready:
            raise AgreementNotReadyError(
                f"{len(readiness.missing)} of {readiness.students} students do not yet have an "
                "archive copy that is printed, archived and verified",
                missing=readiness.missing,
            )
        return cls._create(
            cls.Terminated,
            id=AGREEMENT_ID,
            students=readiness.students,
            verified=readiness.verified,
            actor=actor,
        )


def school_year_id(year: int) -> UUID:
    return uuid5(NAMESPACE, f"school-year:{year}")


class SchoolYear(BaseAggregate[UUID]):
    """The closing of a school year; its rollover runs once."""

    TOPIC = "custody:SchoolYear"

    def __init__(self) -> None:
        """State is set by the events' ``apply``; the creation event calls this first."""

    class Event(CustodyEvent):
        pass

    class Closed(Event, CustodyCreated):
        TOPIC = "custody:SchoolYear.Closed"
        year: int
        transferred: list[str]
        culled: list[str]
        for_archivist: list[str]
        # Since the closing proposes instead of culling (events stored before lack these):
        transfers: list[dict[str, Any]]
        culling_list_id: str | None
        for_archivist_items: list[dict[str, Any]]
        blocked: list[dict[str, Any]]

        def apply(self, school_year: SchoolYear) -> None:
            school_year.year = self.year
            school_year.transferred = list(self.transferred)
            school_year.culled = list(self.culled)
            school_year.for_archivist = list(self.for_archivist)
            state = vars(self)
            school_year.transfers = list(state.get("transfers") or [
                {"copy_id": c} for c in self.transferred])
            school_year.culling_list_id = state.get("culling_list_id")
            school_year.for_archivist_items = list(state.get("for_archivist_items") or [
                {"record_id": r} for r in self.for_archivist])
            school_year.blocked = list(state.get("blocked") or [])

    year: int
    transferred: list[str]
    culled: list[str]
    for_archivist: list[str]
    transfers: list[dict[str, Any]]
    culling_list_id: str | None
    for_archivist_items: list[dict[str, Any]]
    blocked: list[dict[str, Any]]

    @classmethod
    def close(
        cls,
        year: int,
        *,
        transferred: list[str],
        culled: list[str],
        for_archivist: list[str],
        actor: str,
        transfers: list[dict[str, Any]],
        culling_list_id: str | None,
        for_archivist_items: list[dict[str, Any]],
        blocked: list[dict[str, Any]],
    ) -> SchoolYear:
        if not 2000 <= year <= 2100:
            raise IllegalTransitionError(f"school year {year} is out of range").with_code(
                "school_year_out_of_range", year=year)
        return cls._create(
            cls.Closed,
            id=school_year_id(year),
            year=year,
            transferred=transferred,
            culled=culled,
            for_archivist=for_archivist,
            transfers=transfers,
            culling_list_id=culling_list_id,
            for_archivist_items=for_archivist_items,
            blocked=blocked,
            actor=actor,
        )
