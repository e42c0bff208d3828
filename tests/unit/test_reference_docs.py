"""The HTTP and CLI reference (``docs/http-api.md``) is generated from the app's OpenAPI
schema and the CLI's help; a route, schema, command or error code changed without
regenerating it makes this test fail (``.venv/bin/python scripts/gen-api-docs.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_generated_reference_is_current() -> None:
    result = subprocess.run([sys.executable, "scripts/gen-api-docs.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        "docs/http-api.md is stale; run .venv/bin/python scripts/gen-api-docs.py\n"
        + result.stdout + result.stderr)
