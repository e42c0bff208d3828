"""Signed checkpoints and offline proofs for the custody transparency log.

Implements three C2SP text formats with Ed25519 keys from ``cryptography``:

* ``c2sp.org/signed-note``: text signed by one or more keys, each signature
  line ``— <key name> base64(key ID || signature)``; verifier keys are written
  ``<name>+<hex key ID>+base64(0x01 || public key)`` and signer keys
  ``PRIVATE+KEY+<name>+<hex key ID>+base64(0x01 || seed)``, as in Go's
  ``golang.org/x/mod/sumdb/note`` so keys and notes interoperate with it;
* ``c2sp.org/tlog-checkpoint``: a note whose text is ``origin``, tree size and
  base64 root hash, one per line;
* ``c2sp.org/tlog-proof``: a self-contained inclusion proof (leaf index,
  Merkle path and the signed checkpoint it leads to) that the offline
  verifier can check with nothing but the log's public keys.

Verification follows the signed-note rules: signatures from unknown keys are
ignored (this is what allows key rotation and witness cosignatures), a bad
signature from a known key rejects the whole note, and at least one known key
must have signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .merkle import HASH_SIZE, verify_inclusion

__all__ = [
    "ED25519_ALGORITHM",
    "MAX_SIGNATURES",
    "PROOF_HEADER",
    "SIGNATURE_PREFIX",
    "Checkpoint",
    "CheckpointError",
    "InclusionProofText",
    "ProofTextError",
    "SignedNote",
    "VerifierKey",
    "format_checkpoint",
    "format_inclusion_proof_text",
    "format_signer_key",
    "format_verifier_key",
    "key_id",
    "open_note",
    "open_signed_note",
    "parse_checkpoint",
    "parse_inclusion_proof_text",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
    "verify_proof_text",
]

ED25519_ALGORITHM = 0x01
"""signed-note signature type identifier for Ed25519."""

SIGNATURE_PREFIX = "\u2014 "
"""Every signature line starts with an EM DASH and a space."""

PROOF_HEADER = "c2sp.org/tlog-proof@v1"

MAX_SIGNATURES = 100
"""Signatures accepted per note; the spec requires at least 16 and Go allows 100."""

_SIGNER_PREFIX = "PRIVATE+KEY+"
_KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}\Z")


SUCCESSOR = "custody-key-successor"
"""A checkpoint extension line ``custody-key-successor <vkey>``: the log's next key,
named inside what the current key signs (at a key rotation)."""


def successor_keys(notes: Sequence[str | bytes], trusted: Sequence[str], origin: str
                   ) -> list[tuple[str, int]]:
    """Keys the trusted ones handed over to: ``(vkey, tree size)`` for each checkpoint,
    taken in order of size, that verifies under a key trusted so far and names a
    successor that signed the same checkpoint. A successor is trusted from then on, so
    a chain of rotations is followed; a line in a checkpoint no trusted key signed
    counts for nothing."""
    keys = [str(k) for k in trusted]
    found: list[tuple[str, int]] = []

    def size_of(note: str | bytes) -> int:
        try:
            lines = _as_text(note).split("\n")
        except (CheckpointError, UnicodeDecodeError, AttributeError, TypeError):
            return -1
        return int(lines[1]) if len(lines) > 1 and _DECIMAL.fullmatch(lines[1]) else -1

    # In order of size, again and again until nothing new is learned: a hand-over by a
    # key learned late may sit at a size already passed (two rotations, no event between).
    pending = sorted(notes, key=size_of)
    learned = True
    while learned:
        learned = False
        for note in list(pending):
            try:
                signed = open_note(note, keys, origin=origin)
            except (CheckpointError, UnicodeDecodeError, AttributeError, TypeError):
                continue
            pending.remove(note)
            for line in signed.extensions:
                name, _, successor = line.partition(" ")
                if name != SUCCESSOR or successor in keys:
                    continue
                try:
                    open_note(note, [successor], origin=origin)  # it signed the hand-over
                except (CheckpointError, UnicodeDecodeError, AttributeError, TypeError):
                    continue
                keys.append(successor)
                found.append((successor, signed.size))
                learned = True
    return found



class CheckpointError(ValueError):
    """A note, key or checkpoint is malformed or its signatures do not check out."""


class ProofTextError(CheckpointError):
    """A tlog-proof text is malformed or its inclusion proof does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement of its tree size and root hash.

    ``signed_by`` lists, as verifier key strings, the known keys whose
    signatures verified (empty for a checkpoint that was only parsed).
    ``extensions`` holds optional extension lines after the root hash.
    """

    origin: str
    size: int
    root_hash: bytes
    signed_by: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        """The checkpoint note text, as signed."""
        return format_checkpoint(self.origin, self.size, self.root_hash, self.extensions)


@dataclass(frozen=True)
class VerifierKey:
    """A parsed Ed25519 signed-note verifier key."""

    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519_ALGORITHM]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SignedNote:
    """The verified text of a signed note and the verifier keys that signed it."""

    body: str
    signed_by: tuple[str, ...]


@dataclass(frozen=True)
class InclusionProofText:
    """The parts of a ``c2sp.org/tlog-proof@v1`` text."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None


