"""Use cases that span many records: terminating the archive agreement and the
year-end rollover (läsårsskifte)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.policy import (
    Principal,
    require_agreement_termination,
    require_school_year_closing,
)
from application.queries import CustodyQueries
from application.service import Custody
from domain.agreement import AGREEMENT_ID, ArchiveAgreement, Readiness, SchoolYear, school_year_id
from domain.culling import DECISION_ID, POINT_SCHOOL_COPY_AT_ROLLOVER
from domain.errors import DomainError, IllegalTransitionError
from domain.record import CopyStatus, DepartureReason

Doc = dict[str, Any]


class Migration:
    def __init__(self, custody: Custody, queries: CustodyQueries) -> None:
        self.custody = custody
        self.queries = queries

    def terminate_agreement(self, principal: Principal) -> Doc:
        require_agreement_termination(principal)
        if self.custody.exists(AGREEMENT_ID):
            raise IllegalTransitionError("the archive agreement was already terminated")
        report = self.queries.readiness(principal)
        readiness = Readiness(report["students"], report["printed"], report["archived"],
                              report["verified"], report["missing"])
        if readiness.students == 0:
            raise IllegalTransitionError("no student has been captured from Unikum yet")
        agreement = ArchiveAgreement.terminate(readiness, actor=principal.id)
        seq = self.custody.commit(agreement)
        self.queries.fresh(seq)
        return self.queries.readiness(principal)

    def close_school_year(self, principal: Principal, year: int) -> Doc:
        """Hand over or cull the school copies of students who left; runs once per year."""
        require_school_year_closing(principal)
        if self.custody.exists(school_year_id(year)):
            closed = self.custody.load(SchoolYear, school_year_id(year), "school year")
            return {"year": year, "already_closed": True, "transferred": closed.transferred,
                    "culled": closed.culled, "for_archivist": closed.for_archivist,
                    "blocked": []}
        transferred: list[Doc] = []
        culled: list[Doc] = []
        for_archivist: list[Doc] = []
        blocked: list[Doc] = []
        for candidate in self.queries.rollover_candidates(principal, year):
            record = self.custody.record(UUID(candidate["record_id"]))
            departure = record.departure
            copy = record.school_copy
            if departure is None:
                continue
            entry: Doc = {"record_id": str(record.id), "reason": departure.reason.value,
                          "date": departure.date.isoformat()}
            if copy is None:
                continue  # nothing at a school unit to move or cull (or already handled)
            entry["copy_id"] = str(copy.id)
            try:
                if departure.reason is DepartureReason.MOVED_WITHIN_MUNICIPALITY:
                    if copy.status is CopyStatus.IN_TRANSIT:
                        continue
                    to_school = departure.to_school_id or ""
                    record.transfer(copy.id, to_school_id=to_school,
                                    reason=f"school year {year} closed: moved within the "
                                    "municipality", actor=principal.id)
                    self.custody.commit(record)
                    transferred.append({**entry, "from_school_id": copy.school_id,
                                        "to_school_id": to_school})
                elif departure.reason is DepartureReason.FINISHED_COMPULSORY_SCHOOL:
                    result = self.custody.cull_copy(
                        principal, record.id, copy.id,
                        decision=DECISION_ID, point=POINT_SCHOOL_COPY_AT_ROLLOVER,
                        method="shredding", witness=None,
                    )
                    culled.append({**entry, "certificate_id": str(result.certificate_id)})
                else:
                    for_archivist.append({**entry, "school_id": copy.school_id,
                                          "note": "moved away from the municipality: the "
                                          "decision does not say; the archivist decides"})
            except DomainError as error:
                blocked.append({**entry, "problem": str(error)})
        if not blocked:
            closing = SchoolYear.close(
                year,
                transferred=[t["copy_id"] for t in transferred],
                culled=[c["certificate_id"] for c in culled],
                for_archivist=[f["record_id"] for f in for_archivist],
                actor=principal.id,
            )
            self.custody.commit(closing)
        self.queries.fresh()
        return {"year": year, "already_closed": False, "transferred": transferred,
                "culled": culled, "for_archivist": for_archivist, "blocked": blocked}
