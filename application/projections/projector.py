"""The projector: one verified event in, changes of JSON documents in named views out.

See :mod:`application.projections` for the views and how they are kept.
"""


from __future__ import annotations

import logging
from bisect import insort
from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.ports import (
    Doc,
    FeedItem,
    SearchIndex,
    ViewWriter,
)
from application.projections.errors import ProjectionStoppedError
from application.search import name_tokens, shard_of
from domain.actor import Actor
from domain.agreement import ArchiveAgreement, SchoolYear
from domain.culling import CullingDecision
from domain.culling_list import CullingList, ItemStatus, ListStatus
from domain.delivery import ArchiveDelivery
from domain.privacy import AccessLog, StudentAlias
from domain.record import CopyStatus, Record
from domain.request import DocumentRequest, RequestStatus
from domain.school import SchoolUnit

log = logging.getLogger("custody.projections")

VIEWS = ("records", "copies", "requests", "culls", "actors", "schools", "departures", "meta",
         "culling_decisions", "culling_lists", "culling_items", "deliveries", "copy_states",
         "access")


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _id(value: Any) -> str:
    return str(value) if value is not None else ""


class Projector:
    """Pure: (event, seq) -> document changes. Knows every event type of the domain.

    With a ``search`` index it also keeps the records search's name index: view
    ``name_index``, one posting list of record ids per (keyed token, shard), and
    ``name_index_of`` (a record's entries, to take them out when it is culled). These
    hold keyed HMACs only and are not part of the views an export compares (an offline
    verifier has no master key)."""

    def __init__(self, search: SearchIndex | None = None) -> None:
        self.search = search
        r, a, q = Record, Actor, DocumentRequest
        self.handlers: dict[type, Callable[[ViewWriter, Any, FeedItem], None]] = {
            SchoolUnit.Registered: self.school_registered,
            a.Registered: self.actor_registered,
            a.AssignmentGranted: self.assignment_granted,
            a.AssignmentEnded: self.assignment_ended,
            a.TokenRevoked: self.token_revoked,
            a.TokenIssued: self.actor_credentials_changed,
            a.TokenWithdrawn: self.actor_credentials_changed,
            a.IdentityLinked: self.actor_credentials_changed,
            a.ProfileChanged: self.actor_profile_changed,
            r.StudentDocumentationCaptured: self.student_captured,
            r.GeneralInformationCaptured: self.general_captured,
            r.CopyPrinted: self.copy_printed,
            r.CopyArchived: self.copy_archived,
            r.CopyVerified: self.copy_verified,
            r.CopyDelivered: self.copy_delivered,
            r.CopyLent: self.copy_lent,
            r.CopyReturned: self.copy_returned,
            r.CopyTransferred: self.copy_transferred,
            r.CopyReceived: self.copy_received,
            r.CopyCulled: self.copy_culled,
            r.Culled: self.record_culled,
            r.EnteredIntoIst: self.entered_into_ist,
            r.StudentDeparted: self.student_departed,
            r.HoldPlaced: self.hold_placed,
            r.HoldLifted: self.hold_lifted,
            q.Made: self.request_made,
            q.Decided: self.request_decided,
            q.HandedOut: self.request_handed_out,
            q.Returned: self.request_returned,
            ArchiveAgreement.Terminated: self.agreement_terminated,
            SchoolYear.Closed: self.school_year_closed,
            r.CopyHandedOverExternally: self.copy_handed_over_externally,
            r.ExternalHandoverReceipted: self.external_handover_receipted,
            CullingDecision.Registered: self.decision_registered,
            CullingList.Proposed: self.list_proposed,
            CullingList.Approved: self.list_decided,
            CullingList.Rejected: self.list_decided,
            CullingList.ItemDestroyed: self.list_item_destroyed,
            CullingList.ItemWithdrawn: self.list_item_withdrawn,
            ArchiveDelivery.Delivered: self.delivery_made,
            ArchiveDelivery.Received: self.delivery_received,
            r.ProtectionSet: self.protection_set,
            r.ProtectionLifted: self.protection_lifted,
            r.Renumbered: self.renumbered,
            AccessLog.Opened: self.nothing,
            AccessLog.Recorded: self.access_recorded,
            StudentAlias.Created: self.nothing,
        }

    def apply(self, w: ViewWriter, item: FeedItem) -> None:
        handler = self.handlers.get(type(item.event))
        if handler is None:
            raise ProjectionStoppedError(
                f"seq={item.seq}: no projection for event type {type(item.event).__qualname__}"
            )
        self._check_chain(w, item)
        handler(w, item.event, item)

    # -- chain: each aggregate's events arrive in version order, each linked ----------

    def _check_chain(self, w: ViewWriter, item: FeedItem) -> None:
        event = item.event
        key = str(event.originator_id)
        head = w.get("heads", key)
        expected_version = (head["version"] + 1) if head else 1
        expected_prev = head["hash"] if head else "0" * 64
        if event.originator_version != expected_version or item.prev != expected_prev:
            raise ProjectionStoppedError(
                f"seq={item.seq} record={UUID(key).hex} version={event.originator_version}: "
                f"chain broken (expected version {expected_version} linked to the previous "
                "event); projection stopped"
            )
        w.put("heads", key, {"id": key, "version": event.originator_version,
                             "hash": item.event_hash}, owned=True)

    # -- helpers ----------------------------------------------------------------------

    @staticmethod
    def _record(w: ViewWriter, event: Any) -> Doc:
        doc = w.get("records", str(event.originator_id))
        if doc is None:
            raise ProjectionStoppedError(f"no record {event.originator_id} in the views")
        return doc

    @staticmethod
    def _touch(doc: Doc, event: Any, item: FeedItem) -> Doc:
        doc["version"] = event.originator_version
        doc["updated_at"] = _iso(event.timestamp)
        doc.setdefault("seqs", []).append(item.seq)
        return doc

    def _save_record(self, w: ViewWriter, doc: Doc, event: Any, item: FeedItem) -> None:
        w.put("records", doc["id"], self._touch(doc, event, item))

    def _copy(self, w: ViewWriter, copy_id: Any) -> Doc:
        doc = w.get("copies", str(copy_id))
        if doc is None:
            raise ProjectionStoppedError(f"no copy {copy_id} in the views")
        return doc

    @staticmethod
    def _put_copy(w: ViewWriter, copy: Doc, item: FeedItem) -> None:
        """Store the copy, and its state in ``copy_states``: the state it leaves is closed
        (kept under ``<copy id>@<seq it began>`` with when it ended), the new one is the
        current (under the copy's id)."""
        w.put("copies", copy["id"], copy)
        at = _iso(item.event.timestamp)
        current = w.get("copy_states", copy["id"])
        if current is not None and current["valid_from_seq"] != item.seq:
            current["valid_to"] = at
            current["valid_to_seq"] = item.seq
            closed_key = f"{copy['id']}@{current['valid_from_seq']}"
            current["id"] = closed_key
            w.put("copy_states", closed_key, current, owned=True)
        w.put("copy_states", copy["id"], {
            "id": copy["id"], "copy_id": copy["id"], "record_id": copy["record_id"],
            "purpose": copy["purpose"], "status": copy["status"],
            "school_id": copy.get("school_id") or "archive",
            "holder": copy.get("holder"), "location": copy.get("location"),
            "verification": copy.get("verification"),
            "transferred_from": copy.get("transferred_from"),
            "valid_from": at, "valid_from_seq": item.seq, "valid_to": None,
            "valid_to_seq": None,
        })

    def _copy_event(self, w: ViewWriter, event: Any, item: FeedItem,
                    change: Callable[[Doc], None]) -> None:
        copy = self._copy(w, event.copy_id)
        change(copy)
        copy["updated_at"] = _iso(event.timestamp)
        self._put_copy(w, copy, item)
        record = self._record(w, event)
        self._save_record(w, record, event, item)

    # -- schools and staff -------------------------------------------------------------

    def school_registered(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        w.put("schools", e.code, {"id": e.code, "name": e.name,
                                  "registered_at": _iso(e.timestamp), "actor": e.actor})

    def actor_registered(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        w.put("actors", str(e.originator_id), {
            "id": str(e.originator_id), "name": e.name, "role": e.role,
            "school_id": e.school_id, "revoked": False, "assignments": [],
            "registered_at": _iso(e.timestamp), "actor": e.actor,
        })

    def _actor_change(self, w: ViewWriter, e: Any, change: Callable[[Doc], None]) -> None:
        doc = w.get("actors", str(e.originator_id))
        if doc is None:
            raise ProjectionStoppedError(f"no actor {e.originator_id} in the views")
        change(doc)
        w.put("actors", doc["id"], doc)

    def assignment_granted(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        self._actor_change(w, e, lambda d: d["assignments"].append(str(e.record_id)))

    def assignment_ended(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        self._actor_change(w, e, lambda d: d["assignments"].remove(str(e.record_id)))

    def token_revoked(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        self._actor_change(w, e, lambda d: d.update(revoked=True))

    def actor_credentials_changed(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        """Tokens and identities are read from the staff member's events, not the views."""

    def actor_profile_changed(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        self._actor_change(w, e, lambda d: d.update(name=e.name, role=e.role,
                                                    school_id=e.school_id))

    # -- capture -------------------------------------------------------------------------

    def _new_record(self, e: Any, kind: str) -> Doc:
        return {
            "id": str(e.originator_id), "kind": kind, "status": "captured",
            "school_id": e.school_id, "record_id": str(e.originator_id),
            "subject": str(e.subject), "personal": e.personal,
            "document_count": getattr(e, "document_count", 1),
            "fingerprint": getattr(e, "fingerprint", getattr(e, "sha256", "")),
            "category": getattr(e, "category", None),
            "copy_ids": [], "holds": {}, "departure": None, "ist_entered": None,
            "culled": None, "captured_at": _iso(e.timestamp), "captured_by": e.actor,
            "seqs": [],
        }

    def student_captured(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        self._save_record(w, self._new_record(e, "student_documentation"), e, item)
        name = (e.personal or {}).get("name") if isinstance(e.personal, dict) else None
        if self.search is not None and name:
            self._index_name(w, str(e.originator_id), name)

    def _index_name(self, w: ViewWriter, record_id: str, name: str) -> None:
        assert self.search is not None
        entries = [f"{self.search.name_token_key(t)}.{shard_of(record_id)}"
                   for t in name_tokens(name)]
        for entry in entries:
            posting = w.get("name_index", entry) or {"id": entry, "record_ids": []}
            if record_id not in posting["record_ids"]:
                insort(posting["record_ids"], record_id)
            w.put("name_index", entry, posting, owned=True)
        w.put("name_index_of", record_id, {"id": record_id, "entries": entries}, owned=True)

    def _unindex_name(self, w: ViewWriter, record_id: str) -> None:
        mine = w.get("name_index_of", record_id)
        if mine is None:
            return
        for entry in mine["entries"]:
            posting = w.get("name_index", entry)
            if posting is not None and record_id in posting["record_ids"]:
                posting["record_ids"].remove(record_id)
                w.put("name_index", entry, posting, owned=True)
        w.put("name_index_of", record_id, {"id": record_id, "entries": []}, owned=True)

    def general_captured(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        self._save_record(w, self._new_record(e, "general_information"), e, item)

    # -- copies ----------------------------------------------------------------------------

    def copy_printed(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = self._record(w, e)
        copy = {
            "id": str(e.copy_id), "record_id": record["id"], "purpose": e.purpose,
            "status": CopyStatus.PRINTED,
            "school_id": e.school_id if e.purpose == "school" else None,
            "location": None, "holder": None, "loan_request_id": None,
            "verification": None, "replaces": _id(e.replaces) or None, "replaced_by": None,
            "certificate_id": None, "printed_at": _iso(e.timestamp),
            "updated_at": _iso(e.timestamp), "kind": record["kind"],
        }
        self._put_copy(w, copy, item)
        if e.replaces is not None:
            old = self._copy(w, e.replaces)
            old["status"] = CopyStatus.REPLACED
            old["replaced_by"] = copy["id"]
            self._put_copy(w, old, item)
        record["copy_ids"].append(copy["id"])
        self._save_record(w, record, e, item)

    def copy_archived(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            c["status"] = CopyStatus.ARCHIVED
            c["location"] = {"box": e.box, "shelf": e.shelf}
        self._copy_event(w, e, item, change)

    def copy_verified(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            c["verification"] = {"outcome": e.outcome, "note": e.note, "by": e.actor,
                                 "at": _iso(e.timestamp)}
            if e.outcome == "discrepancy":
                c["status"] = CopyStatus.DISCREPANCY
            elif c["purpose"] == "archive":
                c["status"] = CopyStatus.VERIFIED
        self._copy_event(w, e, item, change)

    def copy_delivered(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            c["status"] = CopyStatus.AT_SCHOOL
            c["school_id"] = e.school_id
            c["delivered_at"] = _iso(e.timestamp)
        self._copy_event(w, e, item, change)

    def copy_lent(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            c["holder"] = e.to_actor
            c["loan_request_id"] = str(e.request_id)
        self._copy_event(w, e, item, change)

    def copy_returned(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            c["holder"] = None
            c["loan_request_id"] = None
        self._copy_event(w, e, item, change)

    def copy_transferred(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            c["status"] = CopyStatus.IN_TRANSIT
            c["school_id"] = e.to_school_id
            c["transferred_from"] = e.from_school_id
        self._copy_event(w, e, item, change)
        record = self._record(w, e)
        record["school_id"] = e.to_school_id
        w.put("records", record["id"], record)
        departure = w.get("departures", record["id"])
        if departure is not None:
            departure["handled"] = "transferred"
            w.put("departures", record["id"], departure)

    def copy_received(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            c["status"] = CopyStatus.AT_SCHOOL
            c.pop("transferred_from", None)
        self._copy_event(w, e, item, change)

    def _cull_entry(self, w: ViewWriter, e: Any, item: FeedItem, record: Doc,
                    copy_id: str | None) -> None:
        w.put("culls", str(e.certificate_id), {
            "certificate_id": str(e.certificate_id), "record_id": record["id"],
            "copy_id": copy_id, "kind": record["kind"], "category": record.get("category"),
            "school_id": record["school_id"], "decision": e.decision, "point": e.point,
            "condition": e.condition, "method": e.method, "witness": e.witness,
            "commitment": e.commitment, "actor": e.actor, "at": _iso(e.timestamp),
            "seq": item.seq, "version": e.originator_version,
            "shredded_subject": str(e.shredded_subject),
            "culling_list_id": _id(getattr(e, "culling_list_id", None)) or None,
            "destroyed_on": getattr(e, "destroyed_on", None),
            "contractor_reference": getattr(e, "contractor_reference", None),
        })

    def copy_culled(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            c["status"] = CopyStatus.CULLED
            c["certificate_id"] = str(e.certificate_id)
        self._copy_event(w, e, item, change)
        self._cull_entry(w, e, item, self._record(w, e), str(e.copy_id))
        record = self._record(w, e)
        departure = w.get("departures", record["id"])
        if departure is not None:
            departure["handled"] = "culled"
            w.put("departures", record["id"], departure)

    def record_culled(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = self._record(w, e)
        record["status"] = "culled"
        record["personal"] = None
        record["culled"] = {"certificate_id": str(e.certificate_id), "at": _iso(e.timestamp)}
        self._save_record(w, record, e, item)
        self._cull_entry(w, e, item, record, None)
        if self.search is not None:
            self._unindex_name(w, record["id"])

    # -- students ----------------------------------------------------------------------------

    def entered_into_ist(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = self._record(w, e)
        record["ist_entered"] = {"at": _iso(e.timestamp), "by": e.actor, "note": e.note}
        self._save_record(w, record, e, item)

    def student_departed(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = self._record(w, e)
        departure = {"reason": e.reason, "from_school_id": e.from_school_id,
                     "to_school_id": e.to_school_id, "date": e.date}
        record["departure"] = departure
        self._save_record(w, record, e, item)
        w.put("departures", record["id"], {
            "record_id": record["id"], **departure, "school_id": e.from_school_id,
            "recorded_at": _iso(e.timestamp), "handled": None, "status": e.reason,
        })

    def hold_placed(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = self._record(w, e)
        record["holds"][str(e.hold_id)] = {"reason": e.reason, "by": e.actor,
                                           "at": _iso(e.timestamp)}
        self._save_record(w, record, e, item)

    def hold_lifted(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = self._record(w, e)
        record["holds"].pop(str(e.hold_id), None)
        self._save_record(w, record, e, item)

    # -- personal data: protected identity, renumbering, the access log ----------------------

    def nothing(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        """Events whose only trace in the views is their place in the chain."""

    def protection_set(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = self._record(w, e)
        record["protected"] = {"at": _iso(e.timestamp), "by": e.actor}
        if record.get("personal") is not None and e.personal is not None:
            record["personal"]["protection_reason"] = e.personal.get("reason")
        self._save_record(w, record, e, item)

    def protection_lifted(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = self._record(w, e)
        record["protected"] = None
        if record.get("personal") is not None:
            record["personal"].pop("protection_reason", None)
        self._save_record(w, record, e, item)

    def renumbered(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = self._record(w, e)
        personal = record.get("personal")
        if personal is not None and e.personal is not None:
            # The shelf order stays under the number the record was filed by.
            personal.setdefault("original_personnummer", personal.get("personnummer"))
            personal.setdefault("previous_personnummer", []).append(e.personal["previous"])
            personal["personnummer"] = e.personal["personnummer"]
        record.setdefault("renumberings", []).append({"at": _iso(e.timestamp), "by": e.actor})
        self._save_record(w, record, e, item)

    def access_recorded(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        for n, entry in enumerate(e.entries):
            for record_id in entry["record_ids"]:
                key = f"{item.seq:012d}:{n:05d}:{record_id}"
                w.put("access", key, {
                    "id": key, "record_id": record_id, "at": entry["at"],
                    "actor": entry["actor"], "action": entry["action"],
                    "route": entry["route"], "outcome": entry["outcome"], "seq": item.seq,
                }, owned=True)

    # -- requests ------------------------------------------------------------------------------

    def request_made(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        record = w.get("records", str(e.record_id))
        w.put("requests", str(e.originator_id), {
            "id": str(e.originator_id), "record_id": str(e.record_id),
            "copy_id": _id(e.copy_id) or None, "school_id": e.custodian_location,
            "student_school_id": record["school_id"] if record else None,
            "actor": e.actor, "purpose": e.purpose,
            "status": RequestStatus.REFUSED if e.refusal else RequestStatus.PENDING,
            "made_at": _iso(e.timestamp), "refused_on_arrival": bool(e.refusal),
            "decision": ({"granted": False, "reason": e.refusal, "by": "policy",
                          "at": _iso(e.timestamp)} if e.refusal else None),
            "handed_out": None, "returned": None, "seq": item.seq,
        })

    def _request_change(self, w: ViewWriter, e: Any, change: Callable[[Doc], None]) -> None:
        doc = w.get("requests", str(e.originator_id))
        if doc is None:
            raise ProjectionStoppedError(f"no request {e.originator_id} in the views")
        change(doc)
        w.put("requests", doc["id"], doc)

    def request_decided(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(d: Doc) -> None:
            d["status"] = RequestStatus.GRANTED if e.granted else RequestStatus.REFUSED
            d["decision"] = {"granted": e.granted, "reason": e.reason, "by": e.actor,
                             "at": _iso(e.timestamp)}
        self._request_change(w, e, change)

    def request_handed_out(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(d: Doc) -> None:
            d["status"] = RequestStatus.HANDED_OUT
            d["handed_out"] = {"by": e.actor, "at": _iso(e.timestamp)}
        self._request_change(w, e, change)

    def request_returned(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(d: Doc) -> None:
            d["status"] = RequestStatus.RETURNED
            d["returned"] = {"by": e.actor, "at": _iso(e.timestamp)}
        self._request_change(w, e, change)

    # -- agreement, school years -------------------------------------------------------------------

    def agreement_terminated(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        w.put("meta", "agreement", {"id": "agreement", "terminated": True, "at": _iso(e.timestamp),
                                    "by": e.actor, "students": e.students, "seq": item.seq})

    def school_year_closed(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        w.put("meta", f"school-year-{e.year}", {
            "id": f"school-year-{e.year}", "year": e.year,
            "closed_at": _iso(e.timestamp), "by": e.actor,
            "transferred": e.transferred, "culled": e.culled,
            "for_archivist": e.for_archivist,
            "culling_list_id": getattr(e, "culling_list_id", None),
        })

    # -- handover outside the municipality ------------------------------------------------------

    def copy_handed_over_externally(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            c["status"] = CopyStatus.HANDED_OVER_EXTERNALLY
            c["external_handover"] = {"organiser": e.organiser, "school": e.school,
                                      "receipt_reference": e.receipt_reference,
                                      "by": e.actor, "at": _iso(e.timestamp)}
        self._copy_event(w, e, item, change)
        departure = w.get("departures", str(e.originator_id))
        if departure is not None:
            departure["handled"] = "handed_over_externally"
            w.put("departures", departure["record_id"], departure)

    def external_handover_receipted(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        def change(c: Doc) -> None:
            handover = c.setdefault("external_handover", {})
            handover["receipt_reference"] = e.receipt_reference
            handover["receipted_at"] = _iso(e.timestamp)
        self._copy_event(w, e, item, change)

    # -- culling decisions and culling lists -----------------------------------------------------

    def decision_registered(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        w.put("culling_decisions", e.decision, {
            "id": e.decision, "body": e.body, "date": e.date, "points": e.points,
            "registered_at": _iso(e.timestamp), "actor": e.actor, "seq": item.seq})

    def _list(self, w: ViewWriter, e: Any) -> Doc:
        doc = w.get("culling_lists", str(e.originator_id))
        if doc is None:
            raise ProjectionStoppedError(f"no culling list {e.originator_id} in the views")
        return doc

    def _put_list(self, w: ViewWriter, doc: Doc, e: Any, item: FeedItem) -> None:
        doc["version"] = e.originator_version
        doc["updated_at"] = _iso(e.timestamp)
        doc["seqs"].append(item.seq)
        for entry in doc["items"]:
            w.put("culling_items", entry["key"], {
                "key": entry["key"], "list_id": doc["id"], "record_id": entry["record_id"],
                "status": (entry["status"] if doc["status"] != ListStatus.REJECTED
                           else ListStatus.REJECTED)})
        w.put("culling_lists", doc["id"], doc)

    def list_proposed(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        doc: Doc = {
            "id": str(e.originator_id), "status": ListStatus.PROPOSED, "decision": e.decision,
            "point": e.point, "note": e.note, "school_year": e.school_year,
            "proposed_by": e.actor, "proposed_at": _iso(e.timestamp), "approved_by": None,
            "decided_at": None, "decision_reason": None, "seqs": [],
            "items": [{"key": str(i["key"]), "record_id": str(i["record_id"]),
                       "copy_id": str(i["copy_id"]) if i.get("copy_id") else None,
                       "location": i["location"], "status": ItemStatus.PROPOSED,
                       "certificate_id": None} for i in e.items],
        }
        self._put_list(w, doc, e, item)
        for entry in doc["items"]:
            record = w.get("records", entry["record_id"])
            if record is not None:
                record.setdefault("culling_lists", []).append(doc["id"])
                w.put("records", record["id"], record)

    def list_decided(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        doc = self._list(w, e)
        approved = isinstance(e, CullingList.Approved)
        doc["status"] = ListStatus.APPROVED if approved else ListStatus.REJECTED
        doc["approved_by"] = e.actor
        doc["decided_at"] = _iso(e.timestamp)
        doc["decision_reason"] = e.reason
        for entry in doc["items"]:
            if entry["status"] == ItemStatus.PROPOSED:
                entry["status"] = ItemStatus.APPROVED if approved else ItemStatus.WITHDRAWN
        self._put_list(w, doc, e, item)

    @staticmethod
    def _maybe_executed(doc: Doc) -> None:
        if doc["status"] == ListStatus.APPROVED and all(
                i["status"] in (ItemStatus.DESTROYED, ItemStatus.WITHDRAWN) for i in doc["items"]):
            doc["status"] = ListStatus.EXECUTED

    def list_item_destroyed(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        doc = self._list(w, e)
        for entry in doc["items"]:
            if entry["key"] == str(e.key):
                entry["status"] = ItemStatus.DESTROYED
                entry["certificate_id"] = str(e.certificate_id)
                entry["destruction"] = {"by": e.actor, "method": e.method, "date": e.date,
                                        "witness": e.witness,
                                        "contractor_reference": e.contractor_reference,
                                        "at": _iso(e.timestamp)}
        self._maybe_executed(doc)
        self._put_list(w, doc, e, item)
        cull = w.get("culls", str(e.certificate_id))
        if cull is not None:
            cull.update(culling_list_id=doc["id"], proposed_by=doc["proposed_by"],
                        approved_by=doc["approved_by"], destroyed_on=e.date,
                        contractor_reference=e.contractor_reference)
            w.put("culls", cull["certificate_id"], cull)

    def list_item_withdrawn(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        doc = self._list(w, e)
        for entry in doc["items"]:
            if entry["key"] == str(e.key):
                entry["status"] = ItemStatus.WITHDRAWN
                entry["withdrawn"] = {"by": e.actor, "reason": e.reason,
                                      "at": _iso(e.timestamp)}
        self._maybe_executed(doc)
        self._put_list(w, doc, e, item)

    # -- archive deliveries ------------------------------------------------------------------------

    def delivery_made(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        w.put("deliveries", str(e.originator_id), {
            "id": str(e.originator_id), "status": "delivered", "boxes": e.boxes,
            "copies": e.copies, "subject": str(e.subject), "personal": e.personal,
            "delivered_by": e.actor, "delivered_at": _iso(e.timestamp), "received_by": None,
            "received_at": None, "seqs": [item.seq]})

    def delivery_received(self, w: ViewWriter, e: Any, item: FeedItem) -> None:
        doc = w.get("deliveries", str(e.originator_id))
        if doc is None:
            raise ProjectionStoppedError(f"no delivery {e.originator_id} in the views")
        doc.update(status="received", received_by=e.actor, received_at=_iso(e.timestamp),
                   receipt_note=e.note)
        doc["seqs"].append(item.seq)
        w.put("deliveries", doc["id"], doc)
