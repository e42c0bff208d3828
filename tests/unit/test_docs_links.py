"""The documentation travels with the repository: every relative link in README.md and
docs/*.md leads to a file or directory inside it, and nothing cites a file outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# [text](target) — the target up to a space, a closing parenthesis or a #fragment.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s#]+)(?:#[^)\s]*)?(?:\s+\"[^\"]*\")?\)")
OUTSIDE = re.compile(r"\.\./shared|/work/shared|\b(?:API|NOTES|DOMAIN|STYLE)\.md\b")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]


def relative_links(text: str) -> list[str]:
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def test_the_readme_and_the_docs_exist() -> None:
    assert (ROOT / "README.md").is_file()
    assert {p.name for p in documents()} >= {
        "README.md", "domain.md", "http-api.md", "operations.md", "csv-format.md"}


def test_every_relative_link_resolves_inside_the_repository() -> None:
    broken = []
    for doc in documents():
        for target in relative_links(doc.read_text(encoding="utf-8")):
            resolved = (doc.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert broken == []


def test_no_document_or_module_cites_a_file_outside_the_repository() -> None:
    cited = []
    sources = [*documents(), *ROOT.glob("tests/**/*.py"),
               *(p for layer in ("domain", "application", "infrastructure", "api", "bench")
                 for p in (ROOT / layer).glob("**/*.py"))]
    for path in sources:
        if path == Path(__file__).resolve():
            continue
        if OUTSIDE.search(path.read_text(encoding="utf-8")):
            cited.append(str(path.relative_to(ROOT)))
    assert cited == []


def test_the_link_pattern_finds_relative_links_and_skips_urls() -> None:
    text = "[a](docs/domain.md) [b](https://example.org/x) [c](ops.md#backup) [d](mailto:x@y)"
    assert relative_links(text) == ["docs/domain.md", "ops.md"]
