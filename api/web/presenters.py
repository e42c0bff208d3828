"""Turn the application's read models into what a page shows, in the user's language.

Pure functions from query results (plain dicts) to rows for the templates: the
provenance timeline in words, where each copy is now, migration progress per school unit,
the shelf list grouped into box labels. No rule is decided here: who may see what was
already settled by the application call that produced the data.

May import the standard library and :mod:`api.web.i18n`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from api.web.i18n import Translator
from domain.record import CopyStatus

Doc = Mapping[str, Any]
Namer = Callable[[str | None], str]

STAGES: Final = ("printed", "archived", "verified", "delivered", "ist_entered")
"""Migration stages after capture, in the order the decision carries them out."""

CULL_TYPES: Final = ("CopyCulled", "Culled")
MISSING_FOR: Final = {None: "not_printed", CopyStatus.PRINTED: "not_filed",
                      CopyStatus.ARCHIVED: "not_verified", CopyStatus.DISCREPANCY: "discrepancy"}


def short(identifier: str | None, length: int = 8) -> str:
    return (identifier or "")[:length]


# -- the provenance timeline ---------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    seq: int | None
    version: int
    type: str
    at: str
    at_iso: str
    title: str
    detail: str
    copy: str
    actor: str
    signature_valid: bool
    key_id: str | None
    problem: str | None
    certificate_id: str | None = None
    note: str | None = None


def copy_names(record: Doc, t: Translator) -> dict[str, str]:
    """``copy id → "Arkivexemplar"/"Skolexemplar (Holmesskolan)"``, for the timeline."""
    return {str(c["id"]): t(f"copy.purpose.{c['purpose']}") for c in record.get("copies", [])}


def describe(event: Doc, t: Translator, place: Namer, person: Namer) -> tuple[str, str]:
    """The event's title and one sentence of what happened, in the page's language."""
    kind = str(event.get("type", ""))
    data: Doc = event.get("data") or {}
    if not t.has(f"event.{kind}.title"):
        return t("event.unknown.title"), t("event.unknown.detail", type=kind)
    title = t(f"event.{kind}.title")
    detail = ""
    if kind == "StudentDocumentationCaptured":
        detail = t("event.StudentDocumentationCaptured.detail",
                   documents=data.get("document_count", "?"), school=place(data.get("school_id")),
                   fingerprint=short(data.get("fingerprint"), 16))
    elif kind == "GeneralInformationCaptured":
        category = str(data.get("category") or "other")
        detail = t("event.GeneralInformationCaptured.detail",
                   category=t.optional(f"category.{category}", category),
                   school=place(data.get("school_id")))
    elif kind == "CopyPrinted":
        if data.get("purpose") == "archive":
            detail = t("event.CopyPrinted.archive")
        else:
            detail = t("event.CopyPrinted.school", school=place(data.get("school_id")))
        if data.get("replaces"):
            detail += " " + t("event.CopyPrinted.replaces", copy=short(data.get("replaces")))
    elif kind == "CopyArchived":
        detail = (t("event.CopyArchived.detail", box=data.get("box"), shelf=data.get("shelf"))
                  if data.get("shelf") else t("event.CopyArchived.box_only", box=data.get("box")))
    elif kind == "CopyVerified":
        detail = (t("event.CopyVerified.ok") if data.get("outcome") == "ok"
                  else t("event.CopyVerified.discrepancy"))
    elif kind in ("CopyDelivered", "CopyReceived"):
        detail = t(f"event.{kind}.detail", school=place(data.get("school_id")))
    elif kind == "CopyLent":
        detail = t("event.CopyLent.detail", person=person(data.get("to_actor")))
    elif kind == "CopyReturned":
        detail = t("event.CopyReturned.detail")
    elif kind == "CopyTransferred":
        detail = t("event.CopyTransferred.detail", origin=place(data.get("from_school_id")),
                   destination=place(data.get("to_school_id")))
    elif kind in CULL_TYPES:
        method = str(data.get("method") or "")
        detail = t("event.culled_detail", decision=data.get("decision"),
                   point=data.get("point"), method=t.optional(f"method.{method}", method))
        if data.get("witness"):
            detail += " " + t("event.witness", witness=data.get("witness"))
    elif kind == "EnteredIntoIst":
        detail = t("event.EnteredIntoIst.detail")
    elif kind == "StudentDeparted":
        reason = str(data.get("reason") or "")
        detail = t("event.StudentDeparted.detail", reason=t.optional(f"departure.{reason}", reason),
                   date=t.date(data.get("date")))
        if data.get("to_school_id"):
            detail += " " + t("event.StudentDeparted.to", school=place(data.get("to_school_id")))
    elif kind in ("HoldPlaced", "HoldLifted"):
        detail = t(f"event.{kind}.detail")
    return title, detail


def timeline(history: Doc, record: Doc, t: Translator, place: Namer,
             person: Namer) -> list[TimelineEntry]:
    copies = copy_names(record, t)
    entries = []
    for event in history.get("events", []):
        data: Doc = event.get("data") or {}
        title, detail = describe(event, t, place, person)
        note = data.get("note") if event.get("type") in ("CopyVerified", "EnteredIntoIst") else (
            data.get("reason") if event.get("type") in ("HoldPlaced", "HoldLifted") else None)
        entries.append(TimelineEntry(
            seq=event.get("seq"),
            version=int(event.get("version") or 0),
            type=str(event.get("type")),
            at=t.datetime(event.get("at")),
            at_iso=t.iso(event.get("at")),
            title=title,
            detail=detail,
            copy=copies.get(str(data.get("copy_id")), "") if data.get("copy_id") else "",
            actor=person(event.get("actor")),
            signature_valid=bool(event.get("signature_valid")),
            key_id=event.get("key_id"),
            problem=event.get("problem"),
            certificate_id=(str(data["certificate_id"]) if event.get("type") in CULL_TYPES
                            and data.get("certificate_id") else None),
            note=str(note) if note else None,
        ))
    return entries


# -- copies: where each one is now -----------------------------------------------------------


@dataclass(frozen=True)
class CopyRow:
    id: str
    purpose: str
    status: str
    where: str
    on_loan_to: str | None
    verification: str | None
    certificate_id: str | None


def where_now(copy: Doc, t: Translator, place: Namer) -> str:
    status = str(copy.get("status"))
    location: Doc = copy.get("location") or {}
    if status in (CopyStatus.ARCHIVED, CopyStatus.VERIFIED, CopyStatus.DISCREPANCY) and (
            location.get("box")):
        if location.get("shelf"):
            return t("where.archive_box_shelf", box=location.get("box"),
                     shelf=location.get("shelf"))
        return t("where.archive_box", box=location.get("box"))
    if status == CopyStatus.AT_SCHOOL:
        return t("where.at_school", school=place(copy.get("school_id")))
    if status == CopyStatus.IN_TRANSIT:
        return t("where.in_transit", school=place(copy.get("school_id")))
    return t.optional(f"where.{status}", status)


def copy_rows(record: Doc, t: Translator, place: Namer, person: Namer) -> list[CopyRow]:
    rows = []
    for copy in record.get("copies", []):
        verification: Doc = copy.get("verification") or {}
        outcome = verification.get("outcome")
        rows.append(CopyRow(
            id=str(copy["id"]),
            purpose=t(f"copy.purpose.{copy['purpose']}"),
            status=str(copy["status"]),
            where=where_now(copy, t, place),
            on_loan_to=person(copy.get("holder")) if copy.get("holder") else None,
            verification=(t(f"verification.{outcome}", date=t.date(verification.get("at")))
                          if outcome in ("ok", "discrepancy") else None),
            certificate_id=copy.get("certificate_id"),
        ))
    return rows


# -- migration overview ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    key: str
    done: int
    total: int


@dataclass(frozen=True)
class SchoolProgress:
    school_id: str
    name: str
    captured: int
    general_information: int
    culled: int
    stages: list[Stage]

    @property
    def complete(self) -> bool:
        return self.captured > 0 and all(s.done >= s.total for s in self.stages)


def school_progress(rows: Iterable[Doc]) -> list[SchoolProgress]:
    return [
        SchoolProgress(
            school_id=str(row["school_id"]), name=str(row["name"]),
            captured=int(row["captured"]), general_information=int(row["general_information"]),
            culled=int(row["culled"]),
            stages=[Stage(key, int(row[key]), int(row["captured"])) for key in STAGES],
        )
        for row in rows
    ]


def totals(rows: Sequence[SchoolProgress]) -> dict[str, int]:
    out = {"captured": sum(r.captured for r in rows)}
    for key in STAGES:
        out[key] = sum(s.done for r in rows for s in r.stages if s.key == key)
    return out


@dataclass(frozen=True)
class MissingItem:
    record_id: str
    school_id: str
    reason_key: str
    name: str | None = None
    personnummer: str | None = None


def missing_items(readiness: Doc, limit: int,
                  student: Callable[[str], Doc | None]) -> tuple[list[MissingItem], int]:
    """What still keeps the archive agreement open: the first ``limit``, and how many more."""
    missing = list(readiness.get("missing", []))
    shown = []
    for item in missing[:limit]:
        found = student(str(item["record_id"])) or {}
        who: Doc = found.get("student") or {}
        shown.append(MissingItem(
            record_id=str(item["record_id"]), school_id=str(item.get("school_id") or ""),
            reason_key=f"readiness.missing.{MISSING_FOR.get(item.get('archive_copy'), 'other')}",
            name=who.get("name"), personnummer=who.get("personnummer")))
    return shown, max(0, len(missing) - limit)


# -- the archive's shelf list and box labels -----------------------------------------------------


@dataclass
class BoxLabel:
    box: str
    shelf: str | None
    rows: list[Doc] = field(default_factory=list)

    @property
    def first(self) -> str:
        return str(self.rows[0].get("personnummer") or self.rows[0].get("reference") or ""
                   ) if self.rows else ""

    @property
    def last(self) -> str:
        return str(self.rows[-1].get("personnummer") or self.rows[-1].get("reference") or ""
                   ) if self.rows else ""


def box_labels(shelf_list: Iterable[Doc]) -> list[BoxLabel]:
    """One label per box, in the order the boxes first occur in personnummer order."""
    boxes: dict[tuple[str, str | None], BoxLabel] = {}
    for row in shelf_list:
        if not row.get("box"):
            continue
        key = (str(row["box"]), row.get("shelf"))
        boxes.setdefault(key, BoxLabel(key[0], key[1])).rows.append(row)
    return list(boxes.values())
