"""Bulk capture through HTTP: the same inventory CSV as ``custody import``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentActor, CustodyDep
from api.models import InventoryReport
from application.importing import import_inventory
from domain.errors import InvalidInputError

router = APIRouter(prefix="/api/v1", tags=["records"])


CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {
            "schema": {"type": "string"},
            "example": "kind,personnummer,name,school_id,class,title,category,sha256,pages\n",
        }},
    }
}


@router.post("/inventory", openapi_extra=CSV_BODY, response_model=InventoryReport)
async def import_csv(request: Request, actor: CurrentActor, custody: CustodyDep
                     ) -> dict[str, Any]:
    """Capture the Unikum inventory posted as ``text/csv``; 200 with the report (rejected
    rows named by line), idempotent like the command. The body is read as it streams in
    and refused with 413 past ``CUSTODY_MAX_UPLOAD_BYTES`` (50 MiB by default)."""
    chunks: list[bytes] = []
    async for chunk in request.stream():  # the body limit counts every chunk
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError("the inventory must be UTF-8 text", field="body") from None
    del chunks
    report = await run_in_threadpool(import_inventory, custody, actor, text)
    return {
        "rows": report.rows,
        "captured_students": report.captured_students,
        "captured_general": report.captured_general,
        "already_captured": report.already_captured,
        "rejected": [{"line": e.line, "reason": e.reason} for e in report.rejected],
    }
