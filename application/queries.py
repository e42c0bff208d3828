"""Queries over the read models, in the shapes of the API contract.

Every query first waits until the views include this process's latest write
(read-your-writes; :mod:`application.freshness`); access is decided by
:mod:`application.policy` on the same facts the commands use.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from application.access_log import AccessRecorder
from application.as_of import ViewsAsOf
from application.as_of import record_as_of as replay_record
from application.freshness import PendingWrites
from application.paging import (
    Page,
    SortKey,
    check_limit,
    decode_cursor,
    encode_cursor,
    page_in_order,
    page_of,
)
from application.policy import (
    ARCHIVE_READERS,
    READERS,
    Disclosure,
    Principal,
    disclosure,
    request_log_scope,
    require_access_log_reader,
    require_agreement_reader,
    require_culling_register,
    require_holdings,
    require_progress_reader,
    require_read,
    require_read_request,
    require_record_lookup,
    require_register_extract,
    require_rollover_reader,
    require_shelf_list,
    require_staff_list,
)
from application.ports import (
    Doc,
    EventFeed,
    EventHistory,
    FeedItem,
    SearchIndex,
    ViewStore,
    ViewWriter,
)
from application.progress import COUNTERS
from application.projections import MemoryViewStore, ProjectionRunner, ProjectionStoppedError
from application.search import SHARDS, name_tokens
from domain.culling_list import ListStatus
from domain.errors import InvalidInputError, NotAuthorisedError, NotFoundError
from domain.personnummer import InvalidPersonnummerError, Personnummer
from domain.record import CopyStatus

__all__ = ["ARCHIVE_READERS", "READERS", "CustodyQueries"]  # the roles: application.policy
HELD = (CopyStatus.PRINTED, CopyStatus.AT_SCHOOL, CopyStatus.IN_TRANSIT)
SCHOOL_KEYS = frozenset({"school_id", "from_school_id", "to_school_id", "student_school_id",
                         "transferred_from"})
"""Where a student is: hidden with a protected identity."""


def parse_instant(value: str, field: str = "as_of") -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = dt.datetime.combine(dt.date.fromisoformat(value), dt.time.max)
        except ValueError:
            raise InvalidInputError(f"{field} must be an ISO-8601 date or time",
                                    field=field) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _iso(value: Any) -> str | None:
    return None if value is None else (value.isoformat() if hasattr(value, "isoformat")
                                       else str(value))


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _on_the_shelf(copy: Doc) -> bool:
    return bool(copy["purpose"] == "archive" and copy["status"] != CopyStatus.REPLACED)


def _held_at_school(copy: Doc) -> bool:
    return bool(copy["purpose"] == "school" and copy["status"] in HELD)


def sort_key_json(personnummer: str | None) -> SortKey:
    """:func:`sort_key` in JSON values (a cursor holds it)."""
    return tuple(v.isoformat() if isinstance(v, dt.date) else v for v in sort_key(personnummer))


def by_personnummer(row: Doc) -> SortKey:
    """Personnummer order, then the copy: unique and unchanging for a copy's life."""
    return (*sort_key_json(row.get("personnummer")), str(row["copy_id"]))


def sort_key(personnummer: str | None) -> tuple[Any, ...]:
    if not personnummer:
        return (dt.date.max, "", 0)
    try:
        return Personnummer.parse(personnummer).sort_key
    except InvalidPersonnummerError:
        return (dt.date.max, personnummer, 0)


