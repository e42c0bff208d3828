"""The `custody` command line as a user runs it: a subprocess with CUSTODY_* settings."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CUSTODY = [sys.executable, "-m", "api.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*CUSTODY, *args], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"custody {' '.join(args)} -> {result.returncode}\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def bare_env(tmp_path: Path) -> dict[str, str]:
    """A data dir with no store in it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CUSTODY_")}
    environment["CUSTODY_DATA_DIR"] = str(tmp_path / "var")
    return environment


@pytest.fixture
def env(bare_env: dict[str, str]) -> dict[str, str]:
    """A data dir with a store made by ``custody init``."""
    run(bare_env, "init")
    return bare_env


class TestSetUpCommands:
    def test_schools_and_actors_are_registered_and_the_token_is_the_last_line(
        self, env: dict[str, str]
    ) -> None:
        run(env, "schools", "add", "holmes", "Holmesskolan")
        result = run(env, "actors", "add", "Arne Arkivarie", "--role", "archivist")
        token = result.stdout.strip().splitlines()[-1]
        assert len(token) >= 43 and " " not in token
        key = Path(env["CUSTODY_DATA_DIR"]) / "signing-key.pem"
        assert key.exists() and (key.stat().st_mode & 0o777) == 0o600

    def test_bad_input_gets_a_clear_message_and_exit_2(self, env: dict[str, str]) -> None:
        run(env, "schools", "add", "holmes", "Holmesskolan")
        again = run(env, "schools", "add", "holmes", "Holmesskolan", check=False)
        assert again.returncode == 2 and "exists already" in again.stderr
        bad_role = run(env, "actors", "add", "X", "--role", "janitor", check=False)
        assert bad_role.returncode == 2 and "role 'janitor' does not exist" in bad_role.stderr


