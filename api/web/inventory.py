"""Capture: uploading the Unikum inventory.

| URL | for | purpose |
| --- | --- | --- |
| ``/inventering`` | archivists | upload the Unikum inventory; per-row errors |
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response

from api.deps import get_runtime
from api.web.deps import CSRF, Errors, WebUser
from api.web.rendering import WebRoute, render, translator
from application.policy import require_capture
from domain.errors import InvalidInputError

router = APIRouter(include_in_schema=False, route_class=WebRoute)

MAX_INVENTORY_BYTES: Final = 100 * 1024 * 1024


# -- capture: the Unikum inventory ----------------------------------------------------------------


def _importer() -> Any:
    try:
        from application.importing import import_inventory
    except ImportError:
        return None
    return import_inventory


@router.get("/inventering")
def inventory_form(request: Request, principal: WebUser) -> Response:
    require_capture(principal, doing="import the Unikum inventory")
    return render(request, "inventory.html", principal=principal, errors={}, report=None,
                  available=_importer() is not None, filename="", title_key="inventory.title")


@router.post("/inventering", dependencies=CSRF)
async def upload_inventory(request: Request, principal: WebUser,
                           file: Annotated[UploadFile | None, File()] = None) -> Response:
    require_capture(principal, doing="import the Unikum inventory")
    t = translator(request)
    importer = _importer()
    errors: Errors = {}
    report = None
    filename = (file.filename or "") if file else ""
    if importer is None:
        errors["file"] = t("inventory.unavailable")
    elif file is None or not filename:
        errors["file"] = t("errors.file_required")
    else:
        data = await file.read(MAX_INVENTORY_BYTES + 1)
        if len(data) > MAX_INVENTORY_BYTES:
            errors["file"] = t("errors.file_too_large", megabytes=MAX_INVENTORY_BYTES // 2**20)
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                errors["file"] = t("errors.file_not_utf8")
            else:
                from starlette.concurrency import run_in_threadpool

                try:
                    report = await run_in_threadpool(importer, get_runtime(request).custody,
                                                     principal, text)
                except InvalidInputError as error:
                    errors["file"] = t("errors.file_unreadable", detail=t.message(str(error)).text)
    status = 422 if errors else (200 if report is None or report.ok else 422)
    return render(request, "inventory.html", principal=principal, errors=errors, report=report,
                  available=importer is not None, filename=filename, status=status,
                  canonical="/inventering", title_key="inventory.title")
