"""What a document's fingerprint looks like: a SHA-256 as 64 lower-case hex digits.

One definition for every door that accepts one (the API's schemas, a single capture,
the inventory import), so they cannot drift apart. Pure; imports nothing.
"""

from __future__ import annotations

import re
from typing import Final

SHA256_PATTERN: Final = r"^[0-9a-f]{64}$"
"""The JSON-schema pattern of a fingerprint (lower case: ``sha256sum`` writes it so)."""

_SHA256: Final = re.compile(SHA256_PATTERN)


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a SHA-256 written as 64 lower-case hex digits."""
    return _SHA256.fullmatch(value) is not None
