"""Queries over the read models, in the shapes of the API contract.

Every query first waits until the views include the latest write (read-your-writes);
access is decided by :mod:`application.policy` on the same facts the commands use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from application.policy import Principal, require, require_read
from application.ports import Doc, EventFeed, EventHistory, FeedItem, ViewStore, ViewWriter
from application.projections import MemoryViewStore, ProjectionRunner
from domain.actor import Role
from domain.errors import InvalidInputError, NotAuthorisedError, NotFoundError
from domain.personnummer import InvalidPersonnummerError, Personnummer

READERS = (Role.ADMIN, Role.ARCHIVIST, Role.AUDITOR, Role.CUSTODIAN)
ARCHIVE_READERS = (Role.ADMIN, Role.ARCHIVIST, Role.AUDITOR)
"""Who reads the whole archive's shelf list (with the archive's custodian)."""
HELD = ("printed", "at_school", "in_transit")


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


def sort_key(personnummer: str | None) -> tuple[Any, ...]:
    if not personnummer:
        return (dt.date.max, "", 0)
    try:
        return Personnummer.parse(personnummer).sort_key
    except InvalidPersonnummerError:
        return (dt.date.max, personnummer, 0)


class CustodyQueries:
    def __init__(self, views: ViewStore, runner: ProjectionRunner, feed: EventFeed,
                 history: EventHistory, wait_timeout: float = 5.0) -> None:
        self.history_source = history
        self.views = views
        self.runner = runner
        self.feed = feed
        self.wait_timeout = wait_timeout

    def fresh(self, seq: int | None = None) -> None:
        self.runner.wait_for(seq, self.wait_timeout)

    # -- access ------------------------------------------------------------------------

    @staticmethod
    def _readable(principal: Principal, record: Doc, copies: list[Doc]) -> None:
        require_read(principal, record.get("school_id"), (c.get("school_id") for c in copies))

    # -- records -------------------------------------------------------------------------

    def _record_doc(self, record_id: UUID, store: ViewStore | None = None) -> Doc:
        doc = (store or self.views).get("records", str(record_id))
        if doc is None:
            raise NotFoundError(f"record {record_id} does not exist")
        return doc

    def _copies(self, record: Doc, store: ViewStore | None = None) -> list[Doc]:
        s = store or self.views
        return s.get_many("copies", record["copy_ids"])

    @staticmethod
    def public_record(record: Doc, copies: list[Doc]) -> Doc:
        personal = record.get("personal")
        out: Doc = {
            "id": record["id"],
            "kind": record["kind"],
            "status": record["status"],
            "school_id": record["school_id"],
        }
        if record["kind"] == "student_documentation":
            out["student"] = ({"personnummer": personal.get("personnummer"),
                               "name": personal.get("name"), "class": personal.get("class")}
                              if personal else None)
            out["documents"] = personal.get("documents", []) if personal else []
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
            }
            for c in copies
        ]
        out["holds"] = [{"id": k, **v} for k, v in sorted(record.get("holds", {}).items())]
        out["departure"] = record.get("departure")
        out["ist_entered"] = record.get("ist_entered")
        out["culled"] = record.get("culled")
        out["captured_at"] = record.get("captured_at")
        out["updated_at"] = record.get("updated_at")
        out["version"] = record.get("version")
        return out

    def record(self, principal: Principal, record_id: UUID) -> Doc:
        self.fresh()
        record = self._record_doc(record_id)
        copies = self._copies(record)
        self._readable(principal, record, copies)
        return self.public_record(record, copies)

    def records_by_personnummer(self, principal: Principal, record_id: UUID) -> list[Doc]:
        # Decide on the role first, so nobody learns which students the archive holds.
        require(principal, *READERS, doing="look up student records")
        self.fresh()
        record = self.views.get("records", str(record_id))
        if record is None:
            return []
        copies = self._copies(record)
        self._readable(principal, record, copies)
        return [self.public_record(record, copies)]

    def record_as_of(
        self, principal: Principal, record_id: UUID, instant: dt.datetime
    ) -> Doc | None:
        """Replay this record's events up to ``instant`` through the same projector."""
        self.fresh()
        current = self._record_doc(record_id)
        self._readable(principal, current, self._copies(current))
        store = self.replay(instant, only_seqs=set(current.get("seqs", [])))
        doc = store.get("records", str(record_id))
        return None if doc is None else self.public_record(doc, self._copies(doc, store))

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
        self.fresh()
        record = self._record_doc(record_id)
        self._readable(principal, record, self._copies(record))
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
                "data": data,
                "key_id": entry.key_id or None,
                "signature_valid": entry.signature_valid,
                "problem": entry.problem,
            })
        out: Doc = {"record_id": str(record_id), "events": events,
                    "culling_lists": self.culling_chain(record)}
        if as_of is not None:
            out["as_of"] = as_of.isoformat()
            out["custody"] = self.record_as_of(principal, record_id, as_of)
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
                             if listed["status"] == "executed" else None),
            })
        return chain

    # -- reports ------------------------------------------------------------------------

    def shelf_list(self, principal: Principal, as_of: dt.datetime | None = None) -> list[Doc]:
        if not (principal.role in ARCHIVE_READERS or (
                principal.role is Role.CUSTODIAN and principal.school_id is None)):
            raise NotAuthorisedError(
                "the shelf list is for the archive's custodian, the archivist, the admin and "
                "auditors")
        self.fresh()
        store: ViewStore = self.replay(as_of) if as_of else self.views
        rows = []
        for copy in store.all("copies"):
            if copy["purpose"] != "archive" or copy["status"] == "replaced":
                continue
            record = store.get("records", copy["record_id"])
            if record is None:
                continue
            personal = record.get("personal") or {}
            location = copy.get("location") or {}
            rows.append({
                "personnummer": personal.get("personnummer"),
                "name": personal.get("name"),
                "record_id": record["id"],
                "copy_id": copy["id"],
                "status": copy["status"],
                "box": location.get("box"),
                "shelf": location.get("shelf"),
                "verified": (copy.get("verification") or {}).get("outcome") == "ok",
                "verification": copy.get("verification"),
                "school_id": record["school_id"],
            })
        rows.sort(key=lambda r: sort_key(r["personnummer"]))
        return rows

    def holdings(self, principal: Principal, school_id: str,
                 as_of: dt.datetime | None = None) -> Doc:
        if principal.role not in (Role.ADMIN, Role.ARCHIVIST, Role.AUDITOR) and not (
            principal.role in (Role.CUSTODIAN, Role.PRINCIPAL) and principal.school_id == school_id
        ):
            raise NotAuthorisedError(f"only the custodian or principal of {school_id}, the "
                                     "archivist, the admin and auditors see its holdings")
        self.fresh()
        store: ViewStore = self.replay(as_of) if as_of else self.views
        if store.get("schools", school_id) is None:
            raise NotFoundError(f"school unit {school_id} does not exist")
        held: list[Doc] = []
        incoming: list[Doc] = []
        for copy in store.find("copies", school_id=school_id):
            if copy["purpose"] != "school" or copy["status"] not in HELD:
                continue
            record = store.get("records", copy["record_id"]) or {}
            personal = record.get("personal") or {}
            row = {
                "copy_id": copy["id"], "record_id": copy["record_id"], "status": copy["status"],
                "personnummer": personal.get("personnummer"), "name": personal.get("name"),
                "holder": copy.get("holder"), "on_loan": copy.get("holder") is not None,
                "from_school_id": copy.get("transferred_from"),
            }
            (incoming if copy["status"] == "in_transit" else held).append(row)
        held.sort(key=lambda r: sort_key(r["personnummer"]))
        incoming.sort(key=lambda r: sort_key(r["personnummer"]))
        return {"school_id": school_id, "copies": held, "incoming": incoming}

    def request_log(self, principal: Principal, *, school_id: str | None = None,
                    status: str | None = None, actor_id: str | None = None) -> list[Doc]:
        self.fresh()
        if principal.role in (Role.TEACHER, Role.MENTOR):
            actor_id = principal.id  # staff see their own requests only
        elif principal.role is Role.PRINCIPAL:
            rows = [r for r in self._requests(None, status, actor_id)
                    if r.get("student_school_id") == principal.school_id]
            return rows
        elif principal.role is Role.CUSTODIAN:
            school_id = principal.location
        where: dict[str, str | None] = {}
        return self._requests(school_id, status, actor_id, where)

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
        self.fresh()
        doc = self.views.get("requests", str(request_id))
        if doc is None:
            raise NotFoundError(f"request {request_id} does not exist")
        if principal.role in (Role.TEACHER, Role.MENTOR, Role.PRINCIPAL) and (
            doc["actor"] != principal.id
        ):
            raise NotAuthorisedError("staff see their own requests only")
        if principal.role is Role.CUSTODIAN and not (
            doc.get("school_id") == principal.location
            or (doc.get("school_id") is None and principal.school_id is not None
                and doc.get("student_school_id") == principal.school_id)
        ):
            raise NotAuthorisedError("a custodian sees the requests for their own copies")
        return doc

    def culls(self, principal: Principal) -> list[Doc]:
        require(principal, *READERS, doing="read the culling register")
        self.fresh()
        rows = self.views.all("culls")
        rows.sort(key=lambda r: r["seq"])
        return self._with_protocols(rows)

    def _with_protocols(self, rows: list[Doc]) -> list[Doc]:
        """Each cull from a culling list links the list's protocol once it is executed."""
        lists = {i: self.views.get("culling_lists", i) for i in
                 {r["culling_list_id"] for r in rows if r.get("culling_list_id")}}
        for row in rows:
            listed = lists.get(row.get("culling_list_id") or "")
            row["protocol"] = (f"/api/v1/culling-lists/{listed['id']}/protocol"
                               if listed and listed["status"] == "executed" else None)
        return rows

    def cull(self, principal: Principal, certificate_id: UUID) -> Doc:
        require(principal, *READERS, doing="read culling certificates")
        self.fresh()
        doc = self.views.get("culls", str(certificate_id))
        if doc is None:
            raise NotFoundError(f"culling certificate {certificate_id} does not exist")
        return self._with_protocols([doc])[0]

    def students(self) -> list[Doc]:
        return [r for r in self.views.all("records") if r["kind"] == "student_documentation"]

    def readiness(self) -> Doc:
        """Every captured student needs an archive copy printed, archived and verified."""
        self.fresh()
        copies = {c["id"]: c for c in self.views.all("copies") if c["purpose"] == "archive"}
        students = self.students()
        printed = archived = verified = 0
        missing = []
        for record in students:
            live = [copies[c] for c in record["copy_ids"]
                    if c in copies and copies[c]["status"] not in ("replaced", "culled")]
            copy = live[0] if live else None
            status = copy["status"] if copy else None
            if copy:
                printed += 1
            if status in ("archived", "verified"):
                archived += 1
            if status == "verified":
                verified += 1
            else:
                need = {None: "archive copy not printed", "printed": "archive copy not filed",
                        "archived": "archive copy not verified",
                        "discrepancy": "verification found a discrepancy; reprint"}
                missing.append({"record_id": record["id"], "school_id": record["school_id"],
                                "archive_copy": status,
                                "missing": need.get(status, status or "")})
        agreement = self.views.get("meta", "agreement")
        return {
            "ready": not missing and bool(students) and agreement is None,
            "terminated": agreement is not None,
            "terminated_at": agreement["at"] if agreement else None,
            "students": len(students), "printed": printed, "archived": archived,
            "verified": verified, "missing": missing,
        }

    def progress(self) -> list[Doc]:
        """Migration progress per school unit."""
        self.fresh()
        copies = {c["id"]: c for c in self.views.all("copies")}
        schools = {s["id"]: {"school_id": s["id"], "name": s["name"], "captured": 0,
                             "printed": 0, "archived": 0, "verified": 0, "delivered": 0,
                             "ist_entered": 0, "general_information": 0, "culled": 0}
                   for s in self.views.all("schools")}
        for record in self.views.all("records"):
            row = schools.get(record["school_id"])
            if row is None:
                continue
            if record["kind"] != "student_documentation":
                row["general_information"] += 1
                row["culled"] += record["status"] == "culled"
                continue
            row["captured"] += 1
            mine = [copies[c] for c in record["copy_ids"] if c in copies]
            archive = [c for c in mine if c["purpose"] == "archive"
                       and c["status"] != "replaced"]
            school = [c for c in mine if c["purpose"] == "school"]
            row["printed"] += bool(archive)
            row["archived"] += any(c["status"] in ("archived", "verified") for c in archive)
            row["verified"] += any(c["status"] == "verified" for c in archive)
            row["delivered"] += any(c.get("delivered_at") for c in school)
            row["ist_entered"] += record.get("ist_entered") is not None
        return sorted(schools.values(), key=lambda r: r["school_id"])

    def rollover_candidates(self, year: int | None = None) -> list[Doc]:
        self.fresh()
        rows = self.views.all("departures")
        if year is not None:
            rows = [r for r in rows if r["date"] <= f"{year}-07-31"]
        return sorted(rows, key=lambda r: (r["date"], r["record_id"]))

    def schools(self) -> list[Doc]:
        self.fresh()
        return sorted(self.views.all("schools"), key=lambda s: s["id"])

    def actors(self) -> list[Doc]:
        self.fresh()
        return sorted(self.views.all("actors"), key=lambda a: a["name"])

