"""The FastAPI app factory (composition root): ``uvicorn --factory api.app:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api import answers, docs, observability, problems
from api.deps import ServiceRuntime
from api.guards import BodyLimit, NoStore
from api.idempotency import Idempotency, actor_from_runtime
from api.observability import Metrics, configure_logging
from api.routes import (
    culling,
    deliveries,
    inventory,
    log,
    records,
    reports,
    requests,
    setup,
    staff,
    students,
)
from api.web import admin, signin, signin_pages
from api.web import archive_deliveries as web_deliveries
from api.web import assignments as web_assignments
from api.web import audit as web_audit
from api.web import culling_lists as web_culling_lists
from api.web import culls as web_culls
from api.web import fallback as web_fallback
from api.web import inventory as web_inventory
from api.web import labels as web_labels
from api.web import lists as web_lists
from api.web import orders as web_orders
from api.web import overview as web_overview
from api.web import personal_data as web_personal
from api.web import sessions as web_sessions
from api.web import static_files as web_static
from api.web import students as web_students
from api.web import work as web_work
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.idempotency import SQLIdempotencyStore
from infrastructure.settings import Settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the service; a given ``runtime`` is used and left open (tests share one)."""
    settings = settings or (runtime.settings if runtime else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or bootstrap(settings)
        served: ServiceRuntime = rt  # the doors see the runtime only as this (api/deps.py)
        app.state.runtime = served
        # Endpoints are plain ``def`` (the event store is synchronous) and run in anyio's
        # thread pool. A bounded pool queues excess requests instead of letting 40
        # threads contend for 2 cores and the database pools (lower p99, same throughput).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        app.state.idempotency = idempotency_store(rt)
        rt.custody.listeners.append(lambda _seq, n: metrics.event_appended(n))
        rt.custody.listeners.append(answers.remember_commit)
        if runtime is None:
            configure_logging()
            rt.start_background()
        try:
            yield
        finally:
            if runtime is None:
                rt.close()

    app = FastAPI(
        title="records-custody",
        version="0.1.0",
        summary="Chain of custody of school records through the Unikum shutdown "
        "(BU 2017/503 § 88).",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )

    metrics = Metrics()
    app.state.metrics = metrics
    observability.install(app, metrics)
    # Outermost last: the body limit sees every byte first; the idempotency keeper
    # reads a body only through it; innermost, what a request committed is remembered
    # so that no later failure answers it as if nothing was stored.
    app.add_middleware(answers.RememberWrites)
    app.add_middleware(Idempotency, store=lambda scope: getattr(scope["app"].state,
                                                                 "idempotency", None),
                       actor_of=actor_from_runtime)
    app.add_middleware(NoStore)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes,
                       upload=settings.max_upload_bytes,
                       upload_paths={"/api/v1/inventory", "/inventering"})
    problems.install(app)
    web_fallback.install(app)
    # The culling router first: it owns POST …/copies/{id}/cull (a paper copy is culled
    # from an approved culling list only).
    for router in (culling.router, deliveries.router, setup.router, staff.router,
                   records.router, inventory.router, requests.router, reports.router,
                   log.router, students.router, signin.router,
                   # /personal/kopplingar before the staff pages' /personal/{id}
                   web_assignments.router, admin.router, web_work.router,
                   web_personal.router, web_deliveries.router,
                   web_sessions.router, web_lists.router, web_culling_lists.router,
                   signin_pages.router,
                   web_overview.router, web_students.router, web_orders.router,
                   web_labels.router, web_culls.router, web_audit.router,
                   web_inventory.router, web_static.router):
        app.include_router(router)
    docs.install(app)

    return app


def idempotency_store(rt: Runtime) -> SQLIdempotencyStore:
    """The keys' table beside the views (the views' database, both backends)."""
    return SQLIdempotencyStore(rt.views.db)
