"""The one CSV writer every export uses (``?format=csv`` and the ``.csv`` paths).

Every cell is neutralised: a text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'`` so that a spreadsheet shows it as text instead of
running it as a formula (OWASP's "CSV injection"): a teacher's ``purpose`` of
``=HYPERLINK(…)`` must not become a live link in the custodian's request log. Numbers
are written as they are (a negative number is no formula).

Swedish (``Accept-Language: sv``, the web UI's language): ``;`` between cells (a Swedish
spreadsheet reads ``,`` as the decimal comma), Swedish headers, booleans as ``ja``/``nej``.
English otherwise: ``,`` and English headers. Both start with a UTF-8 BOM so that a
spreadsheet detects the encoding.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    sv: str

    @property
    def en(self) -> str:
        return self.key


def neutralise(value: Any, *, swedish: bool) -> str:
    """The cell's text, safe to open in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("ja" if value else "nej") if swedish else str(value)
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def wants_swedish(accept_language: str | None) -> bool:
    """Swedish when the client's first language is Swedish (``sv``, ``sv-SE``)."""
    if not accept_language:
        return False
    first = accept_language.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return first == "sv" or first.startswith("sv-")


def csv_text(rows: Iterable[Mapping[str, Any]], columns: list[Column], *,
             swedish: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if swedish else ",", lineterminator="\r\n")
    writer.writerow([neutralise(c.sv if swedish else c.en, swedish=swedish) for c in columns])
    for row in rows:
        writer.writerow([neutralise(row.get(c.key), swedish=swedish) for c in columns])
    return buffer.getvalue()


def csv_response(rows: Iterable[Mapping[str, Any]], columns: list[Column], filename: str, *,
                 swedish: bool) -> Response:
    body = csv_text(rows, columns, swedish=swedish).encode("utf-8-sig")
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Content-Language": "sv" if swedish else "en",
        "Cache-Control": "no-store",
    })


SHELF_LIST = [
    Column("personnummer", "personnummer"), Column("name", "namn"),
    Column("reference", "referens"), Column("box", "kartong"),
    Column("shelf", "hylla"), Column("status", "status"), Column("verified", "kontrollerad"),
    Column("school_id", "skolenhet"), Column("record_id", "akt-id"),
    Column("copy_id", "exemplar-id"),
]
HOLDINGS = [
    Column("personnummer", "personnummer"), Column("name", "namn"),
    Column("reference", "referens"), Column("status", "status"),
    Column("on_loan", "utlånad"), Column("holder", "innehavare"),
    Column("from_school_id", "från skolenhet"), Column("record_id", "akt-id"),
    Column("copy_id", "exemplar-id"),
]
REQUESTS = [
    Column("seq", "löpnummer"), Column("made_at", "beställd"), Column("actor", "beställare-id"),
    Column("actor_name", "beställare"), Column("record_id", "akt-id"),
    Column("purpose", "syfte"), Column("status", "status"), Column("decided_by", "beslutad av"),
    Column("decision_reason", "motivering"), Column("handed_out_at", "utlämnad"),
    Column("returned_at", "återlämnad"), Column("school_id", "skolenhet"),
]
CULLS = [
    Column("seq", "löpnummer"), Column("at", "gallrad"), Column("certificate_id", "gallringsbevis"),
    Column("record_id", "akt-id"), Column("copy_id", "exemplar-id"), Column("kind", "slag"),
    Column("category", "kategori"), Column("school_id", "skolenhet"),
    Column("decision", "beslut"), Column("point", "punkt"), Column("method", "metod"),
    Column("witness", "vittne"), Column("actor", "utförd av"),
]
AGREEMENT_MISSING = [
    Column("record_id", "akt-id"), Column("school_id", "skolenhet"),
    Column("archive_copy", "arkivexemplar"), Column("missing", "saknas"),
]


def request_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The request log flattened for a sheet: who decided, why, when handed out/back."""
    out = []
    for r in rows:
        decision = r.get("decision") or {}
        out.append({**r, "decided_by": decision.get("by"),
                    "decision_reason": decision.get("reason"),
                    "handed_out_at": (r.get("handed_out") or {}).get("at"),
                    "returned_at": (r.get("returned") or {}).get("at")})
    return out