# -- keys ---------------------------------------------------------------------


def _raw_public_key(public_key: Ed25519PublicKey | bytes) -> bytes:
    if isinstance(public_key, Ed25519PublicKey):
        return public_key.public_bytes_raw()
    if not isinstance(public_key, bytes) or len(public_key) != _ED25519_KEY_SIZE:
        raise CheckpointError(f"an Ed25519 public key is {_ED25519_KEY_SIZE} bytes")
    return public_key


def _check_key_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise CheckpointError("key name must be a non-empty string")
    if "+" in name or any(ch.isspace() for ch in name):
        raise CheckpointError(f"key name {name!r} must not contain '+' or whitespace")
    if any(ord(ch) < 0x20 for ch in name):
        raise CheckpointError(f"key name {name!r} must not contain control characters")
    return name


def key_id(name: str, public_key: Ed25519PublicKey | bytes) -> bytes:
    """signed-note key ID: ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``."""
    raw = _raw_public_key(public_key)
    material = _check_key_name(name).encode("utf-8") + b"\n" + bytes([ED25519_ALGORITHM]) + raw
    return hashlib.sha256(material).digest()[:_KEY_ID_SIZE]


def format_verifier_key(name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """Verifier key string ``<name>+<key ID hex>+base64(0x01 || public key)``."""
    raw = _raw_public_key(public_key)
    return str(VerifierKey(name, key_id(name, raw), raw))


def parse_verifier_key(vkey: str) -> VerifierKey:
    """Parse a verifier key string, checking that its key ID matches the key."""
    # Split from the left: the base64 key itself may contain '+'.
    parts = vkey.split("+", 2) if isinstance(vkey, str) else []
    if len(parts) != 3:
        raise CheckpointError(f"verifier key {vkey!r:.80} is not <name>+<key id>+<key>")
    name, hex_id, encoded = parts
    _check_key_name(name)
    if not _HEX_KEY_ID.match(hex_id):
        raise CheckpointError(f"verifier key {name!r}: key id must be 8 hex digits")
    material = _b64decode(encoded, f"verifier key {name!r}")
    if len(material) != 1 + _ED25519_KEY_SIZE or material[0] != ED25519_ALGORITHM:
        raise CheckpointError(
            f"verifier key {name!r}: expected 0x01 followed by a 32-byte Ed25519 key"
        )
    raw = material[1:]
    if key_id(name, raw) != bytes.fromhex(hex_id):
        raise CheckpointError(f"verifier key {name!r}: key id does not match the key")
    return VerifierKey(name, bytes.fromhex(hex_id), raw)


def format_signer_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Signer key string ``PRIVATE+KEY+<name>+<key ID hex>+base64(0x01 || seed)``.

    This is a secret: store it like any other private key.
    """
    seed = private_key.private_bytes_raw()
    kid = key_id(name, private_key.public_key())
    encoded = base64.b64encode(bytes([ED25519_ALGORITHM]) + seed).decode("ascii")
    return f"{_SIGNER_PREFIX}{name}+{kid.hex()}+{encoded}"


def parse_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse a signer key string into the ``(name, key)`` pair :func:`sign_note` takes."""
    if not isinstance(skey, str) or not skey.startswith(_SIGNER_PREFIX):
        raise CheckpointError(f"signer key must start with {_SIGNER_PREFIX!r}")
    parts = skey[len(_SIGNER_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("signer key is not PRIVATE+KEY+<name>+<key id>+<key>")
    name, hex_id, encoded = parts
    _check_key_name(name)
    if not _HEX_KEY_ID.match(hex_id):
        raise CheckpointError(f"signer key {name!r}: key id must be 8 hex digits")
    material = _b64decode(encoded, f"signer key {name!r}")
    if len(material) != 1 + _ED25519_KEY_SIZE or material[0] != ED25519_ALGORITHM:
        raise CheckpointError(f"signer key {name!r}: expected 0x01 followed by a 32-byte seed")
    private_key = Ed25519PrivateKey.from_private_bytes(material[1:])
    if key_id(name, private_key.public_key()) != bytes.fromhex(hex_id):
        raise CheckpointError(f"signer key {name!r}: key id does not match the key")
    return name, private_key


# -- signed notes -------------------------------------------------------------


def _b64decode(text: str, what: str) -> bytes:
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointError(f"{what}: invalid base64") from exc
    # Only the canonical encoding is accepted, so each value has one spelling.
    if base64.b64encode(decoded).decode("ascii") != text:
        raise CheckpointError(f"{what}: non-canonical base64")
    return decoded


def _as_text(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointError("note is not valid UTF-8") from exc
    if not isinstance(note, str):
        raise CheckpointError("note must be str or bytes")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CheckpointError("note is not valid UTF-8") from exc
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise CheckpointError("note contains control characters other than newline")
    return note


def sign_note(body: str, signers: Sequence[tuple[str, Ed25519PrivateKey]]) -> str:
    """Sign ``body`` with every ``(key name, private key)`` in ``signers``.

    Returns the body, a blank line, and one signature line per signer.
    """
    body = _as_text(body)
    if not body.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    if not signers:
        raise CheckpointError("a note needs at least one signer")
    message = body.encode("utf-8")
    lines = []
    for name, private_key in signers:
        kid = key_id(name, private_key.public_key())
        signature = base64.b64encode(kid + private_key.sign(message)).decode("ascii")
        lines.append(f"{SIGNATURE_PREFIX}{name} {signature}\n")
    return body + "\n" + "".join(lines)


def _verifier_table(verifiers: Sequence[str | VerifierKey]) -> dict[tuple[str, bytes], VerifierKey]:
    if isinstance(verifiers, str):
        # A lone string would otherwise be iterated character by character.
        verifiers = [verifiers]
    table: dict[tuple[str, bytes], VerifierKey] = {}
    for entry in verifiers:
        key = entry if isinstance(entry, VerifierKey) else parse_verifier_key(entry)
        slot = (key.name, key.key_id)
        if slot in table and table[slot] != key:
            raise CheckpointError(
                f"two verifier keys share name {key.name!r} and key id {key.key_id.hex()}"
            )
        table[slot] = key
    return table


def open_signed_note(text: str | bytes, verifiers: Sequence[str | VerifierKey]) -> SignedNote:
    """Verify a signed note against trusted ``verifiers`` and return its text.

    Unknown keys' signatures are ignored; a known key whose signature fails
    rejects the note; at least one known key must have signed.
    """
    note = _as_text(text)
    known = _verifier_table(verifiers)
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CheckpointError("malformed note: no blank line before the signatures")
    body = note[: split + 1]
    signature_lines = note[split + 2 : -1].split("\n")
    if len(signature_lines) > MAX_SIGNATURES:
        raise CheckpointError(f"note has more than {MAX_SIGNATURES} signatures")

    message = body.encode("utf-8")
    seen: set[tuple[str, bytes]] = set()
    signed_by: list[str] = []
    for line in signature_lines:
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError(f"malformed signature line {line!r:.80}")
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not space:
            raise CheckpointError(f"malformed signature line {line!r:.80}")
        _check_key_name(name)
        blob = _b64decode(encoded, f"signature by {name!r}")
        if len(blob) <= _KEY_ID_SIZE:
            raise CheckpointError(f"signature by {name!r} is too short")
        slot = (name, blob[:_KEY_ID_SIZE])
        key = known.get(slot)
        if key is None or slot in seen:
            continue
        seen.add(slot)
        signature = blob[_KEY_ID_SIZE:]
        if len(signature) != _ED25519_SIGNATURE_SIZE or not key.verify(message, signature):
            raise CheckpointError(
                f"signature by known key {name}+{key.key_id.hex()} does not verify"
            )
        signed_by.append(str(key))
    if not signed_by:
        raise CheckpointError("note is not signed by any known verifier key")
    return SignedNote(body, tuple(signed_by))


# -- checkpoints --------------------------------------------------------------


def format_checkpoint(
    origin: str, size: int, root_hash: bytes, extensions: Sequence[str] = ()
) -> str:
    """Checkpoint note text ``"{origin}\\n{size}\\n{base64(root)}\\n"`` (plus extensions)."""
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise CheckpointError("origin must be a non-empty single line")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise CheckpointError(f"tree size must be a non-negative integer, got {size!r}")
    if not isinstance(root_hash, bytes) or len(root_hash) != HASH_SIZE:
        raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
    for line in extensions:
        if not line or "\n" in line:
            raise CheckpointError("extension lines must be non-empty single lines")
    root = base64.b64encode(root_hash).decode("ascii")
    return "".join(f"{line}\n" for line in (origin, str(size), root, *extensions))


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse checkpoint note text (no signatures) into an unsigned :class:`Checkpoint`."""
    body = _as_text(body)
    if not body.endswith("\n"):
        raise CheckpointError("checkpoint text must end with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint needs origin, tree size and root hash lines")
    if any(not line for line in lines):
        raise CheckpointError("checkpoint lines must be non-empty")
    origin, size_line, root_line, *extensions = lines
    if not _DECIMAL.match(size_line):
        raise CheckpointError(f"checkpoint tree size {size_line!r:.40} is not a decimal number")
    root_hash = _b64decode(root_line, "checkpoint root hash")
    if len(root_hash) != HASH_SIZE:
        raise CheckpointError(f"checkpoint root hash must be {HASH_SIZE} bytes")
    return Checkpoint(origin, int(size_line), root_hash, extensions=tuple(extensions))


def sign_checkpoint(
    origin: str,
    size: int,
    root_hash: bytes,
    signers: Sequence[tuple[str, Ed25519PrivateKey]],
) -> str:
    """Format and sign a checkpoint in one step."""
    return sign_note(format_checkpoint(origin, size, root_hash), signers)


def open_note(
    text: str | bytes,
    verifiers: Sequence[str | VerifierKey],
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Verify a signed checkpoint and return it, with the keys that signed it.

    ``origin``, when given, must equal the checkpoint's origin line, so a
    checkpoint of another log signed by a shared witness key is not mistaken
    for one of this log.
    """
    note = open_signed_note(text, verifiers)
    checkpoint = parse_checkpoint(note.body)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(
            f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}"
        )
    return replace(checkpoint, signed_by=note.signed_by)


# -- tlog-proof ---------------------------------------------------------------


def format_inclusion_proof_text(
    index: int,
    proof: Sequence[bytes],
    checkpoint_note: str,
    *,
    extra: bytes | None = None,
) -> str:
    """Render a ``c2sp.org/tlog-proof@v1`` text for the leaf at ``index``.

    ``proof`` is the inclusion proof for ``index`` in the tree size that
    ``checkpoint_note`` (a signed checkpoint, included verbatim) commits to.
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ProofTextError(f"leaf index must be a non-negative integer, got {index!r}")
    for position, digest in enumerate(proof):
        if not isinstance(digest, bytes) or len(digest) != HASH_SIZE:
            raise ProofTextError(f"proof hash #{position} must be {HASH_SIZE} bytes")
    note = _as_text(checkpoint_note)
    if "\n\n" not in note or not note.endswith("\n"):
        raise ProofTextError("checkpoint note must be a signed note")
    lines = [PROOF_HEADER]
    if extra is not None:
        lines.append("extra " + base64.b64encode(extra).decode("ascii"))
    lines.append(f"index {index}")
    lines.extend(base64.b64encode(digest).decode("ascii") for digest in proof)
    return "\n".join(lines) + "\n\n" + note


def parse_inclusion_proof_text(text: str | bytes) -> InclusionProofText:
    """Split a ``c2sp.org/tlog-proof@v1`` text into its parts (nothing is verified)."""
    try:
        proof_text = _as_text(text)
    except CheckpointError as exc:
        raise ProofTextError(str(exc)) from exc
    # Header and proof lines are never empty, so the first blank line is the
    # one before the checkpoint (whose own blank line comes later).
    head, separator, note = proof_text.partition("\n\n")
    if not separator:
        raise ProofTextError("proof has no blank line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != PROOF_HEADER:
        raise ProofTextError(f"proof must start with {PROOF_HEADER!r}")
    position = 1
    extra: bytes | None = None
    if position < len(lines) and lines[position].startswith("extra "):
        extra = _proof_b64(lines[position][len("extra ") :], "extra data")
        position += 1
    if position >= len(lines) or not lines[position].startswith("index "):
        raise ProofTextError("proof is missing its 'index N' line")
    index_text = lines[position][len("index ") :]
    if not _DECIMAL.match(index_text):
        raise ProofTextError(f"proof index {index_text!r:.40} is not a decimal number")
    hashes = []
    for number, line in enumerate(lines[position + 1 :]):
        digest = _proof_b64(line, f"proof hash #{number}")
        if len(digest) != HASH_SIZE:
            raise ProofTextError(f"proof hash #{number} must be {HASH_SIZE} bytes")
        hashes.append(digest)
    return InclusionProofText(int(index_text), tuple(hashes), note, extra)


def _proof_b64(text: str, what: str) -> bytes:
    try:
        return _b64decode(text, what)
    except CheckpointError as exc:
        raise ProofTextError(str(exc)) from exc


def verify_proof_text(
    text: str | bytes,
    leaf_hash: bytes,
    verifiers: Sequence[str | VerifierKey],
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Check a tlog-proof offline: signed checkpoint, then inclusion of ``leaf_hash``.

    Returns the verified checkpoint; raises :class:`CheckpointError` for a bad
    checkpoint and :class:`ProofTextError` when the leaf is not proven included.
    """
    parsed = parse_inclusion_proof_text(text)
    checkpoint = open_note(parsed.checkpoint_note, verifiers, origin=origin)
    if not verify_inclusion(
        leaf_hash, parsed.index, checkpoint.size, parsed.proof, checkpoint.root_hash
    ):
        raise ProofTextError(
            f"inclusion proof for index {parsed.index} does not lead to the root of "
            f"the checkpoint for tree size {checkpoint.size}"
        )
    return checkpoint
