"""ASGI guards every request passes before any route sees it.

- :class:`BodyLimit` counts the body's bytes as they arrive and answers 413
  (problem+json) as soon as the limit is passed: a declared ``Content-Length`` above it is
  refused before a byte of the body is read, a streamed (chunked) body when the counter
  passes it, so no body is ever held whole beyond the limit. The inventory upload has its
  own, larger limit.
- :class:`NoStore` marks every response ``Cache-Control: no-store`` unless the route set
  its own (static assets): the API and the web pages carry personal data.

Plain ASGI (no ``BaseHTTPMiddleware``): nothing here buffers a body.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_TYPE = "https://records-custody.example/problems/body-too-large"


class BodyTooLargeError(HTTPException):
    """The request's body passed its limit; an ``HTTPException`` so that FastAPI's own body
    parsing lets it through unchanged (it wraps every other error in a 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes; nothing was "
                              "stored")
        self.limit = limit


def too_large_body(limit: int) -> bytes:
    return json.dumps({
        "type": PROBLEM_TYPE, "title": "Request body too large", "status": 413,
        "detail": f"the request body is larger than {limit} bytes; nothing was stored",
        "limit": limit,
    }).encode()


class BodyLimit:
    def __init__(self, app: ASGIApp, *, default: int, upload: int,
                 upload_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.default = default
        self.upload = upload
        self.upload_paths = frozenset(upload_paths)

    def limit_for(self, path: str) -> int:
        return self.upload if path in self.upload_paths else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_too_large(send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLargeError:
            if started:
                raise
            await _send_too_large(send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_too_large(send: Send, limit: int) -> None:
    body = too_large_body(limit)
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})


class NoStore:
    """``Cache-Control: no-store`` on every response that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, marked)
