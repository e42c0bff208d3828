"""`custody import` killed with SIGKILL at random moments, then re-run, ends exactly
where an uninterrupted import ends: nothing lost, nothing doubled, no half student."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from api.demo import inventory_csv, synthetic_students
from infrastructure.audit import verify_live
from infrastructure.bootstrap import bootstrap
from infrastructure.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "api.cli"]


def environment(data_dir: Path, settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    env["CUSTODY_DATA_DIR"] = str(data_dir)
    if settings.database_url:
        env["CUSTODY_DATABASE_URL"] = settings.database_url
        env["CUSTODY_DATABASE_SCHEMA"] = settings.database_schema
    return env


def prepare(env: dict[str, str]) -> None:
    subprocess.run([*CLI, "init"], env=env, cwd=ROOT, check=True, capture_output=True,
                   timeout=60)
    for code, name in (("holmes", "Holmesskolan"), ("kvistberg", "Kvistbergsskolan"),
                       ("fryken", "Frykenskolorna")):
        subprocess.run([*CLI, "schools", "add", code, name], env=env, cwd=ROOT, check=True,
                       capture_output=True, timeout=60)


def snapshot(settings: Settings) -> dict[str, Any]:
    """What the import should have produced, free of timestamps and seq numbers."""
    rt = bootstrap(settings)
    try:
        rt.queries.fresh()
        records = {}
        for doc in rt.views.all("records"):
            records[doc["id"]] = (doc["kind"], doc["school_id"], doc["document_count"],
                                  doc["fingerprint"], repr(doc["personal"]), doc["version"])
        report = verify_live(rt, workers=1)
        return {"records": records, "events": report.events,
                "faults": [f.line() for f in report.faults]}
    finally:
        rt.close()


@pytest.mark.slow
def test_killed_imports_resume_to_the_same_views(settings: Settings, tmp_path: Path,
                                                 pg_url: str, backend: str) -> None:
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(inventory_csv(synthetic_students(4000), documents=2))
    interrupted_dir = settings.data_dir
    interrupted = environment(interrupted_dir, settings)
    prepare(interrupted)
    # The uninterrupted run shares the master key, so record ids (a keyed blind index)
    # and hence the views are comparable.
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    shutil.copy(interrupted_dir / "master.key", reference_dir / "master.key")
    if settings.database_url:
        from tests.conftest import new_schema

        reference_settings = Settings(data_dir=reference_dir, database_url=pg_url,
                                      database_schema=new_schema(pg_url))
    else:
        reference_settings = Settings(data_dir=reference_dir)
    reference = environment(reference_dir, reference_settings)
    prepare(reference)
    started = time.monotonic()
    subprocess.run([*CLI, "import", str(inventory), "--batch-size", "25"], env=reference,
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    duration = time.monotonic() - started

    rng = random.Random(20181231)
    kills = 0
    for _ in range(4):
        process = subprocess.Popen([*CLI, "import", str(inventory), "--batch-size", "25"],
                                   env=interrupted, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        # Somewhere between start-up and the end of what is left to do.
        time.sleep(rng.uniform(0.25, 0.75) * duration)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
    final = subprocess.run([*CLI, "import", str(inventory), "--batch-size", "25"],
                           env=interrupted, cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr
    assert kills >= 1, "the import finished before any kill: make the inventory larger"

    expected = snapshot(reference_settings)
    actual = snapshot(settings)
    assert len(actual["records"]) == 4000
    assert actual["records"] == expected["records"]
    assert actual["events"] == expected["events"]
    assert actual["faults"] == [] and expected["faults"] == []
