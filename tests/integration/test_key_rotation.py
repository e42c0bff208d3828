"""Rotating the signing key hands trust over: the log signs, with the old and the new key,
a checkpoint naming the new key as the old one's successor, so an auditor who pinned only
the old key verifies a bundle whose later events are signed by the new one; a successor
named anywhere else counts for nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infrastructure.bootstrap import Runtime
from infrastructure.bundle import verify_bundle, write_bundle
from infrastructure.keys import vkey
from infrastructure.transparency.checkpoint import (
    SUCCESSOR,
    CheckpointError,
    format_checkpoint,
    open_note,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
    successor_keys,
)
from tests.scenario import run_story

ORIGIN = "records-custody"


def rotate(rt: Runtime) -> tuple[str, str]:
    """Rotate as ``custody keys rotate`` does; return (old vkey, new vkey)."""
    old = next(k.vkey for k in rt.keyring.all() if k.active)
    rt.keyring.rotate(hand_over=rt.log.hand_over)
    new = next(k.vkey for k in rt.keyring.all() if k.active)
    assert new != old
    return old, new


def handover_note(rt: Runtime) -> str:
    (note,) = rt.log.handovers()
    return note


def test_the_handover_checkpoint_is_signed_by_both_keys_and_names_the_new_one(
    runtime: Runtime
) -> None:
    story = run_story(runtime)
    runtime.seal()
    size_before = runtime.log.size()
    old, new = rotate(runtime)
    note = handover_note(runtime)
    by_old = open_note(note, [old], origin=ORIGIN)
    by_new = open_note(note, [new], origin=ORIGIN)
    assert by_old.size == by_new.size == size_before  # everything stored before the switch
    assert by_old.extensions == (f"{SUCCESSOR} {new}",)
    assert SUCCESSOR not in (runtime.log.latest_checkpoint() or "")  # kept apart
    # Events from now on are signed by the new key, and the log goes on from there.
    runtime.custody.place_hold(story.staff.archivist, story.records["Anna Holm"],
                               reason="Revision")
    later = open_note(runtime.seal() or "", [new], origin=ORIGIN)
    assert later.size == size_before + 1
    with pytest.raises(CheckpointError):
        open_note(runtime.log.latest_checkpoint() or "", [old], origin=ORIGIN)


def test_an_auditor_who_pinned_only_the_old_key_follows_the_rotation(
    runtime: Runtime, tmp_path: Path
) -> None:
    story = run_story(runtime)
    runtime.seal()
    old, new = rotate(runtime)
    runtime.custody.place_hold(story.staff.archivist, story.records["Anna Holm"],
                               reason="Tillsynsärende")
    runtime.seal()
    path = tmp_path / "bundle.json"
    write_bundle(runtime, path)

    report = verify_bundle(path, trusted_keys=[old], workers=1)
    assert report.faults == []
    new_id = parse_verifier_key(new).key_id.hex()
    assert any("successor" in note and new_id in note for note in report.notes), report.notes

    # The live store checks the hand-over against its tree as well.
    assert runtime.log.handovers()[0] in json.loads(path.read_text())["checkpoints"]

    # Without the hand-over the same bundle's later events are by a key nobody trusts.
    bundle = json.loads(path.read_text())
    bundle["checkpoints"] = [n for n in bundle["checkpoints"] if SUCCESSOR not in n]
    path.write_text(json.dumps(bundle))
    cut = verify_bundle(path, trusted_keys=[old], workers=1)
    assert any("unknown key" in f.problem for f in cut.faults), cut.faults


def test_a_successor_named_where_no_trusted_key_signed_counts_for_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    run_story(runtime)
    runtime.seal()
    old = next(k.vkey for k in runtime.keyring.all() if k.active)
    latest = parse_checkpoint(open_note(runtime.log.latest_checkpoint() or "", [old]).body())
    mallory = Ed25519PrivateKey.generate()
    mallory_vkey = vkey(ORIGIN, mallory.public_key())
    # Mallory's own checkpoint naming herself: signed by her key only.
    forged = sign_note(format_checkpoint(ORIGIN, latest.size, latest.root_hash,
                                         [f"{SUCCESSOR} {mallory_vkey}"]),
                       [(ORIGIN, mallory)])
    path = tmp_path / "bundle.json"
    write_bundle(runtime, path)
    bundle = json.loads(path.read_text())
    bundle["checkpoints"].append(forged)
    path.write_text(json.dumps(bundle))
    report = verify_bundle(path, trusted_keys=[old], workers=1)
    assert not any("successor" in note for note in report.notes)
    assert successor_keys(bundle["checkpoints"], [old], ORIGIN) == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_successors_are_followed_through_a_chain_of_rotations_and_must_sign_too(
    runtime: Runtime
) -> None:
    first = Ed25519PrivateKey.generate()
    second = Ed25519PrivateKey.generate()
    third = Ed25519PrivateKey.generate()
    v1, v2, v3 = (vkey(ORIGIN, k.public_key()) for k in (first, second, third))
    root = b"\x01" * 32
    one = sign_note(format_checkpoint(ORIGIN, 5, root, [f"{SUCCESSOR} {v2}"]),
                    [(ORIGIN, first), (ORIGIN, second)])
    two = sign_note(format_checkpoint(ORIGIN, 9, root, [f"{SUCCESSOR} {v3}"]),
                    [(ORIGIN, second), (ORIGIN, third)])
    # Given out of order, still followed in order of size.
    assert successor_keys([two, one], [v1], ORIGIN) == [(v2, 5), (v3, 9)]
    # Named by a trusted key, but the successor never signed: not taken.
    unsigned = sign_note(format_checkpoint(ORIGIN, 5, root, [f"{SUCCESSOR} {v2}"]),
                         [(ORIGIN, first)])
    assert successor_keys([unsigned], [v1], ORIGIN) == []
    # Another log's checkpoint (other origin) names nobody for this one.
    other = sign_note(format_checkpoint("another-log", 5, root, [f"{SUCCESSOR} {v2}"]),
                      [(ORIGIN, first), (ORIGIN, second)])
    assert successor_keys([other], [v1], ORIGIN) == []


def test_two_rotations_with_no_event_between_keep_both_hand_overs(
    runtime: Runtime, tmp_path: Path
) -> None:
    story = run_story(runtime)
    runtime.seal()
    first, second = rotate(runtime)
    _, third = rotate(runtime)  # at once, e.g. the new key was mishandled
    runtime.custody.place_hold(story.staff.archivist, story.records["Anna Holm"],
                               reason="Revision")
    runtime.seal()
    assert len(runtime.log.handovers()) == 2
    path = tmp_path / "bundle.json"
    write_bundle(runtime, path)
    report = verify_bundle(path, trusted_keys=[first], workers=1)
    assert report.faults == []
    checkpoints = json.loads(path.read_text())["checkpoints"]
    assert [k for k, _ in successor_keys(checkpoints, [first], ORIGIN)] == [second, third]
    # Same size, given in the other order: still both followed.
    assert [k for k, _ in successor_keys(list(reversed(checkpoints)), [first], ORIGIN)] == [
        second, third]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_notes_that_are_not_checkpoints_are_passed_over(runtime: Runtime) -> None:
    key = Ed25519PrivateKey.generate()
    trusted = vkey(ORIGIN, key.public_key())
    junk: list[str] = ["", "not a note", f"{ORIGIN}\n²\nAAAA\n\n— {ORIGIN} AAAA\n"]
    assert successor_keys(junk, [trusted], ORIGIN) == []


def test_a_failed_hand_over_changes_no_key(runtime: Runtime) -> None:
    before = [(k.key_id, k.active) for k in runtime.keyring.all()]

    def failing(old: Ed25519PrivateKey, new: Ed25519PrivateKey) -> None:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        runtime.keyring.rotate(hand_over=failing)
    assert [(k.key_id, k.active) for k in runtime.keyring.all()] == before
    assert not list(runtime.settings.signing_key_path.parent.glob("*.tmp"))
    assert runtime.log.handovers() == []
