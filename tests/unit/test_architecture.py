"""The layers hold: the import-linter contracts in ``pyproject.toml`` (domain ←
application ← infrastructure; api reaches infrastructure only through the composition
root) are kept, as ``make lint`` checks them too."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_benchmarks_do_not_import_the_test_suite() -> None:
    offending = [f"{path.relative_to(ROOT)}: {line.strip()}"
                 for path in sorted((ROOT / "bench").glob("*.py"))
                 for line in path.read_text(encoding="utf-8").splitlines()
                 if re.match(r"\s*(from|import)\s+tests\b", line)]
    assert offending == []
