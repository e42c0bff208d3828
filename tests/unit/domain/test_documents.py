"""A capture's documents: each field's rule once, in the domain, for every door."""

from __future__ import annotations

import hashlib

import pytest

from domain.documents import Document, check_pages, documentation_fingerprint
from domain.errors import InvalidInputError
from domain.fingerprints import Fingerprint

SHA = hashlib.sha256(b"IUP ht 2017").hexdigest()


def test_a_document_is_its_fields_checked_and_stripped() -> None:
    document = Document.of(" IUP ", " iup ", SHA, "3")
    assert document == Document("IUP", "iup", Fingerprint(SHA), 3)
    assert document.as_event() == {"title": "IUP", "category": "iup", "sha256": SHA,
                                   "pages": 3}


@pytest.mark.parametrize(("fields", "message", "field"), [
    (("", "iup", SHA, 1), "title is missing", "documents[2].title"),
    (("IUP", " ", SHA, 1), "category is missing", "documents[2].category"),
    (("IUP", "iup", "", 1), "sha256 is missing", "documents[2].sha256"),
    (("IUP", "iup", "x" * 64, 1), "sha256 must be 64 hexadecimal digits (a SHA-256 hash)",
     "documents[2].sha256"),
    (("IUP", "iup", SHA, 0), "pages must be a positive whole number, not 0",
     "documents[2].pages"),
    (("IUP", "iup", SHA, ""), "pages is missing", "documents[2].pages"),
])
def test_each_rule_names_its_field(fields: tuple[str, str, str, int | str], message: str,
                                   field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Document.of(*fields, where="documents[2]")
    assert str(caught.value) == message
    assert caught.value.field == field


@pytest.mark.parametrize("pages", ["-1", "1.5", "two", True])
def test_pages_are_a_positive_whole_number(pages: str | bool) -> None:
    with pytest.raises(InvalidInputError):
        check_pages(pages)


def test_the_fingerprint_of_documentation_ignores_their_order() -> None:
    a = Document.of("IUP", "iup", SHA, 1)
    b = Document.of("Lärlogg", "learning_log", "b" * 64, 2)
    joined = "\n".join(sorted([SHA, "b" * 64]))
    assert documentation_fingerprint([a, b]) == documentation_fingerprint([b, a])
    assert documentation_fingerprint([a, b]).hex == hashlib.sha256(joined.encode()).hexdigest()
