"""The E-ARK SIP through the doors a user takes: ``custody export --format sip`` and
``custody verify-sip`` as subprocesses, and ``GET /api/v1/export?format=sip``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infrastructure.sip.verify import verify_sip
from tests.e2e.conftest import Api
from tests.e2e.test_cli import ROOT, run
from tests.scenario import run_story


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    environment["CUSTODY_DATA_DIR"] = str(tmp_path / "var")
    return environment


def populate(env: dict[str, str]) -> str:
    """The seed story in the CLI's store; prints the C2SP verifier key of its signing key."""
    code = """
from infrastructure.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.scenario import run_story
rt = bootstrap(Settings())
run_story(rt)
rt.seal()
print(rt.keyring.all()[0].vkey)
rt.close()
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip().splitlines()[-1]


class TestCommandLine:
    def test_export_a_sip_and_verify_it_elsewhere_with_the_pinned_key(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        vkey = populate(env)
        package = tmp_path / "deposit.zip"
        written = run(env, "export", "--format", "sip", str(package))
        assert "E-ARK SIP urn:uuid:" in written.stdout
        elsewhere = {**env, "CUSTODY_DATA_DIR": str(tmp_path / "archive-machine")}
        checked = run(elsewhere, "verify-sip", str(package), "--vkey", vkey)
        assert "package holds" in checked.stdout
        with zipfile.ZipFile(package) as archive:
            (name,) = [n for n in archive.namelist() if n.endswith("custody-bundle.json.gz")]
            bundle = tmp_path / "taken-out.json.gz"
            bundle.write_bytes(archive.read(name))
        verified = run(elsewhere, "verify", "--bundle", str(bundle), "--vkey", vkey)
        assert "intact" in verified.stdout
        assert not (tmp_path / "archive-machine" / "events.sqlite").exists()

    def test_verify_sip_names_the_changed_file_and_exits_1(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        populate(env)
        package = tmp_path / "sip"
        run(env, "export", "--format", "sip", str(package))
        dc = package / "metadata" / "descriptive" / "dc.xml"
        dc.write_text(dc.read_text().replace("Barn- och", "Barn och"))
        result = run(env, "verify-sip", str(package), check=False)
        assert result.returncode == 1
        assert ("metadata/descriptive/dc.xml: SHA-256 differs from METS: the file was "
                "changed") in result.stdout

    def test_a_school_year_needs_the_sip_format(self, env: dict[str, str],
                                                tmp_path: Path) -> None:
        populate(env)
        result = run(env, "export", "--school-year", "2018", str(tmp_path / "b.json"),
                     check=False)
        assert result.returncode == 2 and "--format sip" in result.stderr


class TestHttp:
    def test_an_archivist_downloads_a_valid_sip(self, api: Api, tmp_path: Path) -> None:
        story = run_story(api.client.app.state.runtime)  # type: ignore[attr-defined]
        token = story.staff.tokens["archivist"]
        response = api.client.get("/api/v1/export", params={"format": "sip"},
                                  headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert 'filename="custody-sip.zip"' in response.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            names = archive.namelist()
        assert any(n.endswith("/METS.xml") and n.count("/") == 1 for n in names)
        path = tmp_path / "download.zip"
        path.write_bytes(response.content)
        assert verify_sip(path).ok

    def test_a_school_year_sip_and_the_refusals(self, api: Api) -> None:
        story = run_story(api.client.app.state.runtime)  # type: ignore[attr-defined]
        archivist = {"Authorization": f"Bearer {story.staff.tokens['archivist']}"}
        teacher = {"Authorization": f"Bearer {story.staff.tokens['teacher']}"}
        year = api.client.get("/api/v1/export", params={"format": "sip", "school_year": 2018},
                              headers=archivist)
        assert year.status_code == 200
        assert 'filename="custody-sip-2018.zip"' in year.headers["content-disposition"]
        refused = api.client.get("/api/v1/export", params={"format": "sip"}, headers=teacher)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        bad = api.client.get("/api/v1/export", params={"format": "tar"}, headers=archivist)
        assert bad.status_code == 422
        bundle_with_year = api.client.get("/api/v1/export", params={"school_year": 2018},
                                          headers=archivist)
        assert bundle_with_year.status_code == 422
        assert json.loads(bundle_with_year.text)["errors"]
