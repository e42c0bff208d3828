"""Use cases that span many records: terminating the archive agreement and the
year-end rollover (läsårsskifte)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.culling import Culling
from application.policy import (
    Principal,
    copy_location,
    require_agreement_termination,
    require_school_year_closing,
)
from application.queries import CustodyQueries
from application.service import Custody
from domain.agreement import AGREEMENT_ID, ArchiveAgreement, Readiness, SchoolYear, school_year_id
from domain.culling import DECISION_ID, POINT_SCHOOL_COPY_AT_ROLLOVER
from domain.culling_list import CullingList, school_year_list_id
from domain.errors import DomainError, IllegalTransitionError
from domain.record import CopyStatus, DepartureReason, Record

Doc = dict[str, Any]


class Migration:
    def __init__(self, custody: Custody, queries: CustodyQueries) -> None:
        self.custody = custody
        self.queries = queries

    def terminate_agreement(self, principal: Principal) -> Doc:
        require_agreement_termination(principal)
        # Alone at the gate: every capture that started has committed, none starts now,
        # so the readiness below counts every student there will ever be.
        with self.custody.gate.terminating():
            if self.custody.exists(AGREEMENT_ID):
                raise IllegalTransitionError("the archive agreement was already terminated"
                                             ).with_code("agreement_already_terminated")
            report = self.queries.readiness(principal)
            readiness = Readiness(report["students"], report["printed"], report["archived"],
                                  report["verified"], report["missing"])
            if readiness.students == 0:
                raise IllegalTransitionError("no student has been captured from Unikum yet"
                                             ).with_code("nothing_captured_yet")
            agreement = ArchiveAgreement.terminate(readiness, actor=principal.id)
            seq = self.custody.commit(agreement)
        self.queries.fresh(seq)
        return self.queries.readiness(principal)

    def close_school_year(self, principal: Principal, year: int) -> Doc:
        """The rollover proposes; people carry it out. Transfers are started (in transit
        until the receiving custodian confirms receipt) and the school copies of students
        who finished compulsory school go on one proposed culling list. Nothing is culled.
        Runs once per year: a second call answers the same, changing nothing."""
        require_school_year_closing(principal)
        if self.custody.exists(school_year_id(year)):
            closed = self.custody.load(SchoolYear, school_year_id(year), "school year")
            return self._answer(closed)
        self.queries.fresh()
        culling = Culling(self.custody, self.queries)
        basis = self.custody.legal_basis(DECISION_ID, POINT_SCHOOL_COPY_AT_ROLLOVER)
        today = self.custody.today()
        changed: list[Record] = []
        transfers: list[Doc] = []
        to_cull: list[Doc] = []
        for_archivist: list[Doc] = []
        blocked: list[Doc] = []
        for candidate in self.queries.rollover_candidates(principal, year):
            record = self.custody.record(UUID(candidate["record_id"]))
            departure = record.departure
            copy = record.school_copy
            if departure is None or copy is None:
                continue  # nothing at a school unit to move or cull (or already handled)
            entry: Doc = {"record_id": str(record.id), "copy_id": str(copy.id)}
            try:
                if departure.reason is DepartureReason.MOVED_WITHIN_MUNICIPALITY:
                    if copy.status is CopyStatus.IN_TRANSIT:
                        continue
                    to_school = departure.to_school_id or ""
                    from_school = copy.school_id or ""
                    record.transfer(copy.id, to_school_id=to_school,
                                    reason=f"school year {year} closed: moved within the "
                                    "municipality", actor=principal.id)
                    changed.append(record)
                    transfers.append({**entry, "from_school_id": from_school,
                                      "to_school_id": to_school})
                elif departure.reason is DepartureReason.FINISHED_COMPULSORY_SCHOOL:
                    if culling.open_list_of(copy.id) is not None:
                        continue
                    record.cullable_copy(copy.id, basis, today=today)
                    to_cull.append({"key": str(copy.id), "record_id": str(record.id),
                                    "copy_id": str(copy.id), "location": copy_location(copy)})
                else:
                    for_archivist.append({
                        **entry, "school_id": copy.school_id, "reason": departure.reason.value,
                        "date": departure.date.isoformat(),
                        "note": "moved away from the municipality: hand the copy over to the "
                        "new organiser (external-handover) or decide otherwise"})
            except DomainError as error:
                blocked.append({**entry, "problem": str(error)})
        culling_list = None
        if to_cull:
            culling_list = CullingList.propose(
                school_year_list_id(year), decision=basis.decision, point=basis.point,
                items=to_cull, note=f"school year {year} closed: students who finished "
                "compulsory school", school_year=year, actor=principal.id)
        closing = SchoolYear.close(
            year, transferred=[t["copy_id"] for t in transfers], culled=[],
            for_archivist=[f["record_id"] for f in for_archivist], actor=principal.id,
            transfers=transfers, culling_list_id=str(culling_list.id) if culling_list else None,
            for_archivist_items=for_archivist, blocked=blocked,
        )
        # One save: the transfers, the list and the closing commit together or not at all.
        seq = self.custody.commit(*changed, culling_list, closing)
        self.queries.fresh(seq)
        return self._answer(closing)

    @staticmethod
    def _answer(closed: SchoolYear) -> Doc:
        return {"year": closed.year, "transfers": closed.transfers,
                "culling_list_id": closed.culling_list_id,
                "for_archivist": closed.for_archivist_items, "blocked": closed.blocked}
