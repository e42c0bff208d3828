"""A committed write is never answered as if it was not.

Each request carries a :class:`WritesSeen` note; the application's commit listener
(called right after every commit, in the thread that committed) writes the log position
into it. If anything fails after that — reading the result back, a lost pooled
connection, views that lag — the error handlers ask :func:`answer_after_commit` first:
the answer is then the route's success status with what is known (the change was
stored at that position), never a 503 "nothing was stored" or a 409.

May import: starlette/fastapi and the standard library.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class WritesSeen:
    """What this request committed: the last log position and how many events."""

    seq: int | None = None
    events: int = 0


_current: ContextVar[WritesSeen | None] = ContextVar("custody_writes_seen", default=None)


class RememberWrites:
    """ASGI middleware: a fresh :class:`WritesSeen` for every HTTP request. The note is
    one mutable object, so what a worker thread writes into it (its context is a copy)
    is seen by the error handlers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = WritesSeen()
        scope.setdefault("state", {})["writes_seen"] = seen
        token = _current.set(seen)
        try:
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)


def remember_commit(seq: int, events: int) -> None:
    """The application's commit listener: note the commit in the current request."""
    seen = _current.get()
    if seen is not None:
        seen.seq = seq if seen.seq is None else max(seen.seq, seq)
        seen.events += events


def writes_seen(request: Request) -> WritesSeen | None:
    seen = request.scope.get("state", {}).get("writes_seen")
    return seen if isinstance(seen, WritesSeen) else None


def answer_after_commit(request: Request, error: BaseException) -> JSONResponse | None:
    """The success answer for a request whose write was committed before ``error``
    (which then only concerns reading the result back); None if nothing was committed."""
    seen = writes_seen(request)
    if seen is None or seen.seq is None:
        return None
    route = request.scope.get("route")
    status = getattr(route, "status_code", None) or 200
    body: dict[str, Any] = {
        "stored": True,
        "seq": seen.seq,
        "detail": (f"the change was stored (log position {seen.seq}); reading the result "
                   f"back failed ({type(error).__name__}): GET it to see it, do not send it "
                   "again"),
        **{name: str(value) for name, value in request.path_params.items()},
    }
    return JSONResponse(body, status_code=status,
                        headers={"Custody-Write": f"stored; seq={seen.seq}"})
