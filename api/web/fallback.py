"""Error pages for addresses no route knows: a mistyped web address gets the Swedish (or
English) "not found" page, never the API's JSON; API paths keep their problem+json.

:func:`install` wraps whatever handler ``api.problems`` registered for Starlette's HTTP
errors, so the API's answers stay exactly as that module makes them.

May import Starlette and :mod:`api.web.rendering`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from api.web.rendering import render

NOT_WEB: Final = ("/api/", "/healthz", "/metrics", "/docs", "/redoc", "/openapi")


def is_web_path(path: str) -> bool:
    return not path.startswith(NOT_WEB)


def install(app: FastAPI) -> None:
    previous: Any = app.exception_handlers.get(StarletteHTTPException)

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if is_web_path(request.url.path) and error.status_code in (404, 405):
            return render(request, "error.html", status=404, kind="not_found", detail="",
                          code=404, title_key="error.not_found.title")
        if previous is None:
            raise error
        handler: Callable[[Request, Exception], Response | Awaitable[Response]] = previous
        answer = handler(request, error)
        if isinstance(answer, Response):
            return answer
        return await answer

    app.add_exception_handler(StarletteHTTPException, on_http)
