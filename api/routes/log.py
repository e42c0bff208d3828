"""The transparency log: checkpoint, proofs, keys, export (the checkpoint and keys are
public; proofs and the export are for auditors and archivists)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from api.deps import CurrentActor, ExportsDep, KeysDep, LogDep
from api.models import ConsistencyProof, InclusionProof, Keys
from api.schemas import BIGINT, SeqPath, TreeSizeQuery
from application.policy import require_audit, require_log_proofs
from domain.errors import InvalidInputError, NotFoundError

router = APIRouter(prefix="/api/v1", tags=["transparency log"])
Doc = dict[str, Any]


@router.get("/log/checkpoint", response_class=PlainTextResponse)
def checkpoint(log: LogDep, actor: CurrentActor) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP signed note: origin, tree size, root hash,
    signature lines)."""
    note = log.latest_checkpoint()
    if note is None:
        note = log.seal_and_checkpoint()
    if note is None:
        raise NotFoundError("no event has been stored yet, so there is no checkpoint")
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8")


@router.get("/log/entries/{seq}/inclusion", response_model=InclusionProof)
def inclusion(seq: SeqPath, log: LogDep, actor: CurrentActor,
              tree_size: TreeSizeQuery = None) -> Doc:
    """The RFC 9162 audit path of an event under a tree size (base64 hashes)."""
    require_log_proofs(actor)
    log.seal()
    result: Doc = log.inclusion(seq, tree_size)
    return result


@router.get("/log/entries/{seq}/proof", response_class=PlainTextResponse)
def proof_text(seq: SeqPath, log: LogDep, actor: CurrentActor) -> PlainTextResponse:
    """A self-contained tlog-proof (inclusion under the newest signed checkpoint)."""
    require_log_proofs(actor)
    log.seal_and_checkpoint()
    return PlainTextResponse(log.proof_text(seq))


@router.get("/log/consistency", response_model=ConsistencyProof)
def consistency(log: LogDep, actor: CurrentActor, first: int = Query(ge=0, le=BIGINT),
                second: int = Query(ge=1, le=BIGINT)) -> Doc:
    """The RFC 9162 consistency proof between two tree sizes (base64 hashes)."""
    require_log_proofs(actor, doing="read consistency proofs")
    result: Doc = log.consistency(first, second)
    return result


@router.get("/keys", response_model=Keys)
def keys(keyring: KeysDep, actor: CurrentActor) -> Doc:
    """Every signing key, old ones included, with its C2SP verifier key."""
    return {"keys": [k.as_dict() for k in keyring.all()]}


@router.get("/export", response_class=Response, responses={200: {
    "content": {"application/json": {"schema": {"type": "object"}},
                "application/zip": {"schema": {"type": "string", "format": "binary"}}},
    "description": "The export bundle (events as signed, keys, checkpoints, views), or an "
                   "E-ARK SIP (zip) with format=sip"}})
def export(exports: ExportsDep, actor: CurrentActor,
           format: Literal["bundle", "sip"] = "bundle",
           school_year: int | None = Query(default=None, ge=2000, le=2100),
           culling_list: UUID | None = None) -> Response:
    """The export bundle (JSON), or with ``format=sip`` an E-ARK SIP (zip) for the
    e-archive: the bundle, PREMIS events, culling certificates, METS with SHA-256 of
    every file; ``school_year`` narrows a SIP to that year's closing."""
    require_audit(actor, doing="export the store")
    if school_year is not None and culling_list is not None:
        raise InvalidInputError("give school_year or culling_list, not both",
                                field="culling_list")
    if format == "sip":
        name = ("custody-sip.zip" if school_year is None and culling_list is None
                else f"custody-sip-{school_year or culling_list}.zip")
        return Response(exports.export_sip(school_year, culling_list),
                        media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    if school_year is not None or culling_list is not None:
        raise InvalidInputError("school_year and culling_list select what a SIP holds: add "
                                "format=sip", field="format")
    data = exports.export_bundle()
    return Response(data, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="custody-bundle.json"'})

