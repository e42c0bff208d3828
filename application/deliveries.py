"""Archive deliveries (leveransreversal) and the finding aid (arkivförteckning).

A delivery lists boxes of archive copies handed to the municipal archive: each box with
its shelf, first and last personnummer and number of copies, as the shelf list stands
when it is delivered; the deliverer's signed event is the receipt's first signature, the
archive custodian's ``Received`` event its countersignature. The finding aid describes
the series of archive copies box by box.

A box's first and last personnummer are personal data: each caller sees them as every
other list shows a student (:func:`application.policy.box_bound_disclosure`) — the number,
or the pseudonymous reference beside it — and every read is in the access log. The E-ARK
SIP takes the archive's own copy (:meth:`ArchiveDeliveries.archival_finding_aid`), which
keeps the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

from application.policy import (
    Disclosure,
    Principal,
    box_bound_disclosure,
    require_archive_custodian,
    require_archive_delivery,
    require_archive_register_reader,
)
from application.queries import CustodyQueries, sort_key
from application.service import Custody
from domain.delivery import ArchiveDelivery
from domain.errors import DomainError, IllegalTransitionError, InvalidInputError
from domain.record import CopyStatus

Doc = dict[str, Any]

BOUND_KEYS = ("first_record_id", "last_record_id")
"""Which records a box's bounds are: kept with the delivery, never shown."""

SERIES = ("F1", "Elevdokumentation från Unikum, utskriven per elev i personnummerordning "
          "(BU 2017/503 § 88 p. 2)")


def _require_archive_reader(principal: Principal) -> None:
    require_archive_register_reader(principal)


