"""A document's fingerprint: a SHA-256 written as 64 lower-case hex digits.

One definition for every door that accepts one (the API's schemas, a single capture,
the inventory import), so they cannot drift apart: :data:`SHA256_PATTERN` for schemas,
:class:`Fingerprint` for everything else. Pure: imports only the domain's errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from domain.errors import InvalidInputError

SHA256_PATTERN: Final = r"^[0-9a-f]{64}$"
"""The JSON-schema pattern of a fingerprint (lower case: ``sha256sum`` writes it so)."""

_SHA256: Final = re.compile(SHA256_PATTERN)


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a SHA-256 written as 64 lower-case hex digits."""
    return _SHA256.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A checked SHA-256 (64 lower-case hex digits); ``str()`` gives the digits."""

    hex: str

    def __post_init__(self) -> None:
        if not isinstance(self.hex, str) or not is_sha256(self.hex):
            raise InvalidInputError("sha256 must be 64 hexadecimal digits (a SHA-256 hash)",
                                    field="sha256").with_code("sha256_invalid")

    @classmethod
    def parse(cls, value: str, *, field: str = "sha256") -> Fingerprint:
        """The fingerprint written in ``value``; :class:`InvalidInputError` (on ``field``)
        saying whether it is missing or malformed."""
        if not value:
            raise InvalidInputError("sha256 is missing", field=field).with_code("sha256_missing")
        if not is_sha256(value):
            raise InvalidInputError("sha256 must be 64 hexadecimal digits (a SHA-256 hash)",
                                    field=field).with_code("sha256_invalid")
        return cls(value)

    def __str__(self) -> str:
        return self.hex
