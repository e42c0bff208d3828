"""Hardening found in review: trust anchors for bundles, shredding seen by every process,
no personal data in logs, transient faults are not forgery, re-imports never change a
captured student, keys rotated elsewhere are picked up."""

from __future__ import annotations

import base64
import json
import logging
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.importing import command_line_archivist, import_inventory
from application.policy import Principal
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.bundle import verify_bundle, write_bundle
from infrastructure.keys import key_id, vkey
from infrastructure.settings import Settings
from infrastructure.signed_events import GENESIS, Envelope, signing_input
from infrastructure.transparency.checkpoint import sign_checkpoint
from infrastructure.transparency.log import roots_from_leaves
from infrastructure.verification import verify_rows
from tests.factories import cull_through_list, pnr, sha
from tests.scenario import run_story


def forged_bundle(rt: Runtime, path: Path) -> None:
    """Append an event signed with a stranger's key, add that key and a checkpoint."""
    bundle = json.loads(path.read_text())
    stranger = Ed25519PrivateKey.generate()
    name = rt.settings.log_origin
    kid = key_id(name, stranger.public_key())
    seq = bundle["events"][-1][0] + 1
    payload = (b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-01-01T00:00:00+00:00"},'
               b'"originator_topic":"custody:SchoolUnit","actor":"system:cli","code":"evil",'
               b'"name":"Evil"}')
    rid = "f" * 32
    message = signing_input(rid, 1, "custody:SchoolUnit.Registered", kid, GENESIS, payload)
    state = Envelope(kid, GENESIS, stranger.sign(message), payload).encode()
    bundle["events"].append([seq, rid, 1, "custody:SchoolUnit.Registered",
                             base64.b64encode(state).decode()])
    from cryptography.hazmat.primitives import serialization

    pem = stranger.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    bundle["public_keys"].append({"key_id": kid, "name": name, "public_key_pem": pem,
                                  "active": False})
    rows = [(int(s), r, int(v), t, base64.b64decode(b)) for s, r, v, t, b in bundle["events"]]
    keys = {**rt.keyring.raw(), kid: stranger.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)}
    tree = roots_from_leaves(verify_rows(rows, keys, workers=1).leaves)
    bundle["checkpoints"].append(sign_checkpoint(name, tree.size(), tree.root(),
                                                 [(name, stranger)]))
    path.write_text(json.dumps(bundle))


class TestBundleTrustAnchors:
    def test_events_signed_by_a_key_the_auditor_does_not_trust_are_faults(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        run_story(runtime)
        path = tmp_path / "bundle.json"
        write_bundle(runtime, path)
        trusted_checkpoint = tmp_path / "trusted.txt"
        trusted_checkpoint.write_text(runtime.log.latest_checkpoint() or "")
        forged_bundle(runtime, path)
        pinned = verify_bundle(path, trusted_checkpoints=[trusted_checkpoint],
                               trusted_keys=[k.vkey for k in runtime.keyring.all()], workers=1)
        assert any("unknown key" in f.problem for f in pinned.faults), pinned.faults
        unpinned = verify_bundle(path, workers=1)
        assert any("unanchored" in note for note in unpinned.notes)


class TestShreddingIsSeenByEveryProcess:
    def test_a_cull_in_one_process_blanks_the_data_in_another(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        other = bootstrap(runtime.settings)  # the server, while the CLI culls
        try:
            dana = story.records["Dana Fors"]
            copy_id = story.school_copies["Dana Fors"]
            assert other.custody.record(dana).copies[copy_id].contents is not None
            c = runtime.custody
            personal = c.record(dana).personal
            assert personal is not None
            c.record_departure(story.staff.custodians["fryken"], personal["personnummer"],
                               reason="finished_compulsory_school", to_school_id=None,
                               date="2018-06-15")
            cull_through_list(runtime, story.staff, dana, copy_id, "fryken")
            time.sleep(other.vault.CACHE_SECONDS + 0.1)
            assert other.custody.record(dana).copies[copy_id].contents is None
        finally:
            other.close()


class TestNoPersonalDataInLogs:
    def test_the_access_log_names_routes_not_personnummer(
        self, runtime: Runtime, caplog: pytest.LogCaptureFixture
    ) -> None:
        from fastapi.testclient import TestClient

        from api.app import create_app

        _, token = runtime.custody.register_actor(Principal.system(), "Ada", "admin", None)
        personnummer = pnr(2004, 2, 3, 456)
        with TestClient(create_app(runtime=runtime)) as client, caplog.at_level(
                logging.INFO, logger="custody.access"):
            client.delete(f"/api/v1/actors/{'0' * 32}/assignments/{personnummer}",
                          headers={"Authorization": f"Bearer {token}"})
        lines = [json.dumps(r.__dict__, default=str) for r in caplog.records]
        assert lines and not any(personnummer in line for line in lines)
        assert any("{personnummer}" in line for line in lines)


class TestTransientFaultsAreNotForgery:
    def test_a_database_hiccup_does_not_stop_the_views(self, runtime: Runtime) -> None:
        import sqlite3

        run_story(runtime)
        runtime.views.reset()
        feed = runtime.runner.feed
        original = feed.read
        calls = {"n": 0}

        def flaky(after: int, limit: int):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] == 1:
                raise sqlite3.OperationalError("database is locked")
            return original(after, limit)

        feed.read = flaky  # type: ignore[method-assign]
        with pytest.raises(sqlite3.OperationalError):
            runtime.runner.catch_up()
        assert runtime.runner.error is None
        runtime.runner.catch_up()
        assert runtime.views.position() == runtime.custody.recorder.max_notification_id()


class TestReimports:
    def test_a_captured_student_with_other_documents_is_rejected_not_changed(
        self, runtime: Runtime
    ) -> None:
        runtime.custody.register_school(Principal.system(), "holmes", "Holmesskolan")
        header = "kind,personnummer,name,school_id,class,title,category,sha256,pages\n"
        who = pnr(2006, 6, 6, 606)
        first = f"student_documentation,{who},Ida Ek,holmes,7A,IUP,iup,{sha('a')},2\n"
        second = f"student_documentation,{who},Ida Ek,holmes,7A,Omdöme,assessment,{sha('b')},1\n"
        archivist = command_line_archivist()
        assert import_inventory(runtime.custody, archivist, header + first).captured == 1
        again = import_inventory(runtime.custody, archivist, header + first + second)
        assert [e.line for e in again.rejected] == [2, 3]
        record = runtime.custody.record(runtime.custody.student_record_id(who))
        assert record.document_count == 1


class TestKeysRotatedElsewhere:
    def test_the_server_verifies_events_signed_after_a_rotation_by_the_cli(
        self, settings: Settings
    ) -> None:
        server = bootstrap(settings)
        cli = bootstrap(settings)
        try:
            cli.keyring.rotate()
            cli.custody.register_school(Principal.system(), "holmes", "Holmesskolan")
            server.queries.fresh()
            assert [s["id"] for s in server.queries.schools()] == ["holmes"]
            assert server.log.seal() == 1
        finally:
            cli.close()
            server.close()

    def test_a_vkey_is_what_the_auditor_pins(self) -> None:
        key = Ed25519PrivateKey.generate().public_key()
        assert vkey("records-custody", key).startswith("records-custody+")
