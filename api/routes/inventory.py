"""Bulk capture through HTTP: the same inventory CSV as ``custody import``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.deps import CurrentActor, CustodyDep
from application.importing import import_inventory
from domain.errors import InvalidInputError

router = APIRouter(prefix="/api/v1", tags=["records"])
MAX_BYTES = 200 * 1024 * 1024


CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {
            "schema": {"type": "string"},
            "example": "kind,personnummer,name,school_id,class,title,category,sha256,pages\n",
        }},
    }
}


@router.post("/inventory", openapi_extra=CSV_BODY)
async def import_csv(request: Request, actor: CurrentActor, custody: CustodyDep
                     ) -> dict[str, Any]:
    """Capture the Unikum inventory posted as ``text/csv``; 200 with the report (rejected
    rows named by line), idempotent like the command."""
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise InvalidInputError("the inventory is larger than 200 MB; use custody import")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError("the inventory must be UTF-8 text", field="body") from None
    from starlette.concurrency import run_in_threadpool

    report = await run_in_threadpool(import_inventory, custody, actor, text)
    return {
        "rows": report.rows,
        "captured_students": report.captured_students,
        "captured_general": report.captured_general,
        "already_captured": report.already_captured,
        "rejected": [{"line": e.line, "reason": e.reason} for e in report.rejected],
    }
