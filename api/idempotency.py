"""``Idempotency-Key`` on every POST of the API (plain ASGI middleware).

The same key from the same actor with the same request (method, path, query and body)
gets the first answer again — status, content type and body — and nothing runs twice;
the same key with another request is refused with 422. The answer is stored with the
key (``IdempotencyStore``, a table beside the views) for 24 hours.

- A request still running under the key (or whose process died before it answered)
  gets 409 ``idempotency-in-progress``: its outcome is not known yet, and the answer
  says so instead of running the command a second time.
- A 503 (nothing was stored) or a 401 is not kept: the retry runs.
- Without a valid token the request passes on unchanged (and is answered 401).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from application.ports import IdempotencyStore
from domain.errors import DomainError

HEADER = b"idempotency-key"
TYPE_BASE = "https://records-custody.example/problems/"
MAX_KEY = 255
NOT_KEPT = frozenset({401, 503})


def _problem(status: int, kind: str, title: str, detail: str) -> tuple[int, bytes]:
    return status, json.dumps({"type": TYPE_BASE + kind, "title": title, "status": status,
                               "detail": detail}).encode()


class Idempotency:
    def __init__(self, app: ASGIApp, *,
                 store: Callable[[Scope], IdempotencyStore | None],
                 actor_of: Callable[[Scope, str | None], str | None]) -> None:
        self.app = app
        self.store = store
        self.actor_of = actor_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER)
        if (scope["type"] != "http" or scope["method"] != "POST" or key is None
                or not scope["path"].startswith("/api/")):
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
            await _send(send, *_problem(
                422, "invalid-input", "Invalid Idempotency-Key",
                f"Idempotency-Key must be 1 to {MAX_KEY} printable ASCII characters"))
            return
        store = self.store(scope)
        body = await _read_body(receive)
        replay = _replaying(body, receive)
        fingerprint = hashlib.sha256(b"\n".join([
            scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""),
            hashlib.sha256(body).hexdigest().encode()])).hexdigest()
        try:
            actor = await run_in_threadpool(self.actor_of, scope, _token(scope))
            if store is None or actor is None:
                stored = None
            else:
                stored = await run_in_threadpool(store.claim, actor, key, fingerprint)
        except Exception:  # the database: running the command unkept could run it twice
            await _send(send, *_problem(
                503, "database-unavailable", "The database is busy or unreachable",
                "the Idempotency-Key could not be checked, so nothing was done or stored; "
                "try again in a moment"))
            return
        if store is None or actor is None:
            await self.app(scope, replay, send)
            return
        if stored is not None:
            await self._answer_again(send, stored.fingerprint == fingerprint, stored.status,
                                     stored.content_type, stored.body, stored.age_seconds)
            return
        status = 0
        content_type = "application/json"
        chunks: list[bytes] = []

        async def kept(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = int(message["status"])
                content_type = (_header({"headers": message.get("headers", [])},
                                        b"content-type") or content_type)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        # An exception leaves the claim unfinished on purpose: the outcome is unknown,
        # and a retry is told so (409) instead of running the command again.
        await self.app(scope, replay, kept)
        if status in NOT_KEPT or status == 0:
            await run_in_threadpool(store.release, actor, key)
        else:
            await run_in_threadpool(store.complete, actor, key, status, content_type,
                                    b"".join(chunks))

    @staticmethod
    async def _answer_again(send: Send, same: bool, status: int | None, content_type: str,
                            body: bytes, age: float) -> None:
        if not same:
            await _send(send, *_problem(
                422, "idempotency-key-reused", "Idempotency-Key used for another request",
                "this Idempotency-Key was used by you for a different request (method, path "
                "or body) in the last 24 hours; nothing was done"))
        elif status is None:
            await _send(send, *_problem(
                409, "idempotency-in-progress", "The first request with this key has not "
                "answered", f"a request with this Idempotency-Key started {age:.0f} s ago and "
                "has not answered (or its process stopped): its outcome is unknown; read the "
                "resource to find out before trying with a new key"))
        else:
            await _send(send, status, body, content_type, replayed=True)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:
                return ""
    return None


def _token(scope: Scope) -> str | None:
    auth = _header(scope, b"authorization") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return None


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _send(send: Send, status: int, body: bytes,
                content_type: str = "application/problem+json", *,
                replayed: bool = False) -> None:
    headers = [(b"content-type", content_type.encode("latin-1")),
               (b"content-length", str(len(body)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def actor_from_runtime(scope: Scope, token: str | None) -> str | None:
    """The actor a bearer token stands for, or None (the route will answer 401)."""
    app: Any = scope.get("app")
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    if runtime is None or not token:
        return None
    try:
        return str(runtime.custody.authenticate(token).id)
    except DomainError:
        return None
