"""The documents a capture takes from Unikum, checked once for every door.

The API, the inventory import and the demo all hand capture the same value objects:
a :class:`Document` per document (title, category, :class:`Fingerprint`, pages). Each
field's rule is one function here, raising :class:`InvalidInputError` with the message
the import reports per row and the web pages translate; ``where`` prefixes the field
(``documents[2]``) for the API's problem bodies.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from domain.errors import InvalidInputError
from domain.fingerprints import Fingerprint

_POSITIVE: Final = re.compile(r"[0-9]+")


def _field(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def check_title(title: str, *, where: str = "") -> str:
    title = title.strip()
    if not title:
        raise InvalidInputError("title is missing", field=_field(where, "title")).with_code(
            "title_missing")
    return title


def check_category(category: str, *, where: str = "") -> str:
    category = category.strip()
    if not category:
        raise InvalidInputError("category is missing",
                                field=_field(where, "category")).with_code("category_missing")
    return category


def check_pages(pages: int | str, *, where: str = "") -> int:
    """A positive whole number of pages (a file's text or the API's number)."""
    if isinstance(pages, str):
        text = pages.strip()
        if not text:
            raise InvalidInputError("pages is missing", field=_field(where, "pages")).with_code(
                "pages_missing")
        if _POSITIVE.fullmatch(text) and int(text) > 0:
            return int(text)
    elif not isinstance(pages, bool) and pages > 0:
        return pages
    raise InvalidInputError(f"pages must be a positive whole number, not {pages!r}",
                            field=_field(where, "pages")).with_code("pages_invalid")


@dataclass(frozen=True, slots=True)
class Document:
    """One checked document of a student's documentation."""

    title: str
    category: str
    sha256: Fingerprint
    pages: int

    @classmethod
    def of(cls, title: str, category: str, sha256: str | Fingerprint, pages: int | str,
           *, where: str = "") -> Document:
        """Check every field (in the order the import reports them) and build one."""
        return cls(
            check_title(title, where=where),
            check_category(category, where=where),
            sha256 if isinstance(sha256, Fingerprint)
            else Fingerprint.parse(sha256, field=_field(where, "sha256")),
            check_pages(pages, where=where),
        )

    def as_event(self) -> dict[str, Any]:
        return {"title": self.title, "category": self.category, "sha256": self.sha256.hex,
                "pages": self.pages}


def require_documents(documents: Sequence[Document]) -> None:
    if not documents:
        raise InvalidInputError("student documentation needs at least one document",
                                field="documents")


def documentation_fingerprint(documents: Sequence[Document]) -> Fingerprint:
    """One hash over every document's hash: the capture's fingerprint of what was taken
    (the same for the same documents in any order)."""
    joined = "\n".join(sorted(d.sha256.hex for d in documents))
    return Fingerprint(hashlib.sha256(joined.encode()).hexdigest())
