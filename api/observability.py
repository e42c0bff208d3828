"""Operations: JSON logs with a request id, Prometheus metrics, health with lag.

The metrics are a few counters and one latency histogram kept in-process and written in
the Prometheus text format (0.0.4) at ``GET /metrics``; no client library is needed for
that, and nothing global: the registry hangs off the app.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import CurrentActor, get_runtime
from application.policy import require_metrics

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "path", "status", "duration_ms", "actor"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("custody")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events_appended = 0
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.latency_buckets: dict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_count: dict[str, int] = defaultdict(int)
        self.verification_failures = 0

    def event_appended(self, count: int = 1) -> None:
        with self._lock:
            self.events_appended += count

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            key = f"{method} {route}"
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.latency_buckets[key][i] += 1
            self.latency_sum[key] += seconds
            self.latency_count[key] += 1

    def render(self, lag: int, position: int, log_size: int, stopped: bool) -> str:
        lines = [
            "# HELP custody_events_appended_total Events stored by this process.",
            "# TYPE custody_events_appended_total counter",
            f"custody_events_appended_total {self.events_appended}",
            "# HELP custody_projection_lag_events Events stored but not yet in the views.",
            "# TYPE custody_projection_lag_events gauge",
            f"custody_projection_lag_events {lag}",
            "# HELP custody_projection_position The last seq applied to the views.",
            "# TYPE custody_projection_position gauge",
            f"custody_projection_position {position}",
            "# HELP custody_projection_stopped 1 if the views stopped at a forged event.",
            "# TYPE custody_projection_stopped gauge",
            f"custody_projection_stopped {int(stopped)}",
            "# HELP custody_log_size Leaves in the transparency log.",
            "# TYPE custody_log_size gauge",
            f"custody_log_size {log_size}",
            "# HELP custody_verification_failures_total Signature or chain failures seen.",
            "# TYPE custody_verification_failures_total counter",
            f"custody_verification_failures_total {self.verification_failures}",
            "# HELP custody_http_requests_total HTTP requests by route and status.",
            "# TYPE custody_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(f'custody_http_requests_total{{method="{method}",route="{route}",'
                             f'status="{status}"}} {n}')
            lines += ["# HELP custody_http_request_duration_seconds Request latency.",
                      "# TYPE custody_http_request_duration_seconds histogram"]
            for key in sorted(self.latency_count):
                method, route = key.split(" ", 1)
                labels = f'method="{method}",route="{route}"'
                for bound, n in zip(BUCKETS, self.latency_buckets[key], strict=True):
                    lines.append(f'custody_http_request_duration_seconds_bucket{{{labels},'
                                 f'le="{bound}"}} {n}')
                lines.append(f'custody_http_request_duration_seconds_bucket{{{labels},'
                             f'le="+Inf"}} {self.latency_count[key]}')
                lines.append(f"custody_http_request_duration_seconds_sum{{{labels}}} "
                             f"{self.latency_sum[key]:.6f}")
                lines.append(f"custody_http_request_duration_seconds_count{{{labels}}} "
                             f"{self.latency_count[key]}")
        return "\n".join(lines) + "\n"


class RequestIdAndTiming:
    """Plain ASGI middleware (cheaper than ``@app.middleware``): a request id on every
    response, the latency histogram, and one JSON access-log line per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log: logging.Logger) -> None:
        self.app = app
        self.metrics = metrics
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1") or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], route, status, elapsed)
            principal = scope.get("state", {}).get("principal")
            self.log.info("request", extra={
                # The route template, never the raw path: paths can hold a personnummer.
                "request_id": request_id, "method": scope["method"], "path": route,
                "status": status, "duration_ms": round(elapsed * 1000, 2),
                "actor": getattr(principal, "id", None),
            })


def install(app: FastAPI, metrics: Metrics) -> None:
    access = logging.getLogger("custody.access")

    app.add_middleware(RequestIdAndTiming, metrics=metrics, log=access)

    @app.get("/metrics", include_in_schema=False)
    def prometheus(request: Request, actor: CurrentActor) -> PlainTextResponse:
        require_metrics(actor)
        text = metrics.render(*get_runtime(request).gauges())
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    @app.get("/healthz", tags=["operations"])
    def healthz(request: Request) -> JSONResponse:
        healthy, body = get_runtime(request).health()
        return JSONResponse(body, status_code=200 if healthy else 503)
