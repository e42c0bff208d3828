"""The OpenAPI document integrators build on, and its pages served without internet.

- Swagger UI at ``/docs`` and ReDoc at ``/redoc`` load their scripts from this service
  (``/docs/assets/``, the files the ``fastapi-offline`` package ships), never a CDN.
- Every error answer is documented as ``application/problem+json`` with one ``Problem``
  schema, for each status the operation can give: 401/403 where a token is needed, 404
  where an id is named, 409 for changes, 413 for bodies, 422 for input, 500/503 always.
- Every POST documents the ``Idempotency-Key`` header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457 problem details).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What happened, and whether anything "
                                                      "was stored"},
        "errors": {"type": "array", "description": "422: the fields at fault",
                   "items": {"type": "object", "required": ["field", "message"],
                             "properties": {"field": {"type": "string"},
                                            "message": {"type": "string"}}}},
        "id": {"type": "string", "description": "409 already-exists: the existing id"},
        "missing": {"type": "array", "items": {"type": "object"},
                    "description": "409 agreement-not-ready: what is missing"},
        "request_id": {"type": "string",
                       "description": "403 for a document request: the logged refusal"},
        "limit": {"type": "integer", "description": "413: the limit in bytes"},
    },
    "additionalProperties": True,
}
WHY = {
    401: "No token, or an unknown or revoked one",
    403: "The role or relationship does not allow it (a refused document request is "
         "logged anyway)",
    404: "An id named in the path or body does not exist",
    409: "An illegal transition, a concurrent change, or a repeated Idempotency-Key whose "
         "first request has not answered",
    413: "The body is larger than the configured limit (refused before it is read whole)",
    422: "Malformed input (the fields at fault are in `errors`), or an Idempotency-Key "
         "used before with another request",
    500: "An unexpected failure: the outcome of a write is unknown, read before retrying",
    503: "The database is busy or unreachable, or the views are behind: nothing was stored",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any string of up to 255 printable ASCII characters: the same key from "
                   "the same actor with the same request gets the first answer again (for "
                   "24 hours) and changes nothing; with another request, 422.",
    "schema": {"type": "string", "maxLength": 255},
}


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    statuses = [500, 503]
    secured = bool(operation.get("security"))
    if secured:
        statuses += [401, 403]
    if "{" in path or method in ("post", "delete") or path.startswith("/api/v1/log/"):
        statuses.append(404)
    if method in ("post", "delete"):
        statuses.append(409)
    if method == "post":
        statuses.append(413)
    if operation.get("parameters") or operation.get("requestBody") or method == "post":
        statuses.append(422)
    return sorted(set(statuses))


HEALTH = {
    "description": "Whether the database answers, how far the views lag behind the log, "
                   "and the transparency log's size; 503 when something is wrong. No token.",
    "responses": {
        "200": {"description": "Healthy", "content": {"application/json": {"schema": {
            "type": "object", "required": ["status"], "additionalProperties": True,
            "properties": {"status": {"type": "string"}, "database": {"type": "string"},
                           "events": {"type": "integer"}, "projection": {"type": "object"},
                           "log": {"type": "object"}}}}}},
        "503": {"description": "The database is unreachable, or the views or the log "
                               "stopped", "content": {"application/json": {"schema": {
                                   "type": "object", "additionalProperties": True}}}},
    },
}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    schemas = schema["components"]["schemas"]
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            if path == "/healthz":
                operation.update(HEALTH)
                continue
            responses = operation.setdefault("responses", {})
            for status in error_statuses(path, method, operation):
                responses[str(status)] = {
                    "description": WHY[status],
                    "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                }
            if method == "post":
                params = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in params):
                    params.append(IDEMPOTENCY_KEY)
    return schema


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(get_openapi(
                title=app.title, version=app.version, summary=app.summary,
                description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title} — API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} — API",
                              redoc_js_url="/docs/assets/redoc.standalone.js",
                              redoc_favicon_url="/docs/assets/favicon.png",
                              with_google_fonts=False)
