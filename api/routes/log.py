"""The transparency log: checkpoint, proofs, keys, export (the checkpoint and keys are
public; proofs and the export are for auditors and archivists)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.deps import CurrentActor
from api.schemas import BIGINT, SeqPath, TreeSizeQuery
from application.policy import require_audit, require_log_proofs
from application.ports import StoreExports, TransparencyLogReader
from domain.errors import NotFoundError

router = APIRouter(prefix="/api/v1", tags=["transparency log"])
Doc = dict[str, Any]


def _log(request: Request) -> TransparencyLogReader:
    log: TransparencyLogReader = request.app.state.runtime.log_reader
    return log


@router.get("/log/checkpoint", response_class=PlainTextResponse)
def checkpoint(request: Request, actor: CurrentActor) -> PlainTextResponse:
    note = _log(request).latest_checkpoint()
    if note is None:
        note = _log(request).seal_and_checkpoint()
    if note is None:
        raise NotFoundError("no event has been stored yet, so there is no checkpoint")
    return PlainTextResponse(note, media_type="text/plain; charset=utf-8")


@router.get("/log/entries/{seq}/inclusion")
def inclusion(seq: SeqPath, request: Request, actor: CurrentActor,
              tree_size: TreeSizeQuery = None) -> Doc:
    require_log_proofs(actor)
    log = _log(request)
    log.seal()
    result: Doc = log.inclusion(seq, tree_size)
    return result


@router.get("/log/entries/{seq}/proof", response_class=PlainTextResponse)
def proof_text(seq: SeqPath, request: Request, actor: CurrentActor) -> PlainTextResponse:
    """A self-contained tlog-proof (inclusion under the newest signed checkpoint)."""
    require_log_proofs(actor)
    log = _log(request)
    log.seal_and_checkpoint()
    return PlainTextResponse(log.proof_text(seq))


@router.get("/log/consistency")
def consistency(request: Request, actor: CurrentActor, first: int = Query(ge=0, le=BIGINT),
                second: int = Query(ge=1, le=BIGINT)) -> Doc:
    require_log_proofs(actor, doing="read consistency proofs")
    result: Doc = _log(request).consistency(first, second)
    return result


@router.get("/keys")
def keys(request: Request, actor: CurrentActor) -> Doc:
    keyring = request.app.state.runtime.keyring
    return {"keys": [k.as_dict() for k in keyring.all()]}


@router.get("/export")
def export(request: Request, actor: CurrentActor) -> Response:
    require_audit(actor, doing="export the store")
    exports: StoreExports = request.app.state.runtime
    data = exports.export_bundle()
    return Response(data, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="custody-bundle.json"'})
