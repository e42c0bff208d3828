"""The transparency log, culling certificates and the export bundle, on both backends."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from infrastructure.audit import verify_live
from infrastructure.bootstrap import Runtime
from infrastructure.bundle import verify_bundle, write_bundle
from infrastructure.certificates import certificate_text, verify_certificate
from infrastructure.signed_events import Envelope, signing_input
from infrastructure.transparency.checkpoint import open_note
from infrastructure.transparency.merkle import verify_consistency, verify_inclusion
from tests.integration.tamper import Tamperer
from tests.scenario import run_story


def json_equivalent(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return False


def vkeys(rt: Runtime) -> list[str]:
    return [k.vkey for k in rt.keyring.all()]


class TestLogAndCheckpoints:
    def test_every_event_is_included_under_the_signed_checkpoint(self, runtime: Runtime) -> None:
        run_story(runtime)
        note = runtime.seal()
        assert note is not None
        checkpoint = open_note(note, vkeys(runtime), origin="records-custody")
        total = runtime.custody.recorder.max_notification_id()
        assert checkpoint.size == total
        for seq in range(1, total + 1, 7):
            proof = runtime.log.inclusion(seq, checkpoint.size)
            assert verify_inclusion(
                base64.b64decode(proof["leaf_hash"]), proof["leaf_index"], checkpoint.size,
                [base64.b64decode(h) for h in proof["hashes"]], checkpoint.root_hash)

    def test_sealing_a_backlog_reads_each_event_once(self, runtime: Runtime) -> None:
        """A backlog (after an import, or a sealer that was down) is sealed page by page,
        reading each stored event about once: not the whole rest of the log per page, which
        made sealing a national-size backlog quadratic."""
        run_story(runtime)
        total = runtime.custody.recorder.max_notification_id() or 0
        assert total > 30
        recorder = runtime.custody.recorder
        real = recorder.select_notifications
        read: list[int] = []

        def counting(*args: Any, **kwargs: Any) -> Any:
            rows = real(*args, **kwargs)
            read.append(len(rows))
            return rows

        recorder.select_notifications = counting  # type: ignore[method-assign]
        try:
            size = runtime.log.seal(batch=10)
        finally:
            recorder.select_notifications = real  # type: ignore[method-assign]
        assert size == total
        # Each page reads at most its own ``batch`` rows (plus the generator's look-ahead
        # of one page): about ``total`` in all, whatever the backlog's length.
        assert sum(read) <= total + 10 * 2, (sum(read), total)
        assert runtime.log.seal(batch=10) == total  # nothing left: one empty read

    def test_later_checkpoints_are_consistent_with_earlier_ones(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        first = open_note(runtime.seal() or "", vkeys(runtime))
        runtime.custody.enter_into_ist(story.staff.custodians["holmes"],
                                       story.records["Bo Ek"], None)
        second = open_note(runtime.seal() or "", vkeys(runtime))
        assert second.size == first.size + 1
        proof = runtime.log.consistency(first.size, second.size)
        assert verify_consistency(first.size, second.size, first.root_hash, second.root_hash,
                                  [base64.b64decode(h) for h in proof["hashes"]])

    def test_swapped_global_order_is_found_by_the_log(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        runtime.seal()
        t = Tamperer(runtime)
        bo, anna = story.records["Bo Ek"], story.records["Anna Holm"]
        # Move Bo's capture and Anna's capture into each other's place in seq order:
        # both stay validly signed and chained, only their global position changes.
        bo_topic, bo_state = t.row(bo, 1)
        an_topic, an_state = t.row(anna, 1)
        t.delete(bo, 1)
        t.delete(anna, 1)
        t.insert(anna, 1, an_topic, an_state)
        t.insert(bo, 1, bo_topic, bo_state)
        faults = verify_live(runtime, workers=1).faults
        assert any(f.record_id == bo.hex and "not the event the log holds" in f.problem
                   for f in faults), faults


class TestCullingCertificates:
    def test_certificates_for_both_kinds_of_cull_verify_offline(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        for certificate_id in story.certificates:
            text = certificate_text(runtime, certificate_id)
            assert verify_certificate(text, vkeys(runtime)) == []
            body = json.loads(text)["certificate"]
            assert body["key_destruction"]["destroyed"] is True
            assert body["legal_basis"]["decision"] == "BU 2017/503 § 88"

    def test_any_altered_byte_makes_the_certificate_fail(self, runtime: Runtime) -> None:
        story = run_story(runtime)
        text = certificate_text(runtime, story.certificates[0])
        for old, new in (('"point": 4', '"point": 1'), ("shredding", "shreddinG"),
                         ("finished compulsory school", "finished compulsory schoo1")):
            assert old in text
            assert verify_certificate(text.replace(old, new, 1), vkeys(runtime)) != []
        document = json.loads(text)
        state = bytearray(base64.b64decode(document["certificate"]["event"]["state"]))
        state[-3] ^= 1
        document["certificate"]["event"]["state"] = base64.b64encode(bytes(state)).decode()
        assert verify_certificate(json.dumps(document), vkeys(runtime)) != []

    def test_flipping_any_sampled_byte_breaks_the_certificate(self, runtime: Runtime) -> None:
        """Every 7th byte of the text, each changed alone: none still verifies."""
        story = run_story(runtime)
        text = certificate_text(runtime, story.certificates[1])
        data = text.encode()
        keys = vkeys(runtime)
        holding = []
        for position in range(0, len(data), 7):
            changed = bytearray(data)
            changed[position] = ord("#") if changed[position] != ord("#") else ord("%")
            try:
                damaged = changed.decode()
            except UnicodeDecodeError:
                continue
            if json_equivalent(damaged, text):
                continue  # whitespace between JSON tokens carries no meaning
            if verify_certificate(damaged, keys) == []:
                holding.append(position)
        assert holding == []

    def test_a_certificate_needs_a_trusted_key(self, runtime: Runtime) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from infrastructure.keys import vkey

        story = run_story(runtime)
        text = certificate_text(runtime, story.certificates[1])
        stranger = vkey("records-custody", Ed25519PrivateKey.generate().public_key())
        assert any("do not trust" in p for p in verify_certificate(text, [stranger]))

    def test_culled_content_is_unreadable_but_history_still_verifies(self, runtime: Runtime
                                                                     ) -> None:
        story = run_story(runtime)
        c = runtime.custody
        bo = c.record(story.records["Bo Ek"])
        culled = bo.copies[story.school_copies["Bo Ek"]]
        assert culled.contents is None  # the copy's own sealed contents are gone
        general = c.record(story.general)  # type: ignore[arg-type]
        assert general.personal is None
        assert runtime.vault.is_destroyed(general.subject)
        assert b"Veckobrev" not in Tamperer(runtime).dump_everything()
        view = runtime.queries.record(story.staff.auditor, story.general)  # type: ignore[arg-type]
        assert view["title"] is None and view["shredded"] is True
        assert verify_live(runtime, workers=1).faults == []


class TestExportBundle:
    def test_bundle_verifies_in_a_fresh_directory(self, runtime: Runtime, tmp_path: Path) -> None:
        run_story(runtime)
        fresh = tmp_path / "elsewhere"
        fresh.mkdir()
        path = fresh / "bundle.json.gz"
        write_bundle(runtime, path)
        report = verify_bundle(path, workers=1)
        assert report.faults == []
        assert any("replayed" in note for note in report.notes)

    @pytest.mark.parametrize("damage", ["removed", "altered", "reordered"])
    def test_damaged_bundles_are_reported(self, runtime: Runtime, tmp_path: Path,
                                          damage: str) -> None:
        run_story(runtime)
        path = tmp_path / "bundle.json"
        write_bundle(runtime, path)
        bundle = json.loads(path.read_text())
        events = bundle["events"]
        if damage == "removed":
            del events[10]
        elif damage == "altered":
            state = bytearray(base64.b64decode(events[10][4]))
            state[-2] ^= 1
            events[10][4] = base64.b64encode(bytes(state)).decode()
        else:
            events[10][0], events[11][0] = events[11][0], events[10][0]
            events[10], events[11] = events[11], events[10]
        path.write_text(json.dumps(bundle))
        assert verify_bundle(path, workers=1).faults != []

    def test_insider_rewrite_is_caught_by_an_earlier_trusted_checkpoint(
        self, runtime: Runtime, tmp_path: Path
    ) -> None:
        story = run_story(runtime)
        trusted = tmp_path / "auditor-checkpoint.txt"
        trusted.write_text(runtime.seal() or "")
        path = tmp_path / "bundle.json"
        write_bundle(runtime, path)
        bundle = json.loads(path.read_text())
        # The insider rewrites Bo's archive-copy box in an old event, re-signs it with the
        # service's own key, rebuilds the chain hash of the next event too... and a fresh
        # log over the rewritten history with a fresh checkpoint.
        bo = story.records["Bo Ek"].hex
        index = next(i for i, e in enumerate(bundle["events"])
                     if e[1] == bo and e[3] == "custody:Record.CopyArchived")
        _seq, rid, version, topic, b64 = bundle["events"][index]
        env = Envelope.parse(base64.b64decode(b64))
        payload = env.payload.replace(b"B-holmes", b"B-nowhere")
        message = signing_input(rid, version, topic, env.kid, env.prev, payload)
        kid, signature = runtime.keyring.sign(message)
        bundle["events"][index][4] = base64.b64encode(
            Envelope(kid, env.prev, signature, payload).encode()).decode()
        from infrastructure.transparency.checkpoint import sign_checkpoint
        from infrastructure.verification import verify_rows

        rows = [(int(s), r, int(v), t, base64.b64decode(b)) for s, r, v, t, b in bundle["events"]]
        rebuilt = verify_rows(rows, runtime.keyring.raw(), workers=1)
        from infrastructure.transparency.log import roots_from_leaves

        tree = roots_from_leaves(rebuilt.leaves)
        bundle["checkpoints"] = [sign_checkpoint(
            "records-custody", tree.size(), tree.root(),
            [(runtime.keyring.name, runtime.keyring.private_key)])]
        path.write_text(json.dumps(bundle))
        report = verify_bundle(path, trusted_checkpoints=[trusted], workers=1)
        assert any("trusted checkpoint" in f.problem for f in report.faults), report.faults
