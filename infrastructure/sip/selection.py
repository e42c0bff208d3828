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


def school_year(year: int) -> ClosingOfYear:
    """The closing of school year ``year`` and the records it handed over or culled."""
    return ClosingOfYear(year)


@dataclass(frozen=True)
class ClosingOfYear:
    """A school year's closing, the culling list it proposed (with that list's approval
    and destructions), and every record they name. A closing stored before closings
    proposed lists names its culled copies itself (``culled``)."""

    year: int

    @property
    def label(self) -> str:
        return f"the closing of school year {self.year - 1}/{str(self.year)[-2:]}"

    def is_closing(self, item: FeedItem) -> bool:
        return (topic_of(item) == "custody:SchoolYear.Closed"
                and field_of(item, "year") == self.year)

    def choose(self, items: Sequence[FeedItem]) -> list[FeedItem]:
        lists = {str(field_of(item, "culling_list_id")) for item in items
                 if self.is_closing(item) and field_of(item, "culling_list_id")}

        def anchor(item: FeedItem) -> bool:
            return self.is_closing(item) or (
                topic_of(item).startswith("custody:CullingList.")
                and str(item.event.originator_id) in lists)

        return Anchored(self.label, anchor, _touched_by_closing).choose(items)


def _touched_by_closing(item: FeedItem) -> list[str]:
    topic = topic_of(item)
    if topic == "custody:SchoolYear.Closed":
        return [*field_of(item, "transferred"), *field_of(item, "culled"),
                *field_of(item, "for_archivist")]
    if topic == "custody:CullingList.Proposed":
        return [str(entry[name]) for entry in field_of(item, "items") or []
                for name in ("record_id", "copy_id") if entry.get(name)]
    if topic == "custody:CullingList.ItemDestroyed":
        return [str(field_of(item, "key")), str(field_of(item, "certificate_id"))]
    return []
