"""Culling certificates (gallringsbevis): signed, self-contained proof that a cull was
lawful and is in the log.

A certificate holds what was culled (ids and a keyed commitment to the content, never
the content), the legal basis and the condition that was checked, who did it, when, how
and with which witness, whether the data key was destroyed, the cull event itself as
stored (so a verifier re-checks its signature and reads the same facts from it), and a
C2SP tlog-proof of that event's inclusion under a signed checkpoint. The whole is signed
(Ed25519 over its RFC 8785 canonical JSON). :func:`verify_certificate` needs only the
public keys.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.utils import TopicError

from domain.culling import DECISION_ID, POINTS
from infrastructure.offline import decode
from infrastructure.runtime_parts import StoreParts
from infrastructure.transparency.checkpoint import (
    CheckpointError,
    parse_verifier_key,
    verify_proof_text,
)
from infrastructure.verification import leaf_entry, leaf_hash

FORMAT = "records-custody-culling-certificate/v1"
CULL_TOPICS = ("custody:Record.CopyCulled", "custody:Record.Culled")


class TrustedKeys:
    """Public keys given by C2SP verifier key strings (what an auditor trusts)."""

    def __init__(self, vkeys: Sequence[str]) -> None:
        self.vkeys = list(vkeys)
        self._keys: dict[str, Ed25519PublicKey] = {}
        for vkey in vkeys:
            parsed = parse_verifier_key(vkey)
            self._keys[parsed.key_id.hex()] = Ed25519PublicKey.from_public_bytes(
                parsed.public_key)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def verify(self, kid: str, signature: bytes, message: bytes) -> bool:
        try:
            self._keys[kid].verify(signature, message)
        except (KeyError, InvalidSignature):
            return False
        return True


def build_certificate(rt: StoreParts, certificate_id: UUID) -> dict[str, Any]:
    rt.queries.fresh()
    cull = rt.views.get("culls", str(certificate_id))
    if cull is None:
        from domain.errors import NotFoundError

        raise NotFoundError(f"culling certificate {certificate_id} does not exist")
    rt.seal()
    seq = int(cull["seq"])
    stored = rt.custody.recorder.select_notifications(seq, 1)[0]
    actors = {a["id"]: a["name"] for a in rt.views.all("actors")}
    body = {
        "format": FORMAT,
        "title": "Gallringsbevis / culling certificate",
        "origin": rt.settings.log_origin,
        "certificate_id": cull["certificate_id"],
        "record_id": cull["record_id"],
        "copy_id": cull["copy_id"],
        "kind": cull["kind"],
        "category": cull.get("category"),
        "school_id": cull["school_id"],
        "content_commitment": cull["commitment"],
        "legal_basis": {"decision": cull["decision"], "point": cull["point"],
                        "text": _point_text(rt, cull["decision"], int(cull["point"]))},
        "condition_checked": cull["condition"],
        "culled_by": cull["actor"],
        "culled_by_name": actors.get(cull["actor"], cull["actor"]),
        "culled_at": cull["at"],
        "method": cull["method"],
        "witness": cull["witness"],
        "key_destruction": {"subject": cull["shredded_subject"],
                            "destroyed": rt.vault.is_destroyed(UUID(cull["shredded_subject"]))},
        "event": {"seq": seq, "record_id": UUID(str(stored.originator_id)).hex,
                  "version": stored.originator_version, "topic": stored.topic,
                  "state": base64.b64encode(bytes(stored.state)).decode()},
        "inclusion_proof": rt.log.proof_text(seq),
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return {"certificate": body, "signature": sign_body(rt, body)}


def sign_body(rt: StoreParts, body: dict[str, Any]) -> dict[str, str]:
    """The signature block over ``body``'s RFC 8785 canonical JSON."""
    kid, signature = rt.keyring.sign(rfc8785.dumps(body))
    vkey = next(k.vkey for k in rt.keyring.all() if k.key_id == kid)
    return {"alg": "Ed25519", "key_id": kid, "vkey": vkey,
            "value": base64.b64encode(signature).decode()}