class ArchiveDeliveries:
    def __init__(self, custody: Custody, queries: CustodyQueries) -> None:
        self.custody = custody
        self.queries = queries

    def boxes(self) -> dict[str, Doc]:
        """Every box of archive copies as the shelf list stands now, with the real
        bounds and their records (not for a reader: see :meth:`_shown`)."""
        self.queries.fresh()
        views = self.queries.views
        boxes: dict[str, Doc] = {}
        filed = [c for c in views.all("copies")
                 if c["purpose"] == "archive"
                 and c["status"] not in (CopyStatus.REPLACED, CopyStatus.PRINTED)
                 and (c.get("location") or {}).get("box")]
        records = {r["id"]: r for r in views.get_many("records",
                                                      [c["record_id"] for c in filed])}
        for copy in filed:
            location = copy["location"]
            box = location["box"]
            record = records.get(copy["record_id"]) or {}
            personal = record.get("personal") or {}
            entry = boxes.setdefault(box, {"box": box, "shelves": set(), "numbers": [],
                                           "dates": [], "copies": 0, "verified": 0})
            entry["copies"] += 1
            entry["verified"] += (copy.get("verification") or {}).get("outcome") == "ok"
            if location.get("shelf"):
                entry["shelves"].add(location["shelf"])
            if personal.get("personnummer"):
                entry["numbers"].append((personal["personnummer"], record.get("id")))
            entry["dates"].append(str(copy.get("updated_at") or copy.get("printed_at"))[:10])
        out = {}
        for name, entry in boxes.items():
            numbers = sorted(entry["numbers"], key=lambda n: sort_key(n[0]))
            out[name] = {
                "box": name, "shelf": ", ".join(sorted(entry["shelves"])) or None,
                "first_personnummer": numbers[0][0] if numbers else None,
                "last_personnummer": numbers[-1][0] if numbers else None,
                "first_record_id": numbers[0][1] if numbers else None,
                "last_record_id": numbers[-1][1] if numbers else None,
                "copies": entry["copies"], "verified": entry["verified"],
                "first_date": min(entry["dates"]) if entry["dates"] else None,
                "last_date": max(entry["dates"]) if entry["dates"] else None,
            }
        return out

    def deliver(self, principal: Principal, boxes: Sequence[str]) -> Doc:
        require_archive_delivery(principal)
        if not boxes:
            raise InvalidInputError("name at least one box", field="boxes")
        known = self.boxes()
        delivered = {b for d in self.queries.views.all("deliveries") for b in d["boxes"]}
        listed = []
        for index, box in enumerate(boxes):
            if box not in known:
                raise InvalidInputError(f"no archive copy is filed in box {box!r}",
                                        field=f"boxes[{index}]")
            if box in delivered:
                raise IllegalTransitionError(f"box {box} was delivered to the archive already")
            entry = known[box]
            listed.append({k: entry[k] for k in ("box", "shelf", "first_personnummer",
                                                 "last_personnummer", "copies", *BOUND_KEYS)})
        delivery = ArchiveDelivery.deliver(uuid4(), boxes=listed,
                                           subject=self.custody.keys.new_subject(),
                                           actor=principal.id)
        seq = self.custody.commit(delivery)
        self.queries.fresh(seq)
        return self.delivery(principal, delivery.id)

    def receive(self, principal: Principal, delivery_id: UUID, note: str | None) -> Doc:
        require_archive_custodian(principal, doing="countersign a delivery")
        delivery = self.custody.load(ArchiveDelivery, delivery_id, "delivery")
        delivery.receive(note=note, actor=principal.id)
        seq = self.custody.commit(delivery)
        self.queries.fresh(seq)
        return self.delivery(principal, delivery_id)

    def delivery(self, principal: Principal, delivery_id: UUID) -> Doc:
        """One delivery and its receipt, its boxes' bounds as this caller may see them;
        the read is logged."""
        _require_archive_reader(principal)
        doc = self._delivery(principal, delivery_id)
        self._log(principal, "delivery receipt", doc.pop("_read"))
        return doc

    def archival_receipt(self, delivery_id: UUID) -> Doc:
        """The receipt as the archive keeps it (the E-ARK SIP): the real numbers."""
        doc = self._delivery(None, delivery_id)
        doc.pop("_read")
        return doc

    def _delivery(self, principal: Principal | None, delivery_id: UUID) -> Doc:
        self.queries.fresh()
        doc = self.queries.views.get("deliveries", str(delivery_id))
        if doc is None:
            from domain.errors import NotFoundError

            raise NotFoundError(f"delivery {delivery_id} does not exist")
        names = {a["id"]: a["name"] for a in self.queries.views.all("actors")}
        personal = doc.get("personal") or {}
        boxes = personal.get("boxes", [{"box": b} for b in doc["boxes"]])
        shown, read = self._shown(principal, [self._with_bound_ids(b) for b in boxes])
        return {
            "_read": read,
            "id": doc["id"], "status": doc["status"],
            "boxes": shown,
            "copies": doc["copies"],
            "delivered_by": doc["delivered_by"],
            "delivered_by_name": names.get(doc["delivered_by"]),
            "delivered_at": doc["delivered_at"],
            "received_by": doc.get("received_by"),
            "received_by_name": names.get(doc.get("received_by") or ""),
            "received_at": doc.get("received_at"),
            "seqs": doc.get("seqs", []),
        }

    def deliveries(self, principal: Principal) -> list[Doc]:
        """Every delivery, newest first: its boxes, copies, who delivered and received."""
        _require_archive_reader(principal)
        self.queries.fresh()
        names = {a["id"]: a["name"] for a in self.queries.views.all("actors")}
        rows = sorted(self.queries.views.all("deliveries"),
                      key=lambda d: (str(d.get("delivered_at") or ""), d["id"]), reverse=True)
        return [{"id": d["id"], "status": d["status"], "boxes": list(d["boxes"]),
                 "copies": d["copies"], "delivered_by_name": names.get(d["delivered_by"]),
                 "delivered_at": d["delivered_at"], "received_at": d.get("received_at"),
                 "received_by_name": names.get(d.get("received_by") or "")}
                for d in rows]

    def deliverable_boxes(self, principal: Principal) -> list[Doc]:
        """The boxes of archive copies not yet delivered, in box order (for a new
        delivery); the read is logged."""
        require_archive_delivery(principal)
        known = self.boxes()
        delivered = {b for d in self.queries.views.all("deliveries") for b in d["boxes"]}
        shown, read = self._shown(principal,
                                  [known[b] for b in sorted(known) if b not in delivered])
        self._log(principal, "archive boxes", read)
        return shown

    def finding_aid(self, principal: Principal) -> Doc:
        """The finding aid, its boxes' bounds as this caller may see them; the read is
        logged."""
        _require_archive_reader(principal)
        doc, read = self._finding_aid(principal)
        self._log(principal, "finding aid", read)
        return doc

    def archival_finding_aid(self) -> Doc:
        """The finding aid as the archive keeps it (the E-ARK SIP): the real numbers."""
        return self._finding_aid(None)[0]

    def _finding_aid(self, principal: Principal | None) -> tuple[Doc, list[str]]:
        boxes = self.boxes()
        received = {b: d["id"] for d in self.queries.views.all("deliveries")
                    if d.get("status") == "received" for b in d["boxes"]}
        # In the order of the real first numbers, whoever reads it (as the shelf list).
        ordered = [{**boxes[name], "delivery_id": received.get(name)} for name in
                   sorted(boxes, key=lambda n: sort_key(boxes[n]["first_personnummer"]))]
        volumes, read = self._shown(principal, ordered)
        return {"series": [{"code": SERIES[0], "title": SERIES[1], "volumes": volumes}]}, read

    # -- a box's first and last personnummer, per caller ------------------------------------

    def _with_bound_ids(self, box: Doc) -> Doc:
        """A delivered box; one delivered before the bounds' records were kept with it
        finds them by their numbers."""
        if all(k in box for k in BOUND_KEYS):
            return box
        out = dict(box)
        for end in ("first", "last"):
            number = box.get(f"{end}_personnummer")
            try:
                out[f"{end}_record_id"] = (str(self.custody.student_record_id(number))
                                           if number else None)
            except DomainError:
                out[f"{end}_record_id"] = None
        return out

    def _shown(self, principal: Principal | None, boxes: list[Doc]
               ) -> tuple[list[Doc], list[str]]:
        """``boxes`` with each bound as ``principal`` may see it (the personnummer, or
        ``None`` and the reference), and the records whose students were read."""
        ids = sorted({str(b[k]) for b in boxes for k in BOUND_KEYS if b.get(k)})
        records = {r["id"]: r for r in self.queries.views.get_many("records", ids)}
        out = []
        for box in boxes:
            row = {k: v for k, v in box.items() if k not in BOUND_KEYS}
            for end in ("first", "last"):
                record = records.get(str(box.get(f"{end}_record_id")))
                reference = self.queries.reference(record) if record else None
                shown = box_bound_disclosure(
                    principal, protected=bool(record and record.get("protected")))
                if shown is not Disclosure.IDENTITY:
                    row[f"{end}_personnummer"] = None
                row[f"{end}_reference"] = reference
            out.append(row)
        return out, list(records)

    def _log(self, principal: Principal, action: str, record_ids: list[str]) -> None:
        """A read of the bounds' students, as the other lists log theirs."""
        if record_ids:
            self.queries.log_read(principal, action, record_ids)
