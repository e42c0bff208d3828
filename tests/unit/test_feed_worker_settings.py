"""CUSTODY_REBUILD_WORKERS and CUSTODY_REBUILD_POOL: defaults, and refusal of nonsense."""

from __future__ import annotations

import os

import pytest

from infrastructure.feed_workers import DEFAULT_POOL, configured_pool, configured_workers


def test_defaults_are_the_cpu_count_and_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUSTODY_REBUILD_WORKERS", raising=False)
    monkeypatch.delenv("CUSTODY_REBUILD_POOL", raising=False)
    assert configured_workers() == (os.cpu_count() or 1)
    assert configured_pool() == DEFAULT_POOL == "thread"


@pytest.mark.parametrize(("text", "workers"), [("0", 0), ("1", 1), (" 3 ", 3), ("-2", 0)])
def test_workers_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, text: str,
                                               workers: int) -> None:
    monkeypatch.setenv("CUSTODY_REBUILD_WORKERS", text)
    assert configured_workers() == workers


def test_nonsense_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTODY_REBUILD_WORKERS", "many")
    with pytest.raises(ValueError, match="CUSTODY_REBUILD_WORKERS"):
        configured_workers()
    monkeypatch.setenv("CUSTODY_REBUILD_POOL", "fibres")
    with pytest.raises(ValueError, match="CUSTODY_REBUILD_POOL"):
        configured_pool()
    monkeypatch.setenv("CUSTODY_REBUILD_POOL", "Process")
    assert configured_pool() == "process"
