"""Server-side paging and sorting of the web's lists.

Every list page shows at most :data:`PAGE_SIZE` rows and links to the others, keeping the
search and filters in the links. Pure: takes rows the application already allowed.

May import the standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")
PAGE_SIZE: Final = 100


@dataclass(frozen=True)
class Paged(Generic[T]):
    items: list[T]
    number: int
    """This page, from 1."""
    pages: int
    total: int
    size: int
    params: tuple[tuple[str, str], ...]
    """The search and filters, kept in every page link."""

    @property
    def first_index(self) -> int:
        """The running number of this page's first row (from 1)."""
        return (self.number - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.items) - 1

    def link(self, number: int) -> str:
        query = [*self.params, ("sida", str(number))] if number > 1 else list(self.params)
        return "?" + urlencode(query) if query else "?"

    def window(self) -> list[int | None]:
        """Page numbers to link: first, last and the two either side (None: a gap)."""
        shown = sorted({1, self.pages, *range(max(1, self.number - 2),
                                             min(self.pages, self.number + 2) + 1)})
        out: list[int | None] = []
        for number in shown:
            if out and isinstance(out[-1], int) and number - out[-1] > 1:
                out.append(None)
            out.append(number)
        return out


def page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or "1"))
    except ValueError:
        return 1


def paginate(rows: Sequence[T], raw_page: str | None, params: Mapping[str, str | None],
             size: int = PAGE_SIZE) -> Paged[T]:
    total = len(rows)
    pages = max(1, -(-total // size))
    number = min(page_number(raw_page), pages)
    start = (number - 1) * size
    kept = tuple((k, v) for k, v in params.items() if v)
    return Paged(list(rows[start:start + size]), number, pages, total, size, kept)


def sort_rows(rows: list[T], key: str | None, keys: Mapping[str, Callable[[T], Any]],
              default: str) -> tuple[list[T], str]:
    """Rows sorted by a named column (``-name`` descending); an unknown name → default."""
    chosen = key if key and key.lstrip("-") in keys else default
    reverse = chosen.startswith("-")
    return sorted(rows, key=keys[chosen.lstrip("-")], reverse=reverse), chosen
