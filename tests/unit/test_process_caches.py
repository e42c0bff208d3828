"""Guard: every in-process cache is known, and says why it cannot outlive a revocation or
a cull in another instance sharing the database (see ``infrastructure/invalidation.py``).
A new cache fails this test until it is reviewed and listed here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "application", "infrastructure", "api")
CACHE = re.compile(r"lru_cache|functools import cache|^\s*@cache\b|\b_cache\b|self\._actors\b"
                   r"|\._verified\b", re.M)

REVIEWED = {
    "infrastructure/subject_keys.py":
        "unwrapped data keys: evicted by NOTIFY custody_invalidate (PostgreSQL) or the "
        "vaults of the process on one file (SQLite) when a key is destroyed",
    "infrastructure/signed_events.py":
        "signature verifications by (key id, signature, hash): facts that never change",
    "application/service.py":
        "staff members' events already read: newer ones are read on every call, so a "
        "withdrawal or revocation elsewhere holds at once",
    "api/web/barcodes.py": "Code 128 images of box names: pure function of the text",
    "infrastructure/sip/verify.py": "the vendored XML schemas: files in the repository",
}


def test_every_in_process_cache_is_reviewed() -> None:
    found = set()
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            if CACHE.search(path.read_text(encoding="utf-8")):
                found.add(path.relative_to(ROOT).as_posix())
    assert found - set(REVIEWED) == set(), "a new in-process cache: review it (see docstring)"
    assert set(REVIEWED) - found == set(), "a reviewed cache is gone: drop it from the list"
