"""The words of the printable documents (register extract, culling protocol, delivery
receipt) in Swedish, or English on request.

Codes from the data (statuses, methods, categories, events, reads) are shown through the
web UI's own labels (``api/web/locales/<lang>.json``), so a document and the page it
comes from say the same thing. The few headings only the documents have are in
:data:`OWN` below, in both languages. Times are shown as the web pages show them
(Europe/Stockholm).
"""

from __future__ import annotations

from typing import Final, Literal

from api.web.i18n import DEFAULT_LANGUAGE, LANGUAGES, NO_VALUE, Translator, load_catalogue

DocLang = Literal["sv", "en"]

OWN: Final[dict[str, dict[str, str]]] = {
    "sv": {
        "doc.yes": "ja",
        "doc.no": "nej",
        "doc.produced": "Framställt {at}",
        "doc.extract.title": "Registerutdrag (GDPR art. 15)",
        "doc.extract.person": "Personuppgifter",
        "doc.extract.history": "Personnummer över tid",
        "doc.extract.protected": "Skyddade personuppgifter",
        "doc.extract.documents": "Handlingar",
        "doc.extract.document": "{title} ({category}, {pages} sidor, SHA-256 {sha256})",
        "doc.extract.copies": "Exemplar och var de finns",
        "doc.extract.copy": "{id}: {purpose}, {status}, hos {place}",
        "doc.extract.box": ", arkivkartong {box}",
        "doc.extract.lent": ", utlånat till {holder}",
        "doc.extract.received": "Vem som har begärt och fått ut vad",
        "doc.extract.request": "{at}: {who} begärde ({purpose}): {status}",
        "doc.extract.handed_out": ", utlämnad {at}",
        "doc.extract.returned": ", återlämnad {at}",
        "doc.extract.moves": "Utlämnanden, överföringar och ändringar",
        "doc.extract.move": "{at}: {event} av {who}",
        "doc.extract.from": " från {place}",
        "doc.extract.to": " till {place}",
        "doc.extract.culls": "Gallring",
        "doc.extract.cull": "{at}: exemplar {copy} gallrat enligt {decision} punkt {point}, "
                            "gallringsbevis {certificate}",
        "doc.extract.access": "Åtkomstlogg",
        "doc.extract.read": "{at}: {who} läste {what} via {via}: {outcome}",
        "doc.protocol.list": "Gallringslista",
        "doc.protocol.decision": "{decision} punkt {point}",
        "doc.protocol.body": "Beslutande organ",
        "doc.protocol.text": "Punktens lydelse",
        "doc.protocol.items": "Förstörda och återkallade exemplar",
        "doc.receipt.delivery": "Leverans",
        "doc.receipt.status": "Status",
        "doc.receipt.shelf": "Hylla",
    },
    "en": {
        "doc.yes": "yes",
        "doc.no": "no",
        "doc.produced": "Produced {at}",
        "doc.extract.title": "Register extract (GDPR art. 15)",
        "doc.extract.person": "Personal data",
        "doc.extract.history": "Personnummer over time",
        "doc.extract.protected": "Protected identity",
        "doc.extract.documents": "Documents",
        "doc.extract.document": "{title} ({category}, {pages} pages, SHA-256 {sha256})",
        "doc.extract.copies": "Copies and where they are",
        "doc.extract.copy": "{id}: {purpose}, {status}, at {place}",
        "doc.extract.box": ", box {box}",
        "doc.extract.lent": ", lent to {holder}",
        "doc.extract.received": "Who asked for and received what",
        "doc.extract.request": "{at}: {who} asked ({purpose}): {status}",
        "doc.extract.handed_out": ", handed out {at}",
        "doc.extract.returned": ", returned {at}",
        "doc.extract.moves": "Hand-outs, transfers and changes",
        "doc.extract.move": "{at}: {event} by {who}",
        "doc.extract.from": " from {place}",
        "doc.extract.to": " to {place}",
        "doc.extract.culls": "Culls",
        "doc.extract.cull": "{at}: copy {copy} culled under {decision} point {point}, "
                            "certificate {certificate}",
        "doc.extract.access": "Access log",
        "doc.extract.read": "{at}: {who} read {what} via {via}: {outcome}",
        "doc.protocol.list": "Culling list",
        "doc.protocol.decision": "{decision} point {point}",
        "doc.protocol.body": "Decided by",
        "doc.protocol.text": "Wording of the point",
        "doc.protocol.items": "Destroyed and withdrawn copies",
        "doc.receipt.delivery": "Delivery",
        "doc.receipt.status": "Status",
        "doc.receipt.shelf": "Shelf",
    },
}

_tables: dict[str, dict[str, str]] = {}


class DocumentText(Translator):
    """One document's language: the web UI's labels plus the documents' own headings."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        chosen = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        if chosen not in _tables:
            _tables[chosen] = {**load_catalogue(chosen), **OWN[chosen]}
        super().__init__(chosen, _tables[chosen])

    def code(self, prefix: str, value: object, fallback: str | None = None) -> str:
        """The label of a code (``prefix.value``); an unknown code is shown as
        ``fallback`` (or, failing that, as itself rather than hidden)."""
        if value is None or value == "":
            return NO_VALUE
        return self.optional(f"{prefix}.{value}", fallback if fallback is not None
                             else str(value))

    def place(self, school_id: object) -> str:
        """A school unit by its id; the archive by its name."""
        if not school_id:
            return NO_VALUE
        return self("place.archive") if school_id == "archive" else str(school_id)