class CustodyQueries:
    def __init__(self, views: ViewStore, runner: ProjectionRunner, feed: EventFeed,
                 history: EventHistory, wait_timeout: float = 5.0, *,
                 reference: Callable[[str], str], access: AccessRecorder,
                 search: SearchIndex | None = None,
                 pending: PendingWrites | None = None) -> None:
        self.search = search
        self.history_source = history
        self.reference_digest = reference
        self.access = access
        self.views = views
        self.runner = runner
        self.feed = feed
        self.wait_timeout = wait_timeout
        self.pending = pending or PendingWrites()
        """This process's writes the views may not show yet (fed by the store's commit
        listener, see ``infrastructure.bootstrap``)."""

    def fresh(self, seq: int | None = None) -> None:
        """Wait until the views include ``seq`` (default: everything stored so far)."""
        self.runner.wait_for(seq, self.wait_timeout)

    def fresh_all(self) -> None:
        """Everything stored so far, the access log included."""
        self.fresh()

    def _fresh_read(self) -> None:
        """Read-your-writes for a read. In a served instance (a follower keeps the
        views up): wait only while the views may not show this process's newest write
        (:mod:`application.freshness`); with nothing pending, no query and no catch-up.
        Elsewhere (the command line): everything stored so far except this process's
        own access log at the end of the log. The access-log queries wait for everything
        (:meth:`fresh`). Views stopped by a failed check refuse every read."""
        if not self.pending.followed:
            self.runner.wait_for(self.access.settled(self.feed.last_seq()),
                                 self.wait_timeout)
            return
        if self.runner.error:
            raise ProjectionStoppedError(self.runner.error)
        seq = self.pending.pending()
        if seq is None:
            return
        self.runner.wait_for(seq, self.wait_timeout)
        self.pending.shown_upto(seq)

    # -- access ------------------------------------------------------------------------

    def _readable(self, principal: Principal, record: Doc, copies: list[Doc],
                  action: str) -> None:
        """Decide a read of one record; a refusal is logged before it is answered."""
        try:
            require_read(principal, record.get("school_id"),
                         (c.get("school_id") for c in copies))
        except NotAuthorisedError:
            if record.get("kind") == "student_documentation":
                self.log_read(principal, action, [record["id"]], "refused")
            raise

    def log_read(self, principal: Principal, action: str, record_ids: Iterable[str],
                 outcome: str = "allowed") -> None:
        """The access log: returns once the entry is stored (see :mod:`access_log`)."""
        self.access.record(actor=principal.id, action=action, route=principal.via,
                           outcome=outcome, record_ids=record_ids)

    # -- personal data: the one place that decides how a student appears ----------------

    def reference(self, record: Doc) -> str:
        """A stable pseudonymous reference: a keyed hash of the record id."""
        prefix = "SKYDDAD" if record.get("protected") else "ELEV"
        return f"{prefix}-{self.reference_digest(str(record['id']))[:8].upper()}"

    @staticmethod
    def shown(principal: Principal | None, record: Doc) -> Disclosure:
        if principal is None:
            return Disclosure.IDENTITY
        return disclosure(principal, protected=bool(record.get("protected")))

    def student(self, principal: Principal | None, record: Doc, *, listing: bool = False
                ) -> Doc:
        """``personnummer``, ``name``, ``class``, ``reference``, ``school_id`` of a record's
        student as this caller may see them (``None`` where hidden). Every read path
        takes the student from here. In a ``listing`` (lists, labels, CSV exports: paper
        that travels) a protected student is a reference for everyone."""
        personal = record.get("personal") or {}
        ref = self.reference(record) if record.get("kind") == "student_documentation" else None
        hidden_in_list = listing and bool(record.get("protected"))
        if self.shown(principal, record) is Disclosure.IDENTITY and not hidden_in_list:
            return {"personnummer": personal.get("personnummer"), "name": personal.get("name"),
                    "class": personal.get("class"), "reference": ref,
                    "school_id": record.get("school_id")}
        return {"personnummer": None, "name": None, "class": None, "reference": ref,
                "school_id": None if record.get("protected") else record.get("school_id")}

    def redacted(self, principal: Principal | None, record: Doc, value: Any) -> Any:
        """``value`` (event data, a row) without what this caller may not see of the
        record's student: personal data, and with a protected identity every school."""
        if self.shown(principal, record) is Disclosure.IDENTITY:
            return value
        protected = bool(record.get("protected"))

        def strip(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: (None if k == "personal" and x is not None
                            else None if protected and k in SCHOOL_KEYS else strip(x))
                        for k, x in v.items()}
            if isinstance(v, list):
                return [strip(x) for x in v]
            return v
        return strip(value)

    # -- records -------------------------------------------------------------------------

    def _record_doc(self, record_id: UUID, store: ViewStore | None = None) -> Doc:
        doc = (store or self.views).get("records", str(record_id))
        if doc is None:
            raise NotFoundError(f"record {record_id} does not exist")
        return doc

    def _copies(self, record: Doc, store: ViewStore | None = None) -> list[Doc]:
        s = store or self.views
        return s.get_many("copies", record["copy_ids"])

    def public_record(self, record: Doc, copies: list[Doc],
                      principal: Principal | None = None) -> Doc:
        """A record as ``principal`` may see it (everything when ``None``: internal use)."""
        personal = record.get("personal")
        student = self.student(principal, record)
        identity = self.shown(principal, record) is Disclosure.IDENTITY
        out: Doc = {
            "id": record["id"],
            "kind": record["kind"],
            "status": record["status"],
            "school_id": student["school_id"],
        }
        if record["kind"] == "student_documentation":
            out["student"] = ({"personnummer": student["personnummer"],
                               "name": student["name"], "class": student["class"],
                               "reference": student["reference"],
                               "protected": bool(record.get("protected"))}
                              if personal else None)
            documents = personal.get("documents", []) if personal else []
            out["documents"] = documents if identity else [
                {**d, "title": None} for d in documents]
            if identity and personal and personal.get("previous_personnummer"):
                out["student"]["previous_personnummer"] = personal["previous_personnummer"]
        else:
            out["category"] = record.get("category")
            out["title"] = personal.get("title") if personal else None
            out["documents"] = []
            out["sha256"] = record.get("fingerprint")
        out["fingerprint"] = record.get("fingerprint")
        out["shredded"] = personal is None
        out["copies"] = [
            {
                "id": c["id"], "purpose": c["purpose"], "status": c["status"],
                "school_id": c.get("school_id"), "location": c.get("location"),
                "holder": c.get("holder"), "on_loan": c.get("holder") is not None,
                "loan_request_id": c.get("loan_request_id"),
                "verification": c.get("verification"), "replaces": c.get("replaces"),
                "replaced_by": c.get("replaced_by"), "certificate_id": c.get("certificate_id"),
                # Where a copy went outside the municipality says where the student is.
                "external_handover": c.get("external_handover") if identity else None,
            }
            for c in copies
        ]
        out["copies"] = self.redacted(principal, record, out["copies"])
        out["holds"] = [{"id": k, **v} for k, v in sorted(record.get("holds", {}).items())]
        out["departure"] = self.redacted(principal, record, record.get("departure"))
        out["ist_entered"] = record.get("ist_entered")
        out["culled"] = record.get("culled")
        out["captured_at"] = record.get("captured_at")
        out["updated_at"] = record.get("updated_at")
        out["version"] = record.get("version")
        return out

    def record(self, principal: Principal, record_id: UUID, *, action: str = "record") -> Doc:
        self._fresh_read()
        record = self._record_doc(record_id)
        copies = self._copies(record)
        self._readable(principal, record, copies, action)
        out = self.public_record(record, copies, principal)
        if record["kind"] == "student_documentation":
            self.log_read(principal, action, [record["id"]])
        return out

    def records_by_personnummer(self, principal: Principal, record_id: UUID) -> list[Doc]:
        """The records this caller may read under a personnummer: ``[]`` both when none was
        captured and when the caller may not read it, so the answer tells nobody which
        students the archive holds (the role is decided first, the same way)."""
        require_record_lookup(principal)
        self._fresh_read()
        record = self.views.get("records", str(record_id))
        if record is None:
            return []
        copies = self._copies(record)
        try:
            self._readable(principal, record, copies, "lookup")
        except NotAuthorisedError:
            return []
        out = [self.public_record(record, copies, principal)]
        self.log_read(principal, "lookup", [record["id"]])
        return out

    def record_as_of(
        self, principal: Principal, record_id: UUID, instant: dt.datetime
    ) -> Doc | None:
        """This record's own events up to ``instant`` through the same projector (one
        query for its events, never the whole log)."""
        self._fresh_read()
        current = self._record_doc(record_id)
        self._readable(principal, current, self._copies(current), "record as of")
        items = self.history_source.own_events(record_id, current.get("seqs", []))
        store = replay_record(items, instant, self.runner.projector)
        doc = store.get("records", str(record_id))
        if doc is None:
            return None
        # Today's protection governs what is shown of the past too.
        doc["protected"] = current.get("protected")
        return self.public_record(doc, self._copies(doc, store), principal)

    def replay(self, instant: dt.datetime, only_seqs: set[int] | None = None) -> MemoryViewStore:
        """The views as they stood at ``instant``, replayed from the signed events."""
        store = MemoryViewStore()
        runner_proj = self.runner.projector
        position = 0
        last = self.feed.last_seq()
        while position < last:
            items = self.feed.read(position, 1000)
            if not items:
                break
            keep = [i for i in items if (only_seqs is None or i.seq in only_seqs)
                    and i.event.timestamp <= instant]
            def change(w: ViewWriter, batch: list[FeedItem] = keep) -> None:
                for item in batch:
                    runner_proj.apply(w, item)

            store.apply(store.position(), items[-1].seq, change)
            position = items[-1].seq
        return store

    def history(self, principal: Principal, record_id: UUID,
                as_of: dt.datetime | None = None) -> Doc:
        """Provenance: every event with seq, version, type, time, actor, data, key id and
        whether its signature verified; with ``as_of`` also the custody as it stood then."""
        self._fresh_read()
        record = self._record_doc(record_id)
        self._readable(principal, record, self._copies(record), "history")
        seqs = record.get("seqs", [])
        events = []
        for entry in self.history_source.history(record_id):
            event = entry.event
            data: Doc = {}
            at = None
            actor = None
            if event is not None:
                raw = dict(vars(event))
                at = _iso(raw.pop("timestamp", None))
                actor = raw.pop("actor", None)
                for key in ("originator_id", "originator_version", "originator_topic"):
                    raw.pop(key, None)
                data = {k: _plain(v) for k, v in raw.items()}
                if as_of is not None and event.timestamp > as_of:
                    continue
            index = entry.version - 1
            events.append({
                "seq": seqs[index] if 0 <= index < len(seqs) else None,
                "version": entry.version,
                "type": entry.topic.split(":", 1)[-1].split(".", 1)[-1],
                "topic": entry.topic,
                "at": at,
                "actor": actor,
                "data": self.redacted(principal, record, data),
                "key_id": entry.key_id or None,
                "signature_valid": entry.signature_valid,
                "problem": entry.problem,
            })
        out: Doc = {"record_id": str(record_id), "events": events,
                    "culling_lists": self.culling_chain(record)}
        if as_of is not None:
            out["as_of"] = as_of.isoformat()
            out["custody"] = self.record_as_of(principal, record_id, as_of)
        if record["kind"] == "student_documentation":
            self.log_read(principal, "history", [record["id"]])
        return out

    def culling_chain(self, record: Doc) -> list[Doc]:
        """The culling lists this record's copies were on: proposed → approved (or
        rejected) → destroyed or withdrawn → protocol, as the provenance shows it."""
        chain = []
        for list_id in dict.fromkeys(record.get("culling_lists", [])):
            listed = self.views.get("culling_lists", list_id)
            if listed is None:
                continue
            mine = [i for i in listed["items"] if i["record_id"] == record["id"]]
            chain.append({
                "id": listed["id"], "status": listed["status"], "decision": listed["decision"],
                "point": listed["point"], "proposed_by": listed["proposed_by"],
                "proposed_at": listed["proposed_at"], "approved_by": listed["approved_by"],
                "decided_at": listed["decided_at"],
                "items": [{k: i.get(k) for k in ("copy_id", "status", "certificate_id",
                                                  "destruction", "withdrawn")} for i in mine],
                "protocol": (f"/api/v1/culling-lists/{listed['id']}/protocol"
                             if listed["status"] == ListStatus.EXECUTED else None),
            })
        return chain

    # -- personal data: the access log and the register extract ------------------------

    def _student_doc(self, record_id: UUID) -> Doc:
        """A student's record, or the one answer for "no such student" (not found)."""
        self.fresh_all()
        record = self.views.get("records", str(record_id))
        if record is None or record.get("kind") != "student_documentation":
            raise NotFoundError("no student documentation was captured under that "
                                "personnummer")
        return record

    def _access_rows(self, record_id: str) -> list[Doc]:
        rows = self.views.find("access", record_id=record_id)
        rows.sort(key=lambda r: r["id"])  # the key starts with the zero-padded seq
        return rows

    @staticmethod
    def _access_item(row: Doc) -> Doc:
        return {"at": row["at"], "actor": row["actor"], "action": row["action"],
                "route": row["route"], "outcome": row["outcome"]}

    def _access_items(self, record_id: str) -> list[Doc]:
        return [self._access_item(r) for r in self._access_rows(record_id)]

    def access_log(self, principal: Principal, record_id: UUID, *, limit: int = 100,
                   cursor: str | None = None) -> Doc:
        """Who read this student's personal data, when, through what, and the outcome:
        oldest first, ``limit`` at a time; ``next_cursor`` continues after the last."""
        require_access_log_reader(principal)
        if not 1 <= limit <= 1000:
            raise InvalidInputError("limit is 1 to 1000", field="limit")
        after = ""
        if cursor:
            try:
                after = base64.b64decode(cursor.encode(), altchars=b"-_",
                                         validate=True).decode()
            except (ValueError, UnicodeDecodeError, binascii.Error):
                raise InvalidInputError("cursor is not one this service gave",
                                        field="cursor") from None
        record = self._student_doc(record_id)
        rows = [r for r in self._access_rows(record["id"]) if r["id"] > after]
        page = rows[:limit]
        self.log_read(principal, "access log", [record["id"]])
        more = len(rows) > limit
        return {"items": [self._access_item(r) for r in page],
                "next_cursor": (base64.urlsafe_b64encode(page[-1]["id"].encode()).decode()
                                if more else None)}

    def extract(self, principal: Principal, record_id: UUID) -> Doc:
        """The register extract (GDPR art. 15): everything held about one student and
        who received what. Producing it is logged, and appears in the extract itself."""
        require_register_extract(principal)
        record = self._student_doc(record_id)
        self.log_read(principal, "extract", [record["id"]])
        self.fresh_all()  # the extract lists its own production in the access log
        copies = self._copies(record)
        personal = record.get("personal") or {}
        names = {a["id"]: a["name"] for a in self.views.all("actors")}
        requests = sorted(self.views.find("requests", record_id=record["id"]),
                          key=lambda r: r["seq"])
        received = []
        for r in requests:
            decision = r.get("decision") or {}
            received.append({
                "request_id": r["id"], "asked_by": r["actor"],
                "asked_by_name": names.get(r["actor"]), "purpose": r.get("purpose"),
                "made_at": r.get("made_at"), "status": r["status"],
                "decided_by": decision.get("by"),
                "decided_by_name": names.get(decision.get("by", "")),
                "decision_reason": decision.get("reason"),
                "handed_out_at": (r.get("handed_out") or {}).get("at"),
                "handed_out_by": (r.get("handed_out") or {}).get("by"),
                "returned_at": (r.get("returned") or {}).get("at"),
            })
        movements = []
        for entry in self.history_source.history(record_id):
            event = entry.event
            kind = entry.topic.split(".", 1)[-1]
            if event is None or kind not in ("CopyDelivered", "CopyTransferred",
                                             "CopyReceived", "CopyLent", "CopyReturned",
                                             "Renumbered", "ProtectionSet",
                                             "ProtectionLifted", "StudentDeparted"):
                continue
            state = vars(event)
            movements.append({
                "at": _iso(event.timestamp), "event": kind, "by": state.get("actor"),
                "by_name": names.get(str(state.get("actor"))),
                "copy_id": _plain(state.get("copy_id")),
                "from_school_id": state.get("from_school_id"),
                "to_school_id": state.get("to_school_id") or state.get("school_id"),
                "to_actor": state.get("to_actor"),
                "to_actor_name": names.get(str(state.get("to_actor"))),
            })
        numbers = [*personal.get("previous_personnummer", []), personal.get("personnummer")]
        return {
            "produced_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "produced_by": principal.id,
            "student": {"personnummer": personal.get("personnummer"),
                        "personnummer_history": [n for n in numbers if n],
                        "name": personal.get("name"), "class": personal.get("class"),
                        "school_id": record.get("school_id"),
                        "protected": bool(record.get("protected")),
                        "reference": self.reference(record)},
            "record": self.public_record(record, copies),
            "documents": personal.get("documents", []),
            "copies": self.public_record(record, copies)["copies"],
            "recipients": received,
            "movements": movements,
            "culls": sorted(self.views.find("culls", record_id=record["id"]),
                            key=lambda c: c["seq"]),
            "access_log": self._access_items(record["id"]),
        }

    # -- reports ------------------------------------------------------------------------

    def shelf_list(self, principal: Principal, as_of: dt.datetime | None = None) -> list[Doc]:
        """The whole shelf list; every row's student is logged as read."""
        rows = self._shelf_rows(principal, as_of)
        self.log_read(principal, "shelf list", [r["record_id"] for r in rows])
        return rows

    def _shelf_rows(self, principal: Principal, as_of: dt.datetime | None) -> list[Doc]:
        """The archive copies with their records: one query (copies joined to records,
        the records' data keys in one more), never one per row. Not logged."""
        require_shelf_list(principal)
        self._fresh_read()
        # As of a moment: from the copies' indexed state history (as_of.py), no replay.
        store: ViewStore = ViewsAsOf(self.views, as_of) if as_of else self.views
        rows = []
        for copy, record in store.find_joined(  # archive copies are at no school
                "copies", "records", "record_id", keep=_on_the_shelf, school_id=None):
            if record is None:
                continue
            personal = record.get("personal") or {}
            location = copy.get("location") or {}
            student = self.student(principal, record, listing=True)
            rows.append({
                "_order": sort_key(personal.get("original_personnummer")
                                   or personal.get("personnummer")),
                "personnummer": student["personnummer"],
                "name": student["name"],
                "reference": student["reference"],
                "record_id": record["id"],
                "copy_id": copy["id"],
                "status": copy["status"],
                "box": location.get("box"),
                "shelf": location.get("shelf"),
                "verified": (copy.get("verification") or {}).get("outcome") == "ok",
                "verification": copy.get("verification"),
                "school_id": student["school_id"],
            })
        # Personnummer order, by the number each copy was filed under, whoever reads it.
        rows.sort(key=lambda r: r.pop("_order"))
        return rows

    def holdings(self, principal: Principal, school_id: str,
                 as_of: dt.datetime | None = None) -> Doc:
        """What a school unit holds; every row's student is logged as read."""
        held = self._holding_rows(principal, school_id, as_of)
        self.log_read(principal, "holdings",
                      [r["record_id"] for r in held["copies"] + held["incoming"]])
        return held

    def _holding_rows(self, principal: Principal, school_id: str,
                      as_of: dt.datetime | None) -> Doc:
        """The school unit's copies with their records in one query. Not logged."""
        require_holdings(principal, school_id)
        self._fresh_read()
        store: ViewStore = ViewsAsOf(self.views, as_of) if as_of else self.views
        if store.get("schools", school_id) is None:
            raise NotFoundError(f"school unit {school_id} does not exist")
        held: list[Doc] = []
        incoming: list[Doc] = []
        for copy, found in store.find_joined("copies", "records", "record_id",
                                             keep=_held_at_school, school_id=school_id):
            record = found or {"id": copy["record_id"]}
            personal = record.get("personal") or {}
            student = self.student(principal, record, listing=True)
            row = {
                "_order": sort_key(personal.get("original_personnummer")
                                   or personal.get("personnummer")),
                "copy_id": copy["id"], "record_id": copy["record_id"], "status": copy["status"],
                "personnummer": student["personnummer"], "name": student["name"],
                "reference": student["reference"],
                "holder": copy.get("holder"), "on_loan": copy.get("holder") is not None,
                "from_school_id": self.redacted(principal, record, {
                    "from_school_id": copy.get("transferred_from")})["from_school_id"],
            }
            (incoming if copy["status"] == CopyStatus.IN_TRANSIT else held).append(row)
        held.sort(key=lambda r: r.pop("_order"))
        incoming.sort(key=lambda r: r.pop("_order"))
        return {"school_id": school_id, "copies": held, "incoming": incoming}

    def request_log(self, principal: Principal, *, school_id: str | None = None,
                    status: str | None = None, actor_id: str | None = None) -> list[Doc]:
        self._fresh_read()
        scope = request_log_scope(principal)
        actor_id = scope.actor_id or actor_id
        if scope.by_student_school:
            rows = [r for r in self._requests(None, status, actor_id)
                    if r.get("student_school_id") == scope.student_school_id]
            return self._hide_protected_schools(principal, rows)
        school_id = scope.school_id or school_id
        where: dict[str, str | None] = {}
        return self._hide_protected_schools(
            principal, self._requests(school_id, status, actor_id, where))

    def _hide_protected_schools(self, principal: Principal, rows: list[Doc],
                                key: str = "student_school_id") -> list[Doc]:
        """A register row names a student's school unit: not for a protected student,
        except to those who see protected identities."""
        ids = sorted({str(r["record_id"]) for r in rows if r.get("record_id")})
        protected = {r["id"] for r in self.views.get_many("records", ids) if r.get("protected")}
        for row in rows:
            if row.get("record_id") in protected and self.shown(
                    principal, {"protected": True}) is not Disclosure.IDENTITY:
                row[key] = None
        return rows

    def _requests(self, school_id: str | None, status: str | None, actor_id: str | None,
                  where: dict[str, str | None] | None = None) -> list[Doc]:
        where = dict(where or {})
        if school_id:
            where["school_id"] = school_id
        if status:
            where["status"] = status
        if actor_id:
            where["actor"] = actor_id
        rows = self.views.find("requests", **where)
        names = {a["id"]: a["name"] for a in self.views.all("actors")}
        for row in rows:
            row["actor_name"] = names.get(row["actor"])
        rows.sort(key=lambda r: r["seq"])
        return rows

    def request(self, principal: Principal, request_id: UUID) -> Doc:
        self._fresh_read()
        doc = self.views.get("requests", str(request_id))
        if doc is None:
            raise NotFoundError(f"request {request_id} does not exist")
        require_read_request(principal, doc)
        return doc

    def culls(self, principal: Principal) -> list[Doc]:
        require_culling_register(principal)
        self._fresh_read()
        rows = self.views.all("culls")
        rows.sort(key=lambda r: r["seq"])
        return self._with_protocols(self._hide_protected_schools(principal, rows, "school_id"))

    def _with_protocols(self, rows: list[Doc]) -> list[Doc]:
        """Each cull from a culling list links the list's protocol once it is executed."""
        lists = {i: self.views.get("culling_lists", i) for i in
                 {r["culling_list_id"] for r in rows if r.get("culling_list_id")}}
        for row in rows:
            listed = lists.get(row.get("culling_list_id") or "")
            row["protocol"] = (f"/api/v1/culling-lists/{listed['id']}/protocol"
                               if listed and listed["status"] == ListStatus.EXECUTED else None)
        return rows

    def cull(self, principal: Principal, certificate_id: UUID) -> Doc:
        require_culling_register(principal, doing="read culling certificates")
        self._fresh_read()
        doc = self.views.get("culls", str(certificate_id))
        if doc is None:
            raise NotFoundError(f"culling certificate {certificate_id} does not exist")
        return self._with_protocols([doc])[0]

    def students(self) -> list[Doc]:
        return [r for r in self.views.all("records") if r["kind"] == "student_documentation"]

    def readiness(self, principal: Principal) -> Doc:
        """Every captured student needs an archive copy printed, archived and verified."""
        require_agreement_reader(principal)
        self._fresh_read()
        # Counted by the store (in SQL: an aggregate, then the missing students only).
        counts = self.views.readiness_counts()
        need = {None: "archive copy not printed",
                CopyStatus.PRINTED: "archive copy not filed",
                CopyStatus.ARCHIVED: "archive copy not verified",
                CopyStatus.DISCREPANCY: "verification found a discrepancy; reprint"}
        missing = [{**item, "missing": need.get(item["archive_copy"], item["archive_copy"] or "")}
                   for item in counts["missing"]]
        agreement = self.views.get("meta", "agreement")
        return {
            "ready": not missing and bool(counts["students"]) and agreement is None,
            "terminated": agreement is not None,
            "terminated_at": agreement["at"] if agreement else None,
            "students": counts["students"], "printed": counts["printed"],
            "archived": counts["archived"], "verified": counts["verified"], "missing": missing,
        }

    def progress(self, principal: Principal) -> list[Doc]:
        """Migration progress per school unit."""
        require_progress_reader(principal)
        self._fresh_read()
        # Counted by the store (in SQL: one aggregate query, no record read or opened).
        counts = self.views.progress_counts()
        return sorted(({"school_id": s["id"], "name": s["name"],
                        **counts.get(str(s["id"]), dict.fromkeys(COUNTERS, 0))}
                       for s in self.views.all("schools")), key=lambda r: r["school_id"])

    def rollover_candidates(self, principal: Principal, year: int | None = None) -> list[Doc]:
        require_rollover_reader(principal)
        self._fresh_read()
        rows = self.views.all("departures")
        if year is not None:
            rows = [r for r in rows if r["date"] <= f"{year}-07-31"]
        return sorted(rows, key=lambda r: (r["date"], r["record_id"]))

    def schools(self) -> list[Doc]:
        self._fresh_read()
        return sorted(self.views.all("schools"), key=lambda s: s["id"])

    def actors(self) -> list[Doc]:
        self._fresh_read()
        return sorted(self.views.all("actors"), key=lambda a: a["name"])


    # -- pages (cursor paging of every list; ``application.paging``) ---------------------

    def records_page(self, principal: Principal, *, school_id: str | None = None,
                     kind: str | None = None, status: str | None = None,
                     q: str | None = None, limit: int = 100,
                     cursor: str | None = None) -> Page:
        """Find records, general information included, in record-id order. ``q`` is a
        personnummer (any notation) or a name: every token of it must match (the keyed
        name index, so no personal data is decrypted to search)."""
        require_record_lookup(principal)
        check_limit(limit)
        after = decode_cursor(cursor)
        after_id = str(after[0]) if after else ""
        self._fresh_read()
        found: list[Doc] = []
        for batch in self._record_batches(q, after_id, limit + 1, school_id, status):
            copies = {c["id"]: c for c in self.views.get_many(
                "copies", [cid for r in batch for cid in r["copy_ids"]])}
            for record in batch:
                if (kind and record["kind"] != kind) or (
                        school_id and record["school_id"] != school_id) or (
                        status and record["status"] != status):
                    continue
                mine = [copies[c] for c in record["copy_ids"] if c in copies]
                try:
                    # Not _readable: records the caller may not read are left out of the
                    # results, they are not refused reads.
                    require_read(principal, record.get("school_id"),
                                 (c.get("school_id") for c in mine))
                except NotAuthorisedError:
                    continue
                if q is not None and record.get("protected") and disclosure(
                        principal, protected=True) is not Disclosure.IDENTITY:
                    continue  # a match on a protected student's name would disclose it
                found.append(self.public_record(record, mine, principal))
            if len(found) > limit:
                break
        items = found[:limit]
        more = len(found) > limit
        self.log_read(principal, "records search",
                      [r["id"] for r in items if r["kind"] == "student_documentation"])
        return Page(items, encode_cursor((items[-1]["id"],)) if more else None)

    def _record_batches(self, q: str | None, after_id: str, size: int,
                        school_id: str | None, status: str | None) -> Any:
        if q is not None:
            ids = sorted(i for i in self._matching(q) if i > after_id)
            for start in range(0, len(ids), size):
                yield self.views.get_many("records", ids[start:start + size])
            return
        position = after_id
        while True:
            batch = self.views.page("records", position, size, school_id=school_id,
                                    status=status)
            if not batch:
                return
            yield batch
            position = batch[-1]["id"]

    def _matching(self, q: str) -> set[str]:
        """Record ids matching a personnummer or every name token of ``q``."""
        if self.search is None:
            return set()
        try:
            personnummer = Personnummer.parse(q.strip())
        except InvalidPersonnummerError:
            pass
        else:
            return {str(self.search.student_record_id(personnummer.normalized))}
        tokens = name_tokens(q)
        if not tokens:
            return set()
        matched: set[str] | None = None
        for token in tokens:
            key = self.search.name_token_key(token)
            ids = {rid for doc in self.views.get_many(
                "name_index", [f"{key}.{shard}" for shard in SHARDS])
                for rid in doc["record_ids"]}
            matched = ids if matched is None else matched & ids
            if not matched:
                return set()
        return matched or set()

    def shelf_list_page(self, principal: Principal, limit: int, cursor: str | None,
                        as_of: dt.datetime | None = None) -> Page:
        check_limit(limit)
        # In the order the copies were filed (personnummer), for every reader; the cursor
        # names a copy, never a personnummer the reader may not see. Only the page's
        # students are logged as read: the rest of the list is not handed out.
        page = page_in_order(self._shelf_rows(principal, as_of), "copy_id", limit, cursor)
        self.log_read(principal, "shelf list", [r["record_id"] for r in page.items])
        return page

    def holdings_page(self, principal: Principal, school_id: str, limit: int,
                      cursor: str | None, as_of: dt.datetime | None = None) -> Page:
        """The copies a school unit holds, those on their way to it included (status
        ``in_transit``), in personnummer order."""
        check_limit(limit)
        held = self._holding_rows(principal, school_id, as_of)
        page = page_of(held["copies"] + held["incoming"], by_personnummer, limit, cursor)
        self.log_read(principal, "holdings", [r["record_id"] for r in page.items])
        return page

    def request_log_page(self, principal: Principal, limit: int, cursor: str | None, *,
                         school_id: str | None = None, status: str | None = None,
                         actor_id: str | None = None) -> Page:
        check_limit(limit)
        rows = self.request_log(principal, school_id=school_id, status=status,
                                actor_id=actor_id)
        return page_of(rows, lambda r: (int(r["seq"]), str(r["id"])), limit, cursor)

    def culls_page(self, principal: Principal, limit: int, cursor: str | None) -> Page:
        check_limit(limit)
        return page_of(self.culls(principal), lambda r: (int(r["seq"]), str(r["certificate_id"])),
                       limit, cursor)

    def schools_page(self, limit: int, cursor: str | None) -> Page:
        check_limit(limit)
        return page_of(self.schools(), lambda s: (str(s["id"]),), limit, cursor)

    def actors_page(self, principal: Principal, limit: int, cursor: str | None) -> Page:
        """Staff, by name (then id); for the admin."""
        require_staff_list(principal)
        check_limit(limit)
        rows = [{"id": a["id"], "name": a["name"], "role": a["role"],
                 "school_id": a.get("school_id"), "revoked": bool(a.get("revoked")),
                 "registered_at": a.get("registered_at")} for a in self.actors()]
        return page_of(rows, lambda a: (str(a["name"]), str(a["id"])), limit, cursor)
