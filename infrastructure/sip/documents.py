"""The custody documentation a package carries besides the events: named documents.

A *provider* is a function ``(runtime, scope) -> documents``. The package asks every
provider in :data:`PROVIDERS` and puts what they return under ``documentation/``: every
culling certificate of the selected cull events, the culling protocol of every executed
culling list they touch, the finding aid and the archive delivery receipts.

Imports: the standard library and ``infrastructure.certificates``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.ports import FeedItem
from domain.culling_list import ListStatus
from infrastructure.runtime_parts import StoreParts
from infrastructure.sip.selection import field_of, topic_of


@dataclass(frozen=True, slots=True)
class NamedDocument:
    path: str
    """Where it goes, relative to ``documentation/`` (``certificates/<id>.json``)."""
    content: bytes
    mime_type: str


@dataclass(frozen=True, slots=True)
class PackageScope:
    """What the package holds: the selected events, and the ids they concern."""

    label: str
    items: Sequence[FeedItem]
    whole_store: bool

    def ids(self, name: str) -> set[str]:
        """Every value of event field ``name`` among the selected events."""
        return {str(v) for item in self.items if (v := field_of(item, name)) is not None}

    def record_ids(self) -> set[str]:
        return {str(item.event.originator_id) for item in self.items
                if topic_of(item).startswith("custody:Record.")}


DocumentProvider = Callable[[Any, PackageScope], Iterable[NamedDocument]]


def culling_certificates(rt: StoreParts, scope: PackageScope) -> Iterable[NamedDocument]:
    """The signed culling certificate (gallringsbevis) of every selected cull."""
    from infrastructure.certificates import certificate_text

    certificates = sorted(str(field_of(item, "certificate_id")) for item in scope.items
                          if topic_of(item) in ("custody:Record.CopyCulled",
                                                "custody:Record.Culled"))
    for certificate_id in certificates:
        text = certificate_text(rt, UUID(certificate_id))
        yield NamedDocument(f"certificates/gallringsbevis-{certificate_id}.json",
                            text.encode(), "application/json")


def per_view_document(view: str, render: Callable[[Any, str], str | bytes], folder: str,
                      extension: str, mime_type: str,
                      key: str = "id") -> DocumentProvider:
    """One document per item of a view that the scope touches (or every item when the
    package holds the whole store), rendered by ``render(runtime, id)``."""

    def provide(rt: StoreParts, scope: PackageScope) -> Iterable[NamedDocument]:
        rt.queries.fresh()
        touched = scope.record_ids() | scope.ids("copy_id") | {
            str(item.event.originator_id) for item in scope.items}
        for doc in rt.views.all(view):
            ident = str(doc[key])
            related = {ident, str(doc.get("record_id")), str(doc.get("copy_id"))}
            if scope.whole_store or related & touched:
                content = render(rt, ident)
                data = content.encode() if isinstance(content, str) else content
                yield NamedDocument(f"{folder}/{ident}.{extension}", data, mime_type)

    return provide


def single_document(render: Callable[[Any], str | bytes], path: str,
                    mime_type: str) -> DocumentProvider:
    """One document about the whole store (a finding aid), rendered by ``render(rt)``."""

    def provide(rt: StoreParts, scope: PackageScope) -> Iterable[NamedDocument]:
        content = render(rt)
        yield NamedDocument(path, content.encode() if isinstance(content, str) else content,
                            mime_type)

    return provide


def culling_protocols(rt: StoreParts, scope: PackageScope) -> Iterable[NamedDocument]:
    """The signed culling protocol (gallringsprotokoll) of every executed culling list the
    package touches (every one, for the whole store)."""
    from infrastructure.culling_protocol import build_protocol

    rt.queries.fresh()
    touched = {str(item.event.originator_id) for item in scope.items}
    for listed in sorted(rt.views.all("culling_lists"), key=lambda d: str(d["id"])):
        if listed.get("status") != ListStatus.EXECUTED:
            continue
        if not (scope.whole_store or str(listed["id"]) in touched):
            continue
        document = build_protocol(rt, UUID(str(listed["id"])))
        yield NamedDocument(f"culling-protocols/gallringsprotokoll-{listed['id']}.json",
                            (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode(),
                            "application/json")


def archive_deliveries(rt: StoreParts, scope: PackageScope) -> Iterable[NamedDocument]:
    """The finding aid (arkivförteckning) of the archive copies (in a package of the whole
    store), and the archive delivery receipts (leveransreversal) the package touches."""
    from application.deliveries import ArchiveDeliveries

    # The archive's own copy keeps the real personnummer (policy.box_bound_disclosure).
    deliveries = ArchiveDeliveries(rt.custody, rt.queries)
    if scope.whole_store:  # the finding aid describes the whole series
        yield NamedDocument("finding-aid/arkivforteckning.json",
                            _json(deliveries.archival_finding_aid()), "application/json")
    touched = {str(item.event.originator_id) for item in scope.items}
    for doc in sorted(rt.views.all("deliveries"), key=lambda d: str(d["id"])):
        if scope.whole_store or str(doc["id"]) in touched:
            receipt = deliveries.archival_receipt(UUID(str(doc["id"])))
            yield NamedDocument(f"deliveries/leveransreversal-{doc['id']}.json",
                                _json(receipt), "application/json")


def _json(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n").encode()


PROVIDERS: tuple[DocumentProvider, ...] = (
    culling_certificates,
    culling_protocols,
    archive_deliveries,
)
