"""Which custody events a package describes: everything, or what one anchor touched.

A selection is a predicate over the decoded events (and, through the ids they carry,
over records and copies). :class:`Anchored` is the general form: the *anchor* events
(a school year's closing; later a culling list's events) name ids — records, copies,
certificates, requests — and the package takes the anchors plus every event of the
records those ids lead to (their whole chain of custody), the document requests about
them and the staff assignments to them. A culling-list package is one more
``Anchored`` whose anchor matches that list's events and whose ``touched`` returns its
items' record and copy ids.
Imports: the standard library and ``application.ports``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from application.ports import FeedItem

LINK_FIELDS = ("record_id", "copy_id", "certificate_id", "request_id")


def topic_of(item: FeedItem) -> str:
    return str(type(item.event).TOPIC)


def field_of(item: FeedItem, name: str) -> Any:
    return vars(item.event).get(name)


class Selection(Protocol):
    @property
    def label(self) -> str:
        """What the package holds, in words (goes into its descriptive metadata)."""
        ...

    def choose(self, items: Sequence[FeedItem]) -> list[FeedItem]:
        """The events the package describes, in ``seq`` order."""
        ...


@dataclass(frozen=True)
class Everything:
    label: str = "the whole chain of custody"

    def choose(self, items: Sequence[FeedItem]) -> list[FeedItem]:
        return list(items)


@dataclass(frozen=True)
class Anchored:
    """The anchor events and everything about the records the ids they name lead to."""

    label: str
    anchor: Callable[[FeedItem], bool]
    touched: Callable[[FeedItem], Iterable[str]]

    def choose(self, items: Sequence[FeedItem]) -> list[FeedItem]:
        anchors = [item for item in items if self.anchor(item)]
        named = {str(i) for item in anchors for i in self.touched(item)}
        records = {str(item.event.originator_id) for item in items
                   if topic_of(item).startswith("custody:Record.")
                   and (str(item.event.originator_id) in named
                        or any(str(field_of(item, f)) in named for f in LINK_FIELDS))}
        requests = {str(item.event.originator_id) for item in items
                    if topic_of(item) == "custody:DocumentRequest.Made"
                    and str(field_of(item, "record_id")) in records}
        anchor_seqs = {item.seq for item in anchors}
        return [item for item in items
                if item.seq in anchor_seqs
                or str(item.event.originator_id) in records | requests
                or (topic_of(item).startswith("custody:Actor.Assignment")
                    and str(field_of(item, "record_id")) in records)]


def _list_touched(item: FeedItem) -> list[str]:
    """The record and copy ids a culling list's proposal names."""
    if topic_of(item) != "custody:CullingList.Proposed":
        return []
    return [str(v) for entry in field_of(item, "items") or []
            for v in (entry.get("record_id"), entry.get("copy_id")) if v]


def _is_list_event(item: FeedItem, list_ids: set[str]) -> bool:
    return (topic_of(item).startswith("custody:CullingList.")
            and str(item.event.originator_id) in list_ids)


@dataclass(frozen=True)
class SchoolYear:
    """The closing of school year ``year``, the culling list it proposed (with its
    approval, destructions and withdrawals) and the records they touched."""

    year: int

    @property
    def label(self) -> str:
        return f"the closing of school year {self.year - 1}/{str(self.year)[-2:]}"

    def choose(self, items: Sequence[FeedItem]) -> list[FeedItem]:
        def is_closing(item: FeedItem) -> bool:
            return (topic_of(item) == "custody:SchoolYear.Closed"
                    and field_of(item, "year") == self.year)

        lists = {str(field_of(item, "culling_list_id")) for item in items
                 if is_closing(item) and field_of(item, "culling_list_id")}

        def touched(item: FeedItem) -> list[str]:
            if is_closing(item):
                return [*(field_of(item, "transferred") or []),
                        *(field_of(item, "culled") or []),
                        *(field_of(item, "for_archivist") or []),
                        *(str(t.get("record_id")) for t in field_of(item, "transfers") or [])]
            return _list_touched(item)

        return Anchored(self.label,
                        lambda item: is_closing(item) or _is_list_event(item, lists),
                        touched).choose(items)


def school_year(year: int) -> SchoolYear:
    """The closing of school year ``year`` and what it touched (see :class:`SchoolYear`)."""
    return SchoolYear(year)


def culling_list(list_id: str) -> Anchored:
    """One culling list — proposed, approved or rejected, each item destroyed or withdrawn
    — and the whole chain of custody of every record on it."""
    return Anchored(f"culling list {list_id}",
                    lambda item: _is_list_event(item, {str(list_id)}), _list_touched)