class TestVerifyExportAndCertificates:
    def _populate(self, env: dict[str, str]) -> str:
        """A small store made through the application, as `make run` would hold it."""
        code = """
import sys
from infrastructure.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.scenario import run_story
rt = bootstrap(Settings())
story = run_story(rt)
rt.seal()
print(story.certificates[0])
rt.close()
"""
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=120, check=True)
        return out.stdout.strip().splitlines()[-1]

    def test_verify_is_clean_then_names_the_tampered_event(self, env: dict[str, str]) -> None:
        self._populate(env)
        clean = run(env, "verify")
        assert clean.returncode == 0 and "intact" in clean.stdout
        db = sqlite3.connect(Path(env["CUSTODY_DATA_DIR"]) / "events.sqlite")
        rowid, rid, version, state = db.execute(
            "SELECT rowid, originator_id, originator_version, state FROM stored_events "
            "ORDER BY rowid LIMIT 1 OFFSET 40").fetchone()
        db.execute("UPDATE stored_events SET state=? WHERE rowid=?",
                   (state[:-1] + bytes([state[-1] ^ 1]), rowid))
        db.commit()
        db.close()
        broken = run(env, "verify", check=False)
        assert broken.returncode == 1
        assert f"seq={rowid} record={rid} version={version}: signature does not verify" in (
            broken.stdout)

    def test_export_then_verify_the_bundle_elsewhere(self, env: dict[str, str],
                                                    tmp_path: Path) -> None:
        self._populate(env)
        bundle = tmp_path / "bundle.json.gz"
        run(env, "export", str(bundle))
        elsewhere = {k: v for k, v in env.items() if k != "CUSTODY_DATA_DIR"}
        elsewhere["CUSTODY_DATA_DIR"] = str(tmp_path / "auditor-machine")
        result = run(elsewhere, "verify", "--bundle", str(bundle))
        assert "intact" in result.stdout
        assert not (tmp_path / "auditor-machine" / "events.sqlite").exists()

    def test_after_keys_rotate_a_bundle_verifies_with_only_the_old_vkey(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        self._populate(env)
        old_vkey = run(env, "keys", "list").stdout.split()[2]
        rotated = run(env, "keys", "rotate")
        assert "successor" in rotated.stdout
        run(env, "schools", "add", "later", "Skolan efter bytet")  # signed by the new key
        assert run(env, "keys", "list").stdout.count("retired") == 1
        bundle = tmp_path / "bundle.json.gz"
        run(env, "export", str(bundle))
        elsewhere = {k: v for k, v in env.items() if k != "CUSTODY_DATA_DIR"}
        elsewhere["CUSTODY_DATA_DIR"] = str(tmp_path / "auditor-machine")
        result = run(elsewhere, "verify", "--bundle", str(bundle), "--vkey", old_vkey)
        assert "intact" in result.stdout, result.stdout
        assert "successor" in result.stdout + result.stderr

    def test_certificate_verifies_offline_with_the_public_keys(self, env: dict[str, str],
                                                              tmp_path: Path) -> None:
        certificate_id = self._populate(env)
        cert = tmp_path / "gallringsbevis.json"
        run(env, "certificate", certificate_id, "--out", str(cert))
        keys = run(env, "keys", "list").stdout.split()
        vkey = next(word for word in keys if word.startswith("records-custody+"))
        assert run(env, "verify-certificate", str(cert), "--vkey", vkey).returncode == 0
        text = cert.read_text().replace('"point": 4', '"point": 3')
        cert.write_text(text)
        assert run(env, "verify-certificate", str(cert), "--vkey", vkey,
                   check=False).returncode == 1

    def test_proofs_from_the_command_line(self, env: dict[str, str]) -> None:
        self._populate(env)
        inclusion = json.loads(run(env, "proof", "inclusion", "3").stdout)
        assert inclusion["leaf_index"] == 2
        consistency = json.loads(run(env, "proof", "consistency", "5", "20").stdout)
        assert consistency["first"] == 5 and consistency["hashes"]
        assert run(env, "proof", "inclusion", "99999", check=False).returncode == 1


class TestDemo:
    def test_demo_runs_the_seed_story_and_verifies_clean(self, bare_env: dict[str, str]) -> None:
        env = bare_env
        result = run(env, "demo")
        assert "Hyllförteckning (arkivet)" in result.stdout
        assert "60 arkivexemplar i personnummerordning" in result.stdout
        assert "intakt:" in result.stdout and "inga fel" in result.stdout
        assert not Path(env["CUSTODY_DATA_DIR"]).exists()  # a temporary store, not yours


class TestStoreAndStaffCommands:
    def test_version_is_printed(self, bare_env: dict[str, str]) -> None:
        result = run(bare_env, "--version")
        assert result.stdout.strip().startswith("custody 0.")

    @pytest.mark.parametrize("args", [
        ("actors", "add", "Ada Admin", "--role", "admin"), ("actors", "list"),
        ("actors", "revoke", "4b8f3c1e-2a55-4c2e-9a43-0c4d2b1e7f10"), ("schools", "list"),
        ("schools", "add", "holmes", "Holmesskolan"), ("verify",), ("keys", "list"),
        ("projections", "rebuild"),
    ])
    def test_a_command_on_a_data_dir_without_a_store_exits_2_naming_where_it_looked(
            self, bare_env: dict[str, str], args: tuple[str, ...]) -> None:
        result = run(bare_env, *args, check=False)
        data_dir = Path(bare_env["CUSTODY_DATA_DIR"])
        assert result.returncode == 2, result.stderr
        assert "no store in" in result.stderr and "custody init" in result.stderr
        assert str(data_dir.resolve()) in result.stderr.replace("\n", "")
        assert not (data_dir / "master.key").exists()
        assert not (data_dir / "signing-key.pem").exists()

    def test_init_creates_a_store_once_and_keeps_it(self, bare_env: dict[str, str]) -> None:
        first = run(bare_env, "init")
        assert "store created" in first.stdout
        key = Path(bare_env["CUSTODY_DATA_DIR"]) / "master.key"
        secret = key.read_bytes()
        second = run(bare_env, "init")
        assert "exists already" in second.stdout
        assert key.read_bytes() == secret

    def test_schools_list_names_each_school_unit(self, env: dict[str, str]) -> None:
        run(env, "schools", "add", "holmes", "Holmesskolan")
        run(env, "schools", "add", "fryken", "Frykenskolorna")
        assert run(env, "schools", "list").stdout.splitlines() == [
            "fryken\tFrykenskolorna", "holmes\tHolmesskolan"]

    def test_actors_list_then_revoke_ends_the_staff_members_tokens(
            self, env: dict[str, str]) -> None:
        run(env, "schools", "add", "holmes", "Holmesskolan")
        added = run(env, "actors", "add", "Tove Lärare", "--role", "teacher",
                    "--school", "holmes")
        token = added.stdout.strip().splitlines()[-1]
        listed = run(env, "actors", "list").stdout.splitlines()
        assert len(listed) == 1
        actor_id, role, school, state, name = listed[0].split("\t")
        assert (role, school, state, name) == ("teacher", "holmes", "active", "Tove Lärare")
        assert "revoked" in run(env, "actors", "revoke", actor_id).stdout
        assert run(env, "actors", "list").stdout.split("\t")[3] == "revoked"
        assert "already" in run(env, "actors", "revoke", actor_id).stdout
        check = ("import sys\nfrom infrastructure.bootstrap import bootstrap\n"
                 "from infrastructure.settings import Settings\n"
                 "rt = bootstrap(Settings())\n"
                 "try:\n    rt.custody.authenticate(sys.argv[1])\nexcept Exception as e:\n"
                 "    print(type(e).__name__)\nfinally:\n    rt.close()\n")
        refused = subprocess.run([sys.executable, "-c", check, token], env=env, cwd=ROOT,
                                 capture_output=True, text=True, timeout=60, check=True)
        assert refused.stdout.strip() == "NotAuthenticatedError"

    def test_revoking_an_unknown_or_malformed_id_exits_2(self, env: dict[str, str]) -> None:
        assert run(env, "actors", "revoke", "nobody", check=False).returncode == 2
        unknown = run(env, "actors", "revoke", "4b8f3c1e-2a55-4c2e-9a43-0c4d2b1e7f10",
                      check=False)
        assert unknown.returncode == 2 and "does not exist" in unknown.stderr
