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


def _text(value: object) -> str:
    return "" if value is None else str(value)


def to_html(doc: Printable) -> str:
    e = html.escape
    parts = [
        "<!doctype html>", '<html lang="sv"><head><meta charset="utf-8">',
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


def protocol_printable(document: dict[str, Any]) -> Printable:
    """A signed culling protocol (its JSON document) laid out for print."""
    body = document["protocol"]
    basis = body["legal_basis"]
    rows = [[i.get("copy_id") or i["record_id"], i["held_at"], i["status"],
             i.get("certificate_id") or "", i.get("destroyed_by_name") or "",
             i.get("method") or "", i.get("date") or "",
             i.get("witness") or i.get("contractor_reference") or i.get("withdrawn_reason")
             or ""] for i in body["items"]]
    return Printable(
        title="Gallringsprotokoll",
        facts=[("Gallringslista", body["culling_list_id"]),
               ("Beslut", f"{basis['decision']} punkt {basis['point']}"),
               ("Beslutande organ", f"{basis.get('body') or ''} {basis.get('date') or ''}"),
               ("Punktens lydelse", basis.get("text")),
               ("Läsår", body.get("school_year")),
               ("Föreslagen av", body["proposed_by_name"]),
               ("Attesterad av", body["approved_by_name"]),
               ("Utfärdad", body["issued_at"]),
               ("Signatur", f"Ed25519 {document['signature']['key_id']} "
                            f"{document['signature']['value']}")],
        tables=[Table("Förstörda och återtagna exemplar",
                      ["exemplar", "förvaras", "status", "gallringsbevis", "förstört av",
                       "metod", "datum", "vittne / entreprenör / skäl"], rows)],
        footer="Kontrollera offline: custody verify-certificate protokoll.json --keys keys.json",
    )
