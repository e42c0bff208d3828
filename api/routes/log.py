"""The transparency log: checkpoint, proofs, keys, export (the checkpoint and keys are
public; proofs and the export are for auditors and archivists)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.deps import CurrentActor
from api.models import ConsistencyProof, InclusionProof, Keys
from api.schemas import BIGINT, SeqPath, TreeSizeQuery
from application.policy import require
from domain.actor import Role
from domain.errors import NotFoundError

router = APIRouter(prefix="/api/v1", tags=["transparency log"])
Doc = dict[str, Any]
AUDIT = (Role.AUDITOR, Role.ARCHIVIST, Role.ADMIN)


def _log(request: Request) -> Any:
    return request.app.state.runtime.log


@router.get("/log/checkpoint", response_class=PlainTextResponse)
def checkpoint(request: Request, actor: CurrentActor) -> PlainTextResponse:
    """The latest signed checkpoint (C2SP signed note: origin, tree size, root hash,
    signature lines)."""
    note = _log(request).latest_checkpoint()
    if note is None:
        note = _log(request).seal_and_checkpoint()
    if note is None:
        raise NotFoundError("no event has been stored yet, so there is no checkpoint")
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8")


@router.get("/log/entries/{seq}/inclusion", response_model=InclusionProof)
def inclusion(seq: SeqPath, request: Request, actor: CurrentActor,
              tree_size: TreeSizeQuery = None) -> Doc:
    """The RFC 9162 audit path of an event under a tree size (base64 hashes)."""
    require(actor, *AUDIT, Role.CUSTODIAN, doing="read inclusion proofs")
    log = _log(request)
    log.seal()
    result: Doc = log.inclusion(seq, tree_size)
    return result


@router.get("/log/entries/{seq}/proof", response_class=PlainTextResponse)
def proof_text(seq: SeqPath, request: Request, actor: CurrentActor) -> PlainTextResponse:
    """A self-contained tlog-proof (inclusion under the newest signed checkpoint)."""
    require(actor, *AUDIT, Role.CUSTODIAN, doing="read inclusion proofs")
    log = _log(request)
    log.seal_and_checkpoint()
    return PlainTextResponse(log.proof_text(seq))


@router.get("/log/consistency", response_model=ConsistencyProof)
def consistency(request: Request, actor: CurrentActor, first: int = Query(ge=0, le=BIGINT),
                second: int = Query(ge=1, le=BIGINT)) -> Doc:
    """The RFC 9162 consistency proof between two tree sizes (base64 hashes)."""
    require(actor, *AUDIT, Role.CUSTODIAN, doing="read consistency proofs")
    result: Doc = _log(request).consistency(first, second)
    return result


@router.get("/keys", response_model=Keys)
def keys(request: Request, actor: CurrentActor) -> Doc:
    """Every signing key, old ones included, with its C2SP verifier key."""
    keyring = request.app.state.runtime.keyring
    return {"keys": [k.as_dict() for k in keyring.all()]}


@router.get("/export", response_class=Response, responses={200: {
    "content": {"application/json": {"schema": {"type": "object"}}},
    "description": "The export bundle (events as signed, keys, checkpoints, views)"}})
def export(request: Request, actor: CurrentActor) -> Response:
    """The export bundle, for ``custody verify --bundle`` on any machine."""
    require(actor, *AUDIT, doing="export the store")
    from infrastructure.bundle import bundle_bytes

    data = bundle_bytes(request.app.state.runtime)
    return Response(data, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="custody-bundle.json"'})
