"""Archive deliveries (leveransreversal) and the finding aid (arkivförteckning).

A delivery lists boxes of archive copies handed to the municipal archive: each box with
its shelf, first and last personnummer and number of copies, as the shelf list stands
when it is delivered; the deliverer's signed event is the receipt's first signature, the
archive custodian's ``Received`` event its countersignature. The finding aid describes
the series of archive copies box by box.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

from application.policy import (
    Principal,
    require_archive_custodian,
    require_archive_delivery,
    require_archive_register_reader,
)
from application.queries import CustodyQueries, sort_key
from application.service import Custody
from domain.delivery import ArchiveDelivery
from domain.errors import IllegalTransitionError, InvalidInputError
from domain.record import CopyStatus

Doc = dict[str, Any]

SERIES = ("F1", "Elevdokumentation från Unikum, utskriven per elev i personnummerordning "
          "(BU 2017/503 § 88 p. 2)")


def _require_archive_reader(principal: Principal) -> None:
    require_archive_register_reader(principal)


class ArchiveDeliveries:
    def __init__(self, custody: Custody, queries: CustodyQueries) -> None:
        self.custody = custody
        self.queries = queries

    def boxes(self) -> dict[str, Doc]:
        """Every box of archive copies as the shelf list stands now."""
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
                entry["numbers"].append(personal["personnummer"])
            entry["dates"].append(str(copy.get("updated_at") or copy.get("printed_at"))[:10])
        out = {}
        for name, entry in boxes.items():
            numbers = sorted(entry["numbers"], key=sort_key)
            out[name] = {
                "box": name, "shelf": ", ".join(sorted(entry["shelves"])) or None,
                "first_personnummer": numbers[0] if numbers else None,
                "last_personnummer": numbers[-1] if numbers else None,
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
                                                 "last_personnummer", "copies")})
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
        _require_archive_reader(principal)
        self.queries.fresh()
        doc = self.queries.views.get("deliveries", str(delivery_id))
        if doc is None:
            from domain.errors import NotFoundError

            raise NotFoundError(f"delivery {delivery_id} does not exist")
        names = {a["id"]: a["name"] for a in self.queries.views.all("actors")}
        personal = doc.get("personal") or {}
        return {
            "id": doc["id"], "status": doc["status"],
            "boxes": personal.get("boxes", [{"box": b} for b in doc["boxes"]]),
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
        """The boxes of archive copies not yet delivered, in box order (for a new delivery)."""
        require_archive_delivery(principal)
        known = self.boxes()
        delivered = {b for d in self.queries.views.all("deliveries") for b in d["boxes"]}
        return [known[b] for b in sorted(known) if b not in delivered]

    def finding_aid(self, principal: Principal) -> Doc:
        _require_archive_reader(principal)
        boxes = self.boxes()
        received = {b: d["id"] for d in self.queries.views.all("deliveries")
                    if d.get("status") == "received" for b in d["boxes"]}
        volumes = []
        for name in sorted(boxes, key=lambda n: sort_key(boxes[n]["first_personnummer"])):
            entry = boxes[name]
            volumes.append({**entry, "delivery_id": received.get(name)})
        return {"series": [{"code": SERIES[0], "title": SERIES[1], "volumes": volumes}]}
