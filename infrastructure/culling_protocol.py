"""The culling protocol (gallringsprotokoll) of an executed culling list: signed like a
culling certificate (Ed25519 over RFC 8785 JSON) and verifiable offline with
``custody verify-certificate`` and only the public keys.

It lists the decision and point, the proposer and the approver, every item with who
destroyed it, how, when and before whom (or why it was withdrawn) and its certificate id.
It carries the list's own signed events (so the verifier re-checks proposer, approver and
each destruction from what the service signed when it happened) and every destroyed
item's culling certificate (each verified as such).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import rfc8785

from domain.culling_list import CullingList, ItemStatus
from domain.errors import IllegalTransitionError
from infrastructure.certificates import TrustedKeys, build_certificate, sign_body
from infrastructure.certificates import _verify as verify_certificate_text
from infrastructure.runtime_parts import StoreParts

FORMAT = "records-custody-culling-protocol/v1"
LIST_TOPICS = {
    "custody:CullingList.Proposed", "custody:CullingList.Approved",
    "custody:CullingList.Rejected", "custody:CullingList.ItemDestroyed",
    "custody:CullingList.ItemWithdrawn",
}


def build_protocol(rt: StoreParts, list_id: UUID) -> dict[str, Any]:
    culling_list: CullingList = rt.custody.load(CullingList, list_id, "culling list")
    if not culling_list.done:
        open_items = sum(1 for i in culling_list.items.values()
                         if i.destroyed is None and i.withdrawn is None)
        raise IllegalTransitionError(
            f"culling list {list_id} is {culling_list.status.value}; its protocol is issued "
            f"once every item is destroyed or withdrawn ({open_items} still open)")
    rt.queries.fresh()
    names = {a["id"]: a["name"] for a in rt.views.all("actors")}
    decision = rt.views.get("culling_decisions", culling_list.decision) or {}
    point_text = next((p["text"] for p in decision.get("points", [])
                       if int(p["point"]) == culling_list.point), "")
    items = []
    certificates = []
    for item in culling_list.items.values():
        row: dict[str, Any] = {
            "record_id": str(item.record_id),
            "copy_id": str(item.copy_id) if item.copy_id else None,
            "held_at": item.location,
            "status": culling_list.item_status(item).value,
            "certificate_id": str(item.certificate_id) if item.certificate_id else None,
        }
        if item.destroyed is not None and item.certificate_id is not None:
            row["destroyed_by"] = item.destroyed["by"]
            row["destroyed_by_name"] = names.get(item.destroyed["by"], item.destroyed["by"])
            row["method"] = item.destroyed["method"]
            row["date"] = item.destroyed["date"]
            row["witness"] = item.destroyed["witness"]
            row["contractor_reference"] = item.destroyed["contractor_reference"]
            certificates.append(build_certificate(rt, item.certificate_id))
        else:
            row["withdrawn_reason"] = item.withdrawn
        items.append(row)
    events = [{"record_id": UUID(str(s.originator_id)).hex, "version": s.originator_version,
               "topic": s.topic, "state": base64.b64encode(bytes(s.state)).decode()}
              for s in rt.custody.recorder.select_events(list_id)]
    body = {
        "format": FORMAT,
        "title": "Gallringsprotokoll / culling protocol",
        "origin": rt.settings.log_origin,
        "culling_list_id": str(list_id),
        "legal_basis": {"decision": culling_list.decision, "point": culling_list.point,
                        "text": point_text, "body": decision.get("body"),
                        "date": decision.get("date")},
        "school_year": culling_list.school_year,
        "note": culling_list.note,
        "proposed_by": culling_list.proposer,
        "proposed_by_name": names.get(culling_list.proposer, culling_list.proposer),
        "approved_by": culling_list.approver,
        "approved_by_name": names.get(culling_list.approver or "", culling_list.approver),
        "items": items,
        "list_events": events,
        "certificates": certificates,
        "issued_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    return {"protocol": body, "signature": sign_body(rt, body)}


def verify_protocol(document: dict[str, Any], vkeys: Sequence[str]) -> list[str]:
    """Every problem found in a protocol; an empty list means it holds."""
    from infrastructure.offline import decode

    body = document["protocol"]
    signature = document["signature"]
    if body.get("format") != FORMAT:
        return [f"unknown protocol format {body.get('format')!r}"]
    keys = TrustedKeys(vkeys)
    problems: list[str] = []
    try:
        raw_signature = base64.b64decode(signature["value"], validate=True)
        message = rfc8785.dumps(body)
    except (ValueError, KeyError, TypeError, rfc8785.CanonicalizationError):
        return ["the protocol's signature is malformed"]
    if signature.get("key_id") not in keys:
        problems.append(f"signed by key {signature.get('key_id')}, which you do not trust")
    elif not keys.verify(signature["key_id"], raw_signature, message):
        problems.append("the protocol's signature does not verify: it was altered")
    # The list's own events: signed, chained, and saying what the protocol says.
    facts: dict[str, Any] = {"destroyed": {}}
    previous = "0" * 64
    list_hex = UUID(str(body.get("culling_list_id"))).hex
    for index, event in enumerate(body.get("list_events", [])):
        row = (0, str(event["record_id"]), int(event["version"]), str(event["topic"]),
               base64.b64decode(event["state"], validate=True))
        if row[1] != list_hex or row[2] != index + 1 or row[3] not in LIST_TOPICS:
            problems.append(f"list event {index + 1} is not this list's event {index + 1}")
            continue
        item = decode(row, keys)
        from infrastructure.signed_events import check_stored_event

        checked = check_stored_event(row[1], row[2], row[3], row[4], keys)
        if checked.problem:
            problems.append(f"list event {index + 1}: {checked.problem}")
        if checked.prev != previous:
            problems.append(f"list event {index + 1} is not linked to the one before it")
        previous = checked.event_hash
        state = vars(item.event)
        kind = row[3].rsplit(".", 1)[-1]
        if kind == "Proposed":
            facts.update(proposer=state.get("actor"), decision=state.get("decision"),
                         point=state.get("point"))
        elif kind == "Approved":
            facts["approver"] = state.get("actor")
        elif kind == "ItemDestroyed":
            facts["destroyed"][str(state.get("certificate_id"))] = state
    if facts.get("proposer") != body.get("proposed_by"):
        problems.append("proposed_by does not match the signed proposal")
    if facts.get("approver") != body.get("approved_by"):
        problems.append("approved_by does not match the signed approval")
    basis = body.get("legal_basis", {})
    if (facts.get("decision"), facts.get("point")) != (basis.get("decision"), basis.get("point")):
        problems.append("the legal basis does not match the signed proposal")
    certificates = {str(c.get("certificate", {}).get("certificate_id")): c
                    for c in body.get("certificates", [])}
    import json

    for row_item in body.get("items", []):
        if row_item.get("status") != ItemStatus.DESTROYED:
            continue
        cert_id = str(row_item.get("certificate_id"))
        signed = facts["destroyed"].get(cert_id)
        if signed is None:
            problems.append(f"item {row_item.get('copy_id')}: no signed destruction for "
                            f"certificate {cert_id}")
        else:
            for field, key in (("method", "method"), ("date", "date"), ("witness", "witness"),
                               ("destroyed_by", "actor"),
                               ("contractor_reference", "contractor_reference")):
                if str(row_item.get(field)) != str(signed.get(key)):
                    problems.append(f"item {row_item.get('copy_id')}: {field} does not match "
                                    "the signed destruction")
        certificate = certificates.get(cert_id)
        if certificate is None:
            problems.append(f"certificate {cert_id} is missing from the protocol")
            continue
        for problem in verify_certificate_text(json.dumps(certificate), vkeys):
            problems.append(f"certificate {cert_id}: {problem}")
        if str(certificate["certificate"].get("copy_id") or
               certificate["certificate"].get("record_id")) != str(
                row_item.get("copy_id") or row_item.get("record_id")):
            problems.append(f"certificate {cert_id} is about another item")
    return problems


def issue_and_check(rt: StoreParts, list_id: UUID) -> tuple[dict[str, Any], list[str]]:
    """The protocol as issued, and what an auditor's offline check of its JSON finds with
    the service's public keys (the demo shows both)."""
    import json

    from infrastructure.certificates import verify_certificate

    document = build_protocol(rt, list_id)
    rt.seal()
    vkeys = [k.vkey for k in rt.keyring.all()]
    return document, verify_certificate(json.dumps(document), vkeys)