def _point_text(rt: StoreParts, decision: str, point: int) -> str:
    registered = rt.views.get("culling_decisions", decision) or {}
    for entry in registered.get("points", []):
        if int(entry["point"]) == point:
            return str(entry["text"])
    return POINTS.get(point, "") if decision == DECISION_ID else ""


def certificate_text(rt: StoreParts, certificate_id: UUID) -> str:
    return json.dumps(build_certificate(rt, certificate_id), indent=2, ensure_ascii=False) + "\n"


def verify_certificate(text: str, vkeys: Sequence[str]) -> list[str]:
    """Every problem found; an empty list means the certificate holds."""
    try:
        return _verify(text, vkeys)
    except (ValueError, KeyError, TypeError, AttributeError, TopicError) as error:
        return [f"the certificate is malformed: {error}"]


def _verify(text: str, vkeys: Sequence[str]) -> list[str]:
    try:
        document = json.loads(text)
        if isinstance(document, dict) and "protocol" in document:
            from infrastructure.culling_protocol import verify_protocol

            return verify_protocol(document, vkeys)
        body = document["certificate"]
        signature = document["signature"]
    except (ValueError, KeyError, TypeError):
        return ["not a culling certificate (malformed JSON)"]
    if body.get("format") != FORMAT:
        return [f"unknown certificate format {body.get('format')!r}"]
    keys = TrustedKeys(vkeys)
    problems = []
    try:
        raw_signature = base64.b64decode(signature["value"], validate=True)
        message = rfc8785.dumps(body)
    except (ValueError, KeyError, TypeError, rfc8785.CanonicalizationError):
        return ["the certificate's signature is malformed"]
    if set(signature) != {"alg", "key_id", "vkey", "value"} or signature["alg"] != "Ed25519":
        problems.append("the signature block is not an Ed25519 signature of this format")
    elif signature["vkey"] not in keys.vkeys or not str(signature["vkey"]).split("+")[1:2] == [
        signature["key_id"]
    ]:
        problems.append("the signature block names a key that does not match its key id")
    if signature.get("key_id") not in keys:
        problems.append(f"signed by key {signature.get('key_id')}, which you do not trust")
    elif not keys.verify(signature["key_id"], raw_signature, message):
        problems.append("the certificate's signature does not verify: it was altered")
    event = body.get("event", {})
    try:
        row = (int(event["seq"]), str(event["record_id"]), int(event["version"]),
               str(event["topic"]), base64.b64decode(event["state"], validate=True))
        item = decode(row, keys)
    except (KeyError, ValueError, TypeError) as error:
        return [*problems, f"the cull event cannot be read: {error}"]
    from infrastructure.signed_events import check_stored_event

    checked = check_stored_event(row[1], row[2], row[3], row[4], keys)
    if checked.problem:
        problems.append(f"the cull event: {checked.problem}")
    if row[3] not in CULL_TOPICS:
        problems.append(f"the event is a {row[3]}, not a cull")
    facts = vars(item.event)
    expected = {
        "certificate_id": body.get("certificate_id"),
        "decision": body.get("legal_basis", {}).get("decision"),
        "point": body.get("legal_basis", {}).get("point"),
        "condition": body.get("condition_checked"),
        "method": body.get("method"),
        "witness": body.get("witness"),
        "commitment": body.get("content_commitment"),
        "shredded_subject": body.get("key_destruction", {}).get("subject"),
        "actor": body.get("culled_by"),
    }
    for field, value in expected.items():
        if str(facts.get(field)) != str(value):
            problems.append(f"{field} in the certificate does not match the signed cull event")
    if body.get("copy_id") and str(facts.get("copy_id")) != str(body.get("copy_id")):
        problems.append("copy_id in the certificate does not match the signed cull event")
    if UUID(row[1]) != UUID(str(body.get("record_id"))):
        problems.append("record_id in the certificate does not match the signed cull event")
    leaf = leaf_hash(leaf_entry(row[0], row[1], row[2], checked.event_hash))
    try:
        verify_proof_text(body.get("inclusion_proof", ""), leaf, keys.vkeys,
                          origin=body.get("origin"))
    except CheckpointError as error:
        problems.append(f"inclusion in the log: {error}")
    return problems
