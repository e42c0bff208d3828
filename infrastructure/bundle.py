"""The export bundle and its offline verifier (``custody export`` / ``verify --bundle``).

One JSON file (gzip if the name ends in ``.gz``) that an auditor verifies on a machine
that never saw the service: every stored event exactly as signed, the public keys, every
signed checkpoint, and the projections as the service held them. The verifier checks
every signature and chain, that the log's root over the exported events equals each
signed checkpoint, consistency with checkpoints the auditor trusts from earlier, and
replays the projections from the events to compare them with the exported ones.
Personal data stays sealed: the bundle carries no key that opens it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from application.ports import ViewWriter
from application.projections import VIEWS, MemoryViewStore, ProjectionStoppedError, Projector
from infrastructure.keys import PublicKeys
from infrastructure.offline import decode, transcoder
from infrastructure.runtime_parts import StoreParts
from infrastructure.store_rows import iter_rows
from infrastructure.transparency.checkpoint import parse_verifier_key, successor_keys
from infrastructure.verification import Fault, RawKeys, Row, VerifyReport, verify_rows

FORMAT = "records-custody-bundle/v1"
COMPARED_VIEWS = (*VIEWS, "heads")


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A view document without its personal data (sealed differently each time)."""
    return {k: v for k, v in doc.items() if k != "personal"}


def bundle_dict(rt: StoreParts) -> dict[str, Any]:
    rt.seal()
    rt.queries.fresh()
    events = [
        [seq, rid, version, topic, base64.b64encode(state).decode()]
        for seq, rid, version, topic, state in iter_rows(rt.custody.recorder)
    ]
    views = {view: sorted((_comparable(d) for d in rt.views.all(view)),
                          key=lambda d: json.dumps(d, sort_keys=True))
             for view in COMPARED_VIEWS}
    return {
        "format": FORMAT,
        "origin": rt.settings.log_origin,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "public_keys": [k.as_dict() for k in rt.keyring.all()],
        # The signed checkpoints, then the key hand-overs (checkpoints naming a successor).
        "checkpoints": [*(note for _, _, note in rt.log.checkpoints()), *rt.log.handovers()],
        "events": events,
        "views": views,
    }


def bundle_bytes(rt: StoreParts) -> bytes:
    return json.dumps(bundle_dict(rt), separators=(",", ":")).encode()


def write_bundle(rt: StoreParts, path: Path) -> int:
    data = bundle_bytes(rt)
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return len(data)


def read_bundle(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    bundle: dict[str, Any] = json.loads(data)
    if bundle.get("format") != FORMAT:
        raise ValueError(f"{path} is not a records-custody bundle ({FORMAT})")
    return bundle


def verify_bundle(path: Path, *, trusted_checkpoints: Sequence[Path] = (),
                  trusted_keys: Sequence[str] = (), workers: int | None = None) -> VerifyReport:
    bundle = read_bundle(path)
    carried = PublicKeys.from_dicts(bundle["public_keys"])
    handed_over: list[tuple[str, int]] = []
    if trusted_keys:
        # The auditor's own keys are the anchor: a key the bundle merely carries proves
        # nothing, since whoever edits the bundle can add one. A key a trusted one named
        # as its successor, inside a checkpoint it signed, is trusted too (rotation).
        handed_over = successor_keys(bundle["checkpoints"], trusted_keys, str(bundle["origin"]))
        vkeys = [*trusted_keys, *(k for k, _ in handed_over)]
        raw = {parse_verifier_key(v).key_id.hex(): parse_verifier_key(v).public_key
               for v in vkeys}
        untrusted = [k.key_id for k in carried.all() if k.key_id not in raw]
    else:
        raw = carried.raw()
        vkeys = [k.vkey for k in carried.all()]
        untrusted = []
    rows: list[Row] = [(int(s), str(r), int(v), str(t), base64.b64decode(b))
                       for s, r, v, t, b in bundle["events"]]
    report = verify_rows(rows, raw, workers=workers)
    if not trusted_keys:
        report.notes.append("unanchored: the public keys were taken from the bundle itself; "
                            "pin the keys you trust with --keys FILE or --vkey")
    elif untrusted:
        report.notes.append(f"the bundle carries key(s) you do not trust: {', '.join(untrusted)}")
    for key, size in handed_over:
        report.notes.append(f"key {parse_verifier_key(key).key_id.hex()} trusted as the "
                            f"successor a trusted key named in the checkpoint of size {size}")
    origin = str(bundle["origin"])
    notes = [(0, b"", note) for note in bundle["checkpoints"]]
    report.check_checkpoints(notes, vkeys, origin)
    if not bundle["checkpoints"]:
        report.faults.append(Fault(None, "-", 0, "the bundle holds no signed checkpoint"))
    trusted = [(0, b"", p.read_text()) for p in trusted_checkpoints]
    if trusted:
        report.check_checkpoints(trusted, vkeys, origin, trusted=True)
    _replay_and_compare(rows, RawKeys(raw), bundle.get("views", {}), report)
    report.notes.append(f"bundle exported {bundle.get('exported_at')} by {origin}")
    return report


def _replay_and_compare(rows: list[Row], keys: RawKeys, exported: dict[str, Any],
                        report: VerifyReport) -> None:
    if report.faults:
        report.notes.append("projections not replayed: the events themselves are faulty")
        return
    store = MemoryViewStore()
    projector = Projector()
    codec = transcoder()
    try:
        # Every signature was checked a moment ago (and any fault stops us above).
        items = [decode(row, keys, codec, verified=True) for row in sorted(rows)]
        def change(w: ViewWriter) -> None:
            for item in items:
                projector.apply(w, item)

        store.apply(0, items[-1].seq if items else 0, change)
    except ProjectionStoppedError as error:
        report.faults.append(Fault(None, "-", 0, f"replay of the projections stopped: {error}"))
        return
    except Exception as error:
        report.faults.append(Fault(None, "-", 0, "replay of the projections failed on a "
                                   f"malformed event: {type(error).__name__}: {error}"))
        return
    for view in COMPARED_VIEWS:
        if view not in exported:
            # A bundle written before this view existed (e.g. copy_states): nothing to
            # compare it with; the events it is derived from were checked above.
            report.notes.append(f"view {view!r} not in the bundle: not compared")
            continue
        mine = {_key(d): _comparable(d) for d in store.all(view)}
        theirs = {_key(d): d for d in exported.get(view, [])}
        if _digest(mine) != _digest(theirs):
            differing = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
            report.faults.append(Fault(
                None, "-", 0,
                f"view {view!r} differs from the replay of the events: "
                f"{len(differing)} document(s), e.g. {differing[:3]}"))
    report.notes.append("projections replayed from the events and compared")


def _key(doc: dict[str, Any]) -> str:
    for field in ("id", "certificate_id", "record_id"):
        if doc.get(field):
            return str(doc[field])
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _digest(docs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(docs, sort_keys=True, default=str).encode()).hexdigest()
