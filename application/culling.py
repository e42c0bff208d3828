"""Culling as it happens on paper: the register of culling decisions, culling lists
(propose → approve → destroy or withdraw, item by item) and the direct cull of a copy
that is on an approved list.

Nothing is destroyed before the holder of the paper confirms it: the copy's cull, the
list's item and (right after the commit) the crypto-shredding of the copy's data key
happen at the confirmed destruction, in one ``save``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from application.policy import (
    SYSTEM_HELD,
    Principal,
    copy_location,
    require_decision_registration,
    require_destroyer,
    require_list_approver,
    require_list_proposer,
    require_list_reader,
    require_may_destroy,
    require_may_propose_lists,
    require_withdrawer,
)
from application.queries import CustodyQueries
from application.service import CullResult, Custody
from domain.culling import (
    Condition,
    CullingDecision,
    DecisionPoint,
    LegalBasis,
    decision_aggregate_id,
    normalise_decision_id,
    parse_condition,
)
from domain.culling_list import CullingList, ItemStatus, ListItem, parse_destruction_date
from domain.errors import (
    AlreadyExistsError,
    DomainError,
    IllegalTransitionError,
    InvalidInputError,
    NotFoundError,
)
from domain.record import Purpose, Record

Doc = dict[str, Any]


@dataclass(frozen=True)
class ItemIn:
    record_id: UUID
    copy_id: UUID | None


@dataclass(frozen=True)
class PointIn:
    point: int
    text: str
    allows: str


@dataclass(frozen=True)
class Destruction:
    method: str
    date: str
    witness: str | None = None
    contractor_reference: str | None = None


class ItemsNotCullableError(IllegalTransitionError):
    """Some items of a proposed list may not be culled under its point (named per item)."""

    title = "Items not cullable under this point"
    code = "items_not_cullable"

    def __init__(self, message: str, *, items: Sequence[Doc]) -> None:
        super().__init__(message)
        self.items = list(items)


class Culling:
    def __init__(self, custody: Custody, queries: CustodyQueries) -> None:
        self.custody = custody
        self.queries = queries

    # -- the register of culling decisions ------------------------------------------------

    def register_decision(self, principal: Principal, *, decision: str, body: str, date: str,
                          points: Sequence[PointIn]) -> Doc:
        require_decision_registration(principal)
        parsed = [DecisionPoint(p.point, p.text.strip(),
                                parse_condition(p.allows, f"points[{i}].allows"))
                  for i, p in enumerate(points)]
        self.custody.ensure_seed_decision()
        if self.custody.exists(decision_aggregate_id(decision)):
            raise AlreadyExistsError(f"decision {normalise_decision_id(decision)} is registered "
                                     "already", existing_id=normalise_decision_id(decision))
        registered = CullingDecision.register(decision, body=body, date=date, points=parsed,
                                              actor=principal.id)
        seq = self.custody.commit(registered)
        self.queries.fresh(seq)
        return registered.as_dict()

    def decisions(self, principal: Principal) -> list[Doc]:
        require_list_reader(principal)
        self.custody.ensure_seed_decision()
        self.queries.fresh()
        rows = self.queries.views.all("culling_decisions")
        return sorted(({k: r[k] for k in ("id", "body", "date", "points")} for r in rows),
                      key=lambda r: (r["date"], r["id"]))

    # -- proposing ------------------------------------------------------------------------

    def _item(self, record: Record, copy_id: UUID | None, basis: LegalBasis) -> Doc:
        today = self.custody.today()
        if copy_id is None:
            record.check_record_cullable(basis, today=today)
            return {"key": str(record.id), "record_id": str(record.id), "copy_id": None,
                    "location": SYSTEM_HELD}
        copy = record.copy(copy_id)
        if basis.allows is Condition.GENERAL_INFORMATION and copy.purpose is Purpose.SCHOOL:
            raise IllegalTransitionError(
                f"point {basis.point} allows culling general information only")
        record.cullable_copy(copy_id, basis, today=today)
        return {"key": str(copy_id), "record_id": str(record.id), "copy_id": str(copy_id),
                "location": copy_location(copy)}

    def build_items(self, items: Sequence[ItemIn], basis: LegalBasis
                    ) -> tuple[list[Doc], list[Doc]]:
        """The items as the list stores them, and the ones that may not be culled (why)."""
        good: list[Doc] = []
        bad: list[Doc] = []
        for index, item in enumerate(items):
            try:
                record = self.custody.record(item.record_id)
                copy_id = item.copy_id
                if copy_id is None and record.is_student_documentation:
                    raise InvalidInputError("name the copy (copy_id) of student documentation",
                                            field=f"items[{index}].copy_id")
                good.append(self._item(record, copy_id, basis))
                open_list = self.open_list_of(UUID(good[-1]["key"]))
                if open_list is not None:
                    good.pop()
                    raise IllegalTransitionError(f"already on culling list {open_list}")
            except InvalidInputError:
                raise
            except DomainError as error:
                bad.append({"record_id": str(item.record_id),
                            "copy_id": str(item.copy_id) if item.copy_id else None,
                            "problem": str(error)})
        return good, bad

    def open_list_of(self, key: UUID) -> str | None:
        """The proposed or approved list this copy (or record) is on, if any."""
        entry = self.queries.views.get("culling_items", str(key))
        if entry is not None and entry.get("status") in (ItemStatus.PROPOSED, ItemStatus.APPROVED):
            return str(entry["list_id"])
        return None

    def propose(self, principal: Principal, *, decision: str, point: int,
                items: Sequence[ItemIn], note: str | None) -> Doc:
        # Who may propose at all is decided first, so nobody learns about items they
        # may not touch; which unit's items they may propose is checked below.
        require_may_propose_lists(principal)
        basis = self.custody.legal_basis(decision, point)
        self.queries.fresh()
        good, bad = self.build_items(items, basis)
        if bad:
            raise ItemsNotCullableError(
                f"{len(bad)} of {len(items)} items may not be culled under point {point} of "
                f"{basis.decision}", items=bad)
        require_list_proposer(principal, {str(i["location"]) for i in good})
        culling_list = CullingList.propose(uuid4(), decision=basis.decision, point=basis.point,
                                           items=good, note=note, school_year=None,
                                           actor=principal.id)
        seq = self.custody.commit(culling_list)
        self.queries.fresh(seq)
        return self.public(culling_list)

    # -- approval, destruction, withdrawal -----------------------------------------------

    def load(self, list_id: UUID) -> CullingList:
        return self.custody.load(CullingList, list_id, "culling list")

    @staticmethod
    def _locations(culling_list: CullingList) -> set[str]:
        return {i.location for i in culling_list.items.values() if i.withdrawn is None}

    def decide(self, principal: Principal, list_id: UUID, *, approved: bool,
               reason: str | None) -> Doc:
        culling_list = self.load(list_id)
        require_list_approver(principal, self._locations(culling_list))
        culling_list.decide(approved=approved, reason=reason, actor=principal.id)
        seq = self.custody.commit(culling_list)
        self.queries.fresh(seq)
        return self.public(culling_list)

    def _key(self, culling_list: CullingList, item_id: UUID) -> ListItem:
        return culling_list.item(item_id)

    def destroy(self, principal: Principal, list_id: UUID, item_id: UUID,
                destruction: Destruction) -> CullResult:
        """The holder confirms the destruction: the copy is culled and its data key
        destroyed now, not before."""
        require_may_destroy(principal, doing="confirm the destruction of records")
        culling_list = self.load(list_id)
        item = culling_list.require_destroyable(item_id)
        record = self.custody.record(item.record_id)
        today = self.custody.today()
        basis = self.custody.legal_basis(culling_list.decision, culling_list.point)
        date = parse_destruction_date(destruction.date, today)
        certificate_id = uuid4()
        if item.copy_id is None:
            require_destroyer(principal, SYSTEM_HELD)
            culling_list.confirm_destruction(
                item.key, certificate_id=certificate_id, method=destruction.method, date=date,
                witness=destruction.witness,
                contractor_reference=destruction.contractor_reference, actor=principal.id)
            record.cull(basis=basis, method=destruction.method, witness=destruction.witness,
                        certificate_id=certificate_id,
                        commitment=self.custody.commitment(record, None), today=today,
                        actor=principal.id)
            subject = record.subject
        else:
            copy = record.copy(item.copy_id)
            require_destroyer(principal, copy_location(copy))
            culling_list.confirm_destruction(
                item.key, certificate_id=certificate_id, method=destruction.method, date=date,
                witness=destruction.witness,
                contractor_reference=destruction.contractor_reference, actor=principal.id)
            record.cull_copy(copy.id, basis=basis, method=destruction.method,
                             witness=destruction.witness, certificate_id=certificate_id,
                             commitment=self.custody.commitment(record, copy), today=today,
                             actor=principal.id, culling_list_id=culling_list.id,
                             destroyed_on=date,
                             contractor_reference=destruction.contractor_reference)
            subject = copy.subject
        # The cull first, then the list's confirmation: one save, one transaction.
        seq = self.custody.commit(record, culling_list)
        self.custody.keys.destroy(subject)
        return CullResult(certificate_id, record.id, item.copy_id, seq)

    def withdraw(self, principal: Principal, list_id: UUID, item_id: UUID,
                 reason: str | None) -> Doc:
        culling_list = self.load(list_id)
        item = culling_list.item(item_id)
        require_withdrawer(principal, item.location)
        culling_list.withdraw(item.key, reason=reason, actor=principal.id)
        seq = self.custody.commit(culling_list)
        self.queries.fresh(seq)
        return self.public(culling_list)

    def cull_copy(self, principal: Principal, record_id: UUID, copy_id: UUID, *,
                  decision: str, point: int, method: str, witness: str | None,
                  contractor_reference: str | None = None, date: str | None = None
                  ) -> CullResult:
        """``POST …/copies/{id}/cull``: a paper copy is culled only from an approved
        culling list, and then exactly as its destruction on that list."""
        require_may_destroy(principal, doing="cull copies")
        record = self.custody.record(record_id)
        record.copy(copy_id)
        basis = self.custody.legal_basis(decision, point)
        self.queries.fresh()
        entry = self.queries.views.get("culling_items", str(copy_id))
        if entry is None or entry.get("status") != ItemStatus.APPROVED:
            raise IllegalTransitionError(
                f"copy {copy_id} is not on an approved culling list: paper is destroyed from "
                "an approved list only (POST /api/v1/culling-lists)")
        culling_list = self.load(UUID(entry["list_id"]))
        if (culling_list.decision, culling_list.point) != (basis.decision, basis.point):
            raise IllegalTransitionError(
                f"copy {copy_id} is on a list under point {culling_list.point} of "
                f"{culling_list.decision}, not point {basis.point} of {basis.decision}")
        return self.destroy(principal, culling_list.id, copy_id, Destruction(
            method, date or self.custody.today().isoformat(), witness, contractor_reference))

    # -- reading -------------------------------------------------------------------------

    def culling_list(self, principal: Principal, list_id: UUID) -> Doc:
        require_list_reader(principal)
        return self.public(self.load(list_id))

    def lists(self, principal: Principal, status: str | None = None) -> list[Doc]:
        require_list_reader(principal)
        self.queries.fresh()
        rows = self.queries.views.all("culling_lists")
        if status:
            rows = [r for r in rows if r["status"] == status]
        return sorted(rows, key=lambda r: (r["proposed_at"], r["id"]))

    @staticmethod
    def public(culling_list: CullingList) -> Doc:
        return {
            "id": str(culling_list.id),
            "status": culling_list.status.value,
            "decision": culling_list.decision,
            "point": culling_list.point,
            "note": culling_list.note,
            "school_year": culling_list.school_year,
            "proposed_by": culling_list.proposer,
            "approved_by": culling_list.approver,
            "version": culling_list.version,
            "items": [
                {"record_id": str(i.record_id),
                 "copy_id": str(i.copy_id) if i.copy_id else None,
                 "location": i.location,
                 "status": culling_list.item_status(i).value,
                 "certificate_id": str(i.certificate_id) if i.certificate_id else None,
                 "destruction": i.destroyed, "withdrawn": i.withdrawn}
                for i in culling_list.items.values()
            ],
        }


def require_found(doc: Doc | None, what: str) -> Doc:
    if doc is None:
        raise NotFoundError(f"{what} does not exist")
    return doc
