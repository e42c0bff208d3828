"""One definition of a document fingerprint, shared by the API, capture and import."""

from __future__ import annotations

import hashlib
import re

import pytest

from api.schemas import DocumentIn as DocumentSchema
from domain.fingerprints import SHA256_PATTERN, is_sha256


def test_a_sha256sum_is_a_fingerprint() -> None:
    assert is_sha256(hashlib.sha256(b"IUP").hexdigest())


@pytest.mark.parametrize("value", ["", "a" * 63, "a" * 65, "A" * 64, "g" * 64, "a" * 64 + "\n"])
def test_anything_else_is_not(value: str) -> None:
    assert not is_sha256(value)


def test_the_api_schema_uses_the_same_pattern() -> None:
    schema = DocumentSchema.model_json_schema()
    assert schema["properties"]["sha256"]["pattern"] == SHA256_PATTERN
    assert re.fullmatch(SHA256_PATTERN, "b" * 64)
