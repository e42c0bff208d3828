"""The web pages' own static files (style sheet, scripts, images).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from api.web.rendering import SECURITY_HEADERS, WebRoute
from domain.errors import NotFoundError

router = APIRouter(include_in_schema=False, route_class=WebRoute)

STATIC: Final = Path(__file__).parent / "static"


# -- static files ---------------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise NotFoundError(f"no static file {name}")
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
    return FileResponse(path, headers=headers)
