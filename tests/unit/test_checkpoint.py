"""Unit tests for signed notes, checkpoints, keys and tlog-proof texts
(``infrastructure/transparency/checkpoint.py``), with the Go ``sumdb/note`` vector. The
trees proved come from the RFC 9162 reference in :mod:`tests.unit.merkle_reference`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infrastructure.transparency.checkpoint import (
    Checkpoint,
    CheckpointError,
    ProofTextError,
    format_checkpoint,
    format_inclusion_proof_text,
    format_signer_key,
    format_verifier_key,
    key_id,
    open_note,
    open_signed_note,
    parse_checkpoint,
    parse_inclusion_proof_text,
    parse_signer_key,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verify_proof_text,
)
from infrastructure.transparency.merkle import leaf_hash
from tests.unit.merkle_reference import ENTRIES, MAX_LEAVES, REF, flip, full_tree, sha256

# ---------------------------------------------------------------------------
# Signed notes and checkpoints
# ---------------------------------------------------------------------------

GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAc"
    "ElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "custody.example/log"


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def vkey(name: str, key: Ed25519PrivateKey) -> str:
    return format_verifier_key(name, key.public_key())


@pytest.fixture
def log_key() -> Ed25519PrivateKey:
    return new_key()


@pytest.fixture
def signed_checkpoint(log_key: Ed25519PrivateKey) -> str:
    return sign_checkpoint(ORIGIN, MAX_LEAVES, REF.mth(0, MAX_LEAVES), [(ORIGIN, log_key)])


class TestKeys:
    def test_key_id_is_truncated_sha256_of_name_newline_type_and_key(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        raw = log_key.public_key().public_bytes_raw()
        expected = sha256(ORIGIN.encode() + b"\n" + b"\x01" + raw)[:4]
        assert key_id(ORIGIN, log_key.public_key()) == expected
        assert key_id(ORIGIN, raw) == expected

    def test_verifier_key_string_is_name_hex_id_and_base64_typed_key(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        raw = log_key.public_key().public_bytes_raw()
        kid = sha256(ORIGIN.encode() + b"\n\x01" + raw)[:4]
        typed_key = base64.b64encode(b"\x01" + raw).decode()
        expected = f"{ORIGIN}+{kid.hex()}+{typed_key}"
        assert vkey(ORIGIN, log_key) == expected

    def test_verifier_key_parses_back(self, log_key: Ed25519PrivateKey) -> None:
        parsed = parse_verifier_key(vkey(ORIGIN, log_key))
        assert parsed.name == ORIGIN
        assert parsed.public_key == log_key.public_key().public_bytes_raw()
        assert parsed.key_id == key_id(ORIGIN, log_key.public_key())
        assert str(parsed) == vkey(ORIGIN, log_key)

    def test_go_reference_keys_round_trip(self) -> None:
        name, key = parse_signer_key(GO_SIGNER_KEY)
        assert name == "PeterNeumann"
        assert format_verifier_key(name, key.public_key()) == GO_VERIFIER_KEY
        assert format_signer_key(name, key) == GO_SIGNER_KEY
        assert str(parse_verifier_key(GO_VERIFIER_KEY)) == GO_VERIFIER_KEY

    @pytest.mark.parametrize(
        "bad",
        [
            "",
            "PeterNeumann",
            "PeterNeumann+c74f20a3",
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T!",
        ],
    )
    def test_malformed_or_mismatched_verifier_keys_are_rejected(self, bad: str) -> None:
        with pytest.raises(CheckpointError):
            parse_verifier_key(bad)

    @pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\tname"])
    def test_invalid_key_names_are_rejected(self, name: str, log_key: Ed25519PrivateKey) -> None:
        with pytest.raises(CheckpointError):
            key_id(name, log_key.public_key())


class TestSignNote:
    def test_reproduces_go_sumdb_note_byte_for_byte(self) -> None:
        assert sign_note(GO_TEXT, [parse_signer_key(GO_SIGNER_KEY)]) == GO_NOTE

    def test_layout_is_body_blank_line_and_em_dash_signature_lines(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        witness = new_key()
        body = format_checkpoint(ORIGIN, 3, REF.mth(0, 3))
        note = sign_note(body, [(ORIGIN, log_key), ("witness.example", witness)])
        assert note.startswith(body + "\n")
        lines = note[len(body) + 1 :].splitlines(keepends=True)
        assert len(lines) == 2
        for line, (name, key) in zip(
            lines, [(ORIGIN, log_key), ("witness.example", witness)], strict=True
        ):
            assert line.startswith("\u2014 " + name + " ")
            assert line.endswith("\n")
            blob = base64.b64decode(line.split(" ")[2])
            assert blob[:4] == key_id(name, key.public_key())
            # Raises if the signature is not over the exact body bytes.
            key.public_key().verify(blob[4:], body.encode())

    def test_checkpoint_body_is_origin_size_and_base64_root(self) -> None:
        root = REF.mth(0, 9)
        expected = f"{ORIGIN}\n9\n{base64.b64encode(root).decode()}\n"
        assert format_checkpoint(ORIGIN, 9, root) == expected

    def test_body_without_trailing_newline_is_rejected(self, log_key: Ed25519PrivateKey) -> None:
        with pytest.raises(CheckpointError, match="newline"):
            sign_note("no newline", [(ORIGIN, log_key)])

    def test_body_with_control_characters_is_rejected(self, log_key: Ed25519PrivateKey) -> None:
        with pytest.raises(CheckpointError, match="control"):
            sign_note("bell\a\n", [(ORIGIN, log_key)])

    def test_note_without_signers_is_rejected(self) -> None:
        with pytest.raises(CheckpointError):
            sign_note("text\n", [])


class TestOpenNote:
    def test_go_reference_note_opens(self) -> None:
        opened = open_signed_note(GO_NOTE, [GO_VERIFIER_KEY])
        assert opened.body == GO_TEXT
        assert opened.signed_by == (GO_VERIFIER_KEY,)

    def test_signed_checkpoint_round_trips(
        self, signed_checkpoint: str, log_key: Ed25519PrivateKey
    ) -> None:
        checkpoint = open_note(signed_checkpoint, [vkey(ORIGIN, log_key)])
        assert checkpoint == Checkpoint(
            origin=ORIGIN,
            size=MAX_LEAVES,
            root_hash=REF.mth(0, MAX_LEAVES),
            signed_by=(vkey(ORIGIN, log_key),),
        )

    def test_accepts_utf8_bytes(self, signed_checkpoint: str, log_key: Ed25519PrivateKey) -> None:
        checkpoint = open_note(signed_checkpoint.encode(), [vkey(ORIGIN, log_key)])
        assert checkpoint.size == MAX_LEAVES

    def test_signatures_of_unknown_keys_are_ignored(self, log_key: Ed25519PrivateKey) -> None:
        stranger = new_key()
        body = format_checkpoint(ORIGIN, 1, REF.mth(0, 1))
        note = sign_note(body, [("stranger.example", stranger), (ORIGIN, log_key)])
        # Garble the stranger's signature: unknown keys are never checked.
        first_line = note.index("\u2014 stranger.example ") + len("\u2014 stranger.example ")
        garbled = note[:first_line] + "AAAAAAAA" + note[first_line + 8 :]
        assert open_note(garbled, [vkey(ORIGIN, log_key)]).signed_by == (vkey(ORIGIN, log_key),)

    def test_note_signed_only_by_unknown_keys_is_rejected(self, signed_checkpoint: str) -> None:
        with pytest.raises(CheckpointError, match="not signed by any known"):
            open_note(signed_checkpoint, [vkey(ORIGIN, new_key())])

    def test_key_with_known_name_but_other_id_counts_as_unknown(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        impostor = new_key()
        note = sign_note(format_checkpoint(ORIGIN, 1, REF.mth(0, 1)), [(ORIGIN, impostor)])
        with pytest.raises(CheckpointError, match="not signed by any known"):
            open_note(note, [vkey(ORIGIN, log_key)])

    def test_tampered_body_is_rejected(
        self, signed_checkpoint: str, log_key: Ed25519PrivateKey
    ) -> None:
        tampered = signed_checkpoint.replace(f"\n{MAX_LEAVES}\n", f"\n{MAX_LEAVES + 1}\n")
        with pytest.raises(CheckpointError, match="does not verify"):
            open_note(tampered, [vkey(ORIGIN, log_key)])

    def test_invalid_signature_of_known_key_rejects_even_with_another_valid_one(
        self, log_key: Ed25519PrivateKey
    ) -> None:
        witness = new_key()
        body = format_checkpoint(ORIGIN, 2, REF.mth(0, 2))
        good = sign_note(body, [(ORIGIN, log_key)])
        other_note = sign_note("other text\n", [("witness.example", witness)])
        note = good + other_note.split("\n\n")[1]
        with pytest.raises(CheckpointError, match=r"witness\.example"):
            open_note(note, [vkey(ORIGIN, log_key), vkey("witness.example", witness)])
        # Without the witness key configured, its bad signature is just unknown.
        assert open_note(note, [vkey(ORIGIN, log_key)]).size == 2

    def test_expected_origin_is_enforced(
        self, signed_checkpoint: str, log_key: Ed25519PrivateKey
    ) -> None:
        assert open_note(signed_checkpoint, [vkey(ORIGIN, log_key)], origin=ORIGIN).size
        with pytest.raises(CheckpointError, match="origin"):
            open_note(signed_checkpoint, [vkey(ORIGIN, log_key)], origin="other.example/log")

    def test_extension_lines_are_kept(self, log_key: Ed25519PrivateKey) -> None:
        body = format_checkpoint(ORIGIN, 1, REF.mth(0, 1), ["ext one"])
        checkpoint = open_note(sign_note(body, [(ORIGIN, log_key)]), [vkey(ORIGIN, log_key)])
        assert checkpoint.extensions == ("ext one",)
        assert checkpoint.body() == body

    @pytest.mark.parametrize(
        "body",
        [
            f"{ORIGIN}\n1\n",
            f"{ORIGIN}\n01\n{base64.b64encode(bytes(32)).decode()}\n",
            f"{ORIGIN}\n-1\n{base64.b64encode(bytes(32)).decode()}\n",
            f"{ORIGIN}\n1\n{base64.b64encode(bytes(31)).decode()}\n",
            f"{ORIGIN}\n1\nnot base64!\n",
            f"\n1\n{base64.b64encode(bytes(32)).decode()}\n",
        ],
    )
    def test_malformed_checkpoint_bodies_are_rejected(
        self, body: str, log_key: Ed25519PrivateKey
    ) -> None:
        with pytest.raises(CheckpointError):
            parse_checkpoint(body)
        with pytest.raises(CheckpointError):
            open_note(sign_note(body, [(ORIGIN, log_key)]), [vkey(ORIGIN, log_key)])

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda n: n.replace("\n\n", "\n"),
            lambda n: n.replace("\u2014", "-"),
            lambda n: n.rstrip("\n"),
            lambda n: n + "\n",
            lambda n: n.replace("\n", "\r\n"),
        ],
        ids=["no-blank-line", "ascii-dash", "no-final-newline", "trailing-blank", "crlf"],
    )
    def test_malformed_notes_are_rejected(
        self, mangle: Callable[[str], str], signed_checkpoint: str, log_key: Ed25519PrivateKey
    ) -> None:
        with pytest.raises(CheckpointError):
            open_note(mangle(signed_checkpoint), [vkey(ORIGIN, log_key)])

    def test_ambiguous_verifier_keys_are_rejected(self, signed_checkpoint: str) -> None:
        good = parse_verifier_key(vkey(ORIGIN, new_key()))
        clash = type(good)(good.name, good.key_id, new_key().public_key().public_bytes_raw())
        with pytest.raises(CheckpointError, match="share name"):
            open_note(signed_checkpoint, [good, clash])


class TestKeyRotation:
    @pytest.fixture
    def rotation(self) -> tuple[str, str, str]:
        old, new = new_key(), new_key()
        note = sign_checkpoint(ORIGIN, 5, REF.mth(0, 5), [(ORIGIN, old), (ORIGIN, new)])
        return note, vkey(ORIGIN, old), vkey(ORIGIN, new)

    def test_note_signed_by_old_and_new_key_verifies_with_old_key_alone(
        self, rotation: tuple[str, str, str]
    ) -> None:
        note, old, _ = rotation
        assert open_note(note, [old]).signed_by == (old,)

    def test_note_signed_by_old_and_new_key_verifies_with_new_key_alone(
        self, rotation: tuple[str, str, str]
    ) -> None:
        note, _, new = rotation
        assert open_note(note, [new]).signed_by == (new,)

    def test_both_keys_are_reported_when_both_are_trusted(
        self, rotation: tuple[str, str, str]
    ) -> None:
        note, old, new = rotation
        assert open_note(note, [new, old]).signed_by == (old, new)


# ---------------------------------------------------------------------------
# tlog-proof texts
# ---------------------------------------------------------------------------


class TestProofText:
    INDEX = 37

    @pytest.fixture
    def proof_text(self, signed_checkpoint: str) -> str:
        proof = full_tree().inclusion_proof(self.INDEX, MAX_LEAVES)
        return format_inclusion_proof_text(self.INDEX, proof, signed_checkpoint)

    def test_layout_is_header_index_hashes_blank_line_and_checkpoint(
        self, proof_text: str, signed_checkpoint: str
    ) -> None:
        proof = full_tree().inclusion_proof(self.INDEX, MAX_LEAVES)
        expected = (
            "c2sp.org/tlog-proof@v1\n"
            f"index {self.INDEX}\n"
            + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
            + "\n"
            + signed_checkpoint
        )
        assert proof_text == expected

    def test_parses_back_to_its_parts(self, proof_text: str, signed_checkpoint: str) -> None:
        parsed = parse_inclusion_proof_text(proof_text)
        assert parsed.index == self.INDEX
        assert list(parsed.proof) == full_tree().inclusion_proof(self.INDEX, MAX_LEAVES)
        assert parsed.checkpoint_note == signed_checkpoint
        assert parsed.extra is None

    def test_verifies_leaf_and_returns_checkpoint(
        self, proof_text: str, log_key: Ed25519PrivateKey
    ) -> None:
        checkpoint = verify_proof_text(
            proof_text, leaf_hash(ENTRIES[self.INDEX]), [vkey(ORIGIN, log_key)], origin=ORIGIN
        )
        assert (checkpoint.size, checkpoint.root_hash) == (MAX_LEAVES, REF.mth(0, MAX_LEAVES))

    def test_other_leaf_is_rejected(self, proof_text: str, log_key: Ed25519PrivateKey) -> None:
        with pytest.raises(ProofTextError, match="does not lead"):
            verify_proof_text(proof_text, leaf_hash(ENTRIES[0]), [vkey(ORIGIN, log_key)])

    def test_wrong_index_is_rejected(self, proof_text: str, log_key: Ed25519PrivateKey) -> None:
        moved = proof_text.replace(f"index {self.INDEX}\n", f"index {self.INDEX + 1}\n")
        with pytest.raises(ProofTextError):
            verify_proof_text(moved, leaf_hash(ENTRIES[self.INDEX]), [vkey(ORIGIN, log_key)])

    def test_tampered_proof_hash_is_rejected(
        self, proof_text: str, log_key: Ed25519PrivateKey
    ) -> None:
        lines = proof_text.split("\n")
        lines[3] = base64.b64encode(flip(base64.b64decode(lines[3]))).decode()
        with pytest.raises(ProofTextError):
            verify_proof_text(
                "\n".join(lines), leaf_hash(ENTRIES[self.INDEX]), [vkey(ORIGIN, log_key)]
            )

    def test_checkpoint_from_untrusted_key_is_rejected(self, proof_text: str) -> None:
        with pytest.raises(CheckpointError, match="not signed by any known"):
            verify_proof_text(proof_text, leaf_hash(ENTRIES[self.INDEX]), [vkey(ORIGIN, new_key())])

    def test_single_leaf_tree_has_no_hash_lines(self, log_key: Ed25519PrivateKey) -> None:
        note = sign_checkpoint(ORIGIN, 1, REF.mth(0, 1), [(ORIGIN, log_key)])
        text = format_inclusion_proof_text(0, [], note)
        assert text == "c2sp.org/tlog-proof@v1\nindex 0\n\n" + note
        assert verify_proof_text(text, leaf_hash(ENTRIES[0]), [vkey(ORIGIN, log_key)]).size == 1

    def test_extra_data_round_trips(self, signed_checkpoint: str) -> None:
        text = format_inclusion_proof_text(
            self.INDEX,
            full_tree().inclusion_proof(self.INDEX, MAX_LEAVES),
            signed_checkpoint,
            extra=b"context",
        )
        assert text.split("\n")[1] == "extra " + base64.b64encode(b"context").decode()
        assert parse_inclusion_proof_text(text).extra == b"context"

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda t: t.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
            lambda t: t.replace("index ", "idx "),
            lambda t: t.replace("index 37", "index 037"),
            lambda t: t.replace("\n\n", "\n", 1),
            lambda t: t.replace("=\n", "\n", 1),
        ],
        ids=["header", "index-keyword", "leading-zero", "no-blank-line", "bad-base64"],
    )
    def test_malformed_proof_texts_are_rejected(
        self, mangle: Callable[[str], str], proof_text: str
    ) -> None:
        with pytest.raises(ProofTextError):
            parse_inclusion_proof_text(mangle(proof_text))
