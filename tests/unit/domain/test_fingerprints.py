"""One definition of a document fingerprint, shared by the API, capture and import."""

from __future__ import annotations

import hashlib
import re

import pytest

from api.schemas import DocumentIn as DocumentSchema
from domain.errors import InvalidInputError
from domain.fingerprints import SHA256_PATTERN, Fingerprint, is_sha256


def test_a_sha256sum_is_a_fingerprint() -> None:
    assert is_sha256(hashlib.sha256(b"IUP").hexdigest())


@pytest.mark.parametrize("value", ["", "a" * 63, "a" * 65, "A" * 64, "g" * 64, "a" * 64 + "\n"])
def test_anything_else_is_not(value: str) -> None:
    assert not is_sha256(value)


def test_the_api_schema_uses_the_same_pattern() -> None:
    schema = DocumentSchema.model_json_schema()
    assert schema["properties"]["sha256"]["pattern"] == SHA256_PATTERN
    assert re.fullmatch(SHA256_PATTERN, "b" * 64)


class TestFingerprint:
    def test_parses_a_sha256sum(self) -> None:
        digest = hashlib.sha256(b"IUP").hexdigest()
        assert str(Fingerprint.parse(digest)) == digest

    @pytest.mark.parametrize(("value", "message"), [
        ("", "sha256 is missing"),
        ("A" * 64, "sha256 must be 64 hexadecimal digits (a SHA-256 hash)"),
        ("a" * 63, "sha256 must be 64 hexadecimal digits (a SHA-256 hash)"),
    ])
    def test_says_what_is_wrong_on_the_field_given(self, value: str, message: str) -> None:
        with pytest.raises(InvalidInputError) as caught:
            Fingerprint.parse(value, field="documents[1].sha256")
        assert str(caught.value) == message
        assert caught.value.field == "documents[1].sha256"

    def test_cannot_be_built_around_the_rule(self) -> None:
        with pytest.raises(InvalidInputError):
            Fingerprint("not a hash")
