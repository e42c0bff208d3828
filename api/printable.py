"""Printable documents (HTML and PDF) for what is signed on paper at the archive: culling
protocols, delivery receipts, the finding aid. One simple layout: a title, a few
heading/value pairs, and tables."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpdf import FPDF

from api.document_text import DocumentText
from application.policy import SYSTEM_HELD
from domain.culling import DECISION_ID

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


@dataclass
class Table:
    heading: str
    columns: Sequence[str]
    rows: Sequence[Sequence[object]]


@dataclass
class Printable:
    title: str
    facts: list[tuple[str, object]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    footer: str | None = None
    lang: str = "sv"


def _text(value: object) -> str:
    return "" if value is None else str(value)


def to_html(doc: Printable) -> str:
    e = html.escape
    parts = [
        "<!doctype html>", f'<html lang="{e(doc.lang)}"><head><meta charset="utf-8">',
        f"<title>{e(doc.title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "width:100%;margin-bottom:1.5em}td,th{border:1px solid #999;padding:.3em;"
        "text-align:left;font-size:.9em}dt{font-weight:bold}@media print{body{margin:0}}"
        "</style></head><body>",
        f"<h1>{e(doc.title)}</h1>", "<dl>",
    ]
    for label, value in doc.facts:
        parts.append(f"<dt>{e(label)}</dt><dd>{e(_text(value))}</dd>")
    parts.append("</dl>")
    for table in doc.tables:
        parts.append(f"<h2>{e(table.heading)}</h2><table><thead><tr>")
        parts.extend(f"<th>{e(c)}</th>" for c in table.columns)
        parts.append("</tr></thead><tbody>")
        for row in table.rows:
            parts.append("<tr>" + "".join(f"<td>{e(_text(v))}</td>" for v in row) + "</tr>")
        parts.append("</tbody></table>")
    if doc.footer:
        parts.append(f"<p><small>{e(doc.footer)}</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _font(pdf: FPDF) -> tuple[str, bool]:
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu", True
    return "Helvetica", False


def to_pdf(doc: Printable) -> bytes:
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    family, unicode_font = _font(pdf)

    def clean(value: object) -> str:
        text = _text(value)
        if unicode_font:
            return text
        return text.replace("—", "-").encode("latin-1", "replace").decode("latin-1")

    pdf.set_font(family, "B", 15)
    pdf.multi_cell(0, 8, clean(doc.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in doc.facts:
        pdf.set_font(family, "B", 9)
        pdf.cell(60, 5, clean(label))
        pdf.set_font(family, "", 9)
        pdf.multi_cell(0, 5, clean(value), new_x="LMARGIN", new_y="NEXT")
    for table in doc.tables:
        pdf.ln(3)
        pdf.set_font(family, "B", 11)
        pdf.multi_cell(0, 6, clean(table.heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 7)
        with pdf.table(text_align="LEFT", line_height=4) as grid:
            header = grid.row()
            for column in table.columns:
                header.cell(clean(column))
            for values in table.rows:
                row = grid.row()
                for value in values:
                    row.cell(clean(value))
    if doc.footer:
        pdf.ln(3)
        pdf.set_font(family, "", 7)
        pdf.multi_cell(0, 4, clean(doc.footer), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def protocol_printable(document: dict[str, Any], lang: str = "sv") -> Printable:
    """A signed culling protocol (its JSON document) laid out for print, every code through
    its label in ``lang`` (the signed JSON itself is not touched)."""
    t = DocumentText(lang)
    body = document["protocol"]
    basis = body["legal_basis"]

    def held(place: str | None) -> str:
        return t("clists.system_held") if place == SYSTEM_HELD else t.place(place)

    def note(item: dict[str, Any]) -> str:
        reason = item.get("withdrawn_reason")
        return (item.get("witness") or item.get("contractor_reference")
                or (reason if reason != "withdrawn" else None) or "")

    wording = basis.get("text")
    if basis["decision"] == DECISION_ID and t.has(f"culling.point.{basis['point']}"):
        wording = t(f"culling.point.{basis['point']}")  # the seeded decision, in ``lang``
    rows = [[i.get("copy_id") or i["record_id"], held(i["held_at"]),
             t.code("clists.item", i["status"]), i.get("certificate_id") or "",
             i.get("destroyed_by_name") or "",
             t.code("method", i["method"]) if i.get("method") else "", i.get("date") or "",
             note(i)] for i in body["items"]]
    return Printable(
        title=t("clists.protocol.title"),
        facts=[(t("doc.protocol.list"), body["culling_list_id"]),
               (t("culls.basis"), t("doc.protocol.decision", decision=basis["decision"],
                                    point=basis["point"])),
               (t("doc.protocol.body"), f"{basis.get('body') or ''} {basis.get('date') or ''}"),
               (t("doc.protocol.text"), wording),
               *([(t("clists.protocol.school_year"), body["school_year"])]
                 if body.get("school_year") else []),
               (t("clists.proposed_by"), body["proposed_by_name"]),
               (t("clists.approved_by"), body["approved_by_name"]),
               (t("clists.protocol.issued"), t.datetime(body["issued_at"])),
               (t("clists.protocol.signature"), f"Ed25519 {document['signature']['key_id']} "
                                                f"{document['signature']['value']}")],
        tables=[Table(t("doc.protocol.items"),
                      [t("clists.protocol.copy"), t("clists.held_by"), t("field.status"),
                       t("culls.certificate"), t("field.culled_by"), t("field.method"),
                       t("clists.destroy.date"), t("clists.protocol.witness")], rows)],
        footer=t("clists.protocol.verify"),
        lang=t.lang,
    )


RECEIPT_COLUMNS = ["box", "shelf", "first_personnummer", "last_personnummer", "copies"]


def _bound_or_reference(row: dict[str, Any], column: str) -> Any:
    """A box bound's personnummer, or the reference the caller was given instead (the use
    case decided which: see ``application/deliveries.py``)."""
    if column.endswith("_personnummer"):
        return row.get(column) or row.get(column.replace("_personnummer", "_reference"))
    return row.get(column)


def receipt_printable(doc: dict[str, Any], lang: str = "sv") -> Printable:
    """A delivery receipt (leveransreversal) laid out for print, in ``lang``."""
    t = DocumentText(lang)
    received = (f"{doc['received_by_name']} {t.datetime(doc['received_at'])}"
                if doc.get("received_by_name") else t("deliveries.not_received"))
    return Printable(
        title=t("deliveries.receipt_title"),
        facts=[(t("deliveries.number"), doc["id"]),
               (t("doc.receipt.status"), t.code("deliveries.status", doc["status"])),
               (t("deliveries.delivered_by"),
                f"{doc['delivered_by_name']} {t.datetime(doc['delivered_at'])}"),
               (t("deliveries.received_by"), received),
               (t("deliveries.copies"), doc["copies"]),
               (t("deliveries.signed"), ", ".join(str(s) for s in doc["seqs"]))],
        tables=[Table(t("deliveries.volumes"),
                      [t("deliveries.box"), t("doc.receipt.shelf"), t("deliveries.first"),
                       t("deliveries.last"), t("deliveries.copies")],
                      [[_bound_or_reference(b, c) for c in RECEIPT_COLUMNS]
                       for b in doc["boxes"]])],
        lang=t.lang,
    )
