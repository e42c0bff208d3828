"""The register extract (registerutdrag) as a page and as a PDF (fpdf2)."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from markupsafe import escape

Doc = dict[str, Any]


def _sections(doc: Doc) -> list[tuple[str, list[str]]]:
    s = doc["student"]
    person = [f"Personnummer: {s['personnummer']}",
              f"Personnummer over time: {', '.join(s['personnummer_history'])}",
              f"Name: {s['name']}", f"Class: {s.get('class') or '-'}",
              f"School unit: {s.get('school_id')}",
              f"Protected identity: {'yes' if s['protected'] else 'no'}"]
    documents = [f"{d.get('title')} ({d.get('category')}, {d.get('pages')} pages, "
                 f"sha256 {d.get('sha256')})" for d in doc["documents"]]
    copies = [f"{c['id']}: {c['purpose']} copy, {c['status']}, at "
              f"{c.get('school_id') or 'the archive'}"
              + (f", box {c['location'].get('box')}" if c.get("location") else "")
              + (f", lent to {c['holder']}" if c.get("holder") else "")
              for c in doc["copies"]]
    received = [f"{r['made_at']}: {r['asked_by_name'] or r['asked_by']} asked "
                f"({r['purpose']}): {r['status']}"
                + (f", handed out {r['handed_out_at']}" if r.get("handed_out_at") else "")
                + (f", returned {r['returned_at']}" if r.get("returned_at") else "")
                for r in doc["recipients"]]
    moves = [f"{m['at']}: {m['event']} by {m['by_name'] or m['by']}"
             + (f" from {m['from_school_id']}" if m.get("from_school_id") else "")
             + (f" to {m['to_school_id']}" if m.get("to_school_id") else "")
             + (f" to {m['to_actor_name'] or m['to_actor']}" if m.get("to_actor") else "")
             for m in doc["movements"]]
    culls = [f"{c['at']}: copy {c.get('copy_id')} culled under {c['decision']} point "
             f"{c['point']}, certificate {c['certificate_id']}" for c in doc["culls"]]
    access = [f"{a['at']}: {a['actor']} {a['action']} via {a['route']}: {a['outcome']}"
              for a in doc["access_log"]]
    return [("Personal data", person), ("Documents", documents), ("Copies and where they are",
            copies), ("Who asked for and received what", received),
            ("Hand-outs, transfers and changes", moves), ("Culls", culls),
            ("Access log", access)]


def extract_html(doc: Doc) -> str:
    parts = ["<!doctype html><html lang='sv'><head><meta charset='utf-8'>",
             "<title>Registerutdrag</title></head><body>",
             f"<h1>Registerutdrag (GDPR art. 15)</h1><p>Produced {escape(doc['produced_at'])}"
             "</p>"]
    for title, lines in _sections(doc):
        parts.append(f"<h2>{escape(title)}</h2><ul>")
        parts.extend(f"<li>{escape(line)}</li>" for line in lines or ["-"])
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def _latin1(text: str) -> str:
    # The PDF's core font is Latin-1 (å, ä, ö included); anything else becomes "?".
    return text.encode("latin-1", "replace").decode("latin-1")


def extract_pdf(doc: Doc) -> bytes:
    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1("Registerutdrag (GDPR art. 15)"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 6, _latin1(f"Produced {doc['produced_at']}"), new_x="LMARGIN", new_y="NEXT")
    for title, lines in _sections(doc):
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for line in lines or ["-"]:
            pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
