"""The register extract (registerutdrag) as a page and as a PDF (fpdf2), in Swedish by
default or in English (``lang="en"``)."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from markupsafe import escape

from api.document_text import DocumentText
from api.web.i18n import NO_VALUE

Doc = dict[str, Any]


def _sections(doc: Doc, t: DocumentText) -> list[tuple[str, list[str]]]:
    s = doc["student"]
    when = t.datetime
    names = _names(doc)
    person = [f"{t('field.personnummer')}: {s['personnummer']}",
              f"{t('doc.extract.history')}: {', '.join(s['personnummer_history'])}",
              f"{t('field.name')}: {s['name']}",
              f"{t('field.class')}: {s.get('class') or NO_VALUE}",
              f"{t('field.school')}: {t.place(s.get('school_id'))}",
              f"{t('doc.extract.protected')}: {t('doc.yes') if s['protected'] else t('doc.no')}"]
    documents = [t("doc.extract.document", title=d.get("title"),
                   category=t.code("category", d.get("category")), pages=d.get("pages"),
                   sha256=d.get("sha256")) for d in doc["documents"]]
    copies = [t("doc.extract.copy", id=c["id"], purpose=t.code("copy.purpose", c["purpose"]),
                status=t.code("copy.status", c["status"]).lower(),
                place=t.place(c.get("school_id") or "archive"))
              + (t("doc.extract.box", box=c["location"].get("box")) if c.get("location") else "")
              + (t("doc.extract.lent", holder=c["holder"]) if c.get("holder") else "")
              for c in doc["copies"]]
    received = [t("doc.extract.request", at=when(r["made_at"]),
                  who=r["asked_by_name"] or r["asked_by"], purpose=r["purpose"],
                  status=t.code("request.status", r["status"]).lower())
                + (t("doc.extract.handed_out", at=when(r["handed_out_at"]))
                   if r.get("handed_out_at") else "")
                + (t("doc.extract.returned", at=when(r["returned_at"]))
                   if r.get("returned_at") else "")
                for r in doc["recipients"]]
    moves = [t("doc.extract.move", at=when(m["at"]),
               event=t.optional(f"event.{m['event']}.title", t("event.unknown.title")),
               who=m["by_name"] or m["by"])
             + (t("doc.extract.from", place=t.place(m["from_school_id"]))
                if m.get("from_school_id") else "")
             + (t("doc.extract.to", place=t.place(m["to_school_id"]))
                if m.get("to_school_id") else "")
             + (t("doc.extract.to", place=m["to_actor_name"] or m["to_actor"])
                if m.get("to_actor") else "")
             for m in doc["movements"]]
    culls = [t("doc.extract.cull", at=when(c["at"]), copy=c.get("copy_id") or NO_VALUE,
               decision=c["decision"], point=c["point"], certificate=c["certificate_id"])
             for c in doc["culls"]]
    access = [t("doc.extract.read", at=when(a["at"]), who=names.get(a["actor"], a["actor"]),
                what=t.optional("access.action." + str(a["action"]).replace(" ", "_"),
                                t("access.action.other")).lower(),
                via=t("access.via." + _via(str(a.get("route") or ""))).lower(),
                outcome=t("access.allowed" if a["outcome"] == "allowed"
                          else "access.refused").lower())
              for a in doc["access_log"]]
    return [(t("doc.extract.person"), person), (t("doc.extract.documents"), documents),
            (t("doc.extract.copies"), copies), (t("doc.extract.received"), received),
            (t("doc.extract.moves"), moves), (t("doc.extract.culls"), culls),
            (t("doc.extract.access"), access)]


def _names(doc: Doc) -> dict[str, str]:
    """The names of the staff the extract names elsewhere, for its access log."""
    pairs = [(r.get("asked_by"), r.get("asked_by_name")) for r in doc["recipients"]]
    pairs += [(r.get("decided_by"), r.get("decided_by_name")) for r in doc["recipients"]]
    pairs += [(m.get("by"), m.get("by_name")) for m in doc["movements"]]
    pairs += [(m.get("to_actor"), m.get("to_actor_name")) for m in doc["movements"]]
    return {str(key): str(name) for key, name in pairs if key and name}


def _via(route: str) -> str:
    """Which door a read came through, as a key (``access.via.<key>``)."""
    path = route.split(" ", 1)[-1]
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/"):
        return "web"
    return "cli" if route else "unknown"


def extract_html(doc: Doc, lang: str = "sv") -> str:
    t = DocumentText(lang)
    title = escape(t("doc.extract.title"))
    parts = [f"<!doctype html><html lang='{t.lang}'><head><meta charset='utf-8'>",
             f"<title>{title}</title></head><body>",
             f"<h1>{title}</h1><p>{escape(t('doc.produced', at=t.datetime(doc['produced_at'])))}"
             "</p>"]
    for heading, lines in _sections(doc, t):
        parts.append(f"<h2>{escape(heading)}</h2><ul>")
        parts.extend(f"<li>{escape(line)}</li>" for line in lines or [NO_VALUE])
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def _latin1(text: str) -> str:
    # The PDF's core font is Latin-1 (å, ä, ö included); anything else becomes "?".
    text = text.replace("\u2013", "-").replace("\u2014", "-")
    return text.encode("latin-1", "replace").decode("latin-1")


def extract_pdf(doc: Doc, lang: str = "sv") -> bytes:
    t = DocumentText(lang)
    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(t("doc.extract.title")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 6, _latin1(t("doc.produced", at=t.datetime(doc["produced_at"]))),
             new_x="LMARGIN", new_y="NEXT")
    for heading, lines in _sections(doc, t):
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        for line in lines or ["-"]:
            pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
