"""The FastAPI app factory (composition root): ``uvicorn --factory api.app:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import docs, observability, problems
from api.guards import BodyLimit, NoStore
from api.idempotency import Idempotency, actor_from_runtime
from api.observability import Metrics, configure_logging
from api.routes import inventory, log, records, reports, requests, setup
from api.web import routes as web
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.idempotency import SQLIdempotencyStore
from infrastructure.settings import Settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the service; a given ``runtime`` is used and left open (tests share one)."""
    settings = settings or (runtime.settings if runtime else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or bootstrap(settings)
        app.state.runtime = rt
        app.state.idempotency = idempotency_store(rt)
        rt.custody.listeners.append(lambda _seq, n: metrics.event_appended(n))
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
    # reads a body only through it.
    app.add_middleware(Idempotency, store=lambda scope: getattr(scope["app"].state,
                                                                 "idempotency", None),
                       actor_of=actor_from_runtime)
    app.add_middleware(NoStore)
    app.add_middleware(BodyLimit, default=settings.max_body_bytes,
                       upload=settings.max_upload_bytes,
                       upload_paths={"/api/v1/inventory", "/inventering"})
    problems.install(app)
    for router in (setup.router, records.router, inventory.router, requests.router,
                   reports.router, log.router, web.router):
        app.include_router(router)
    docs.install(app)

    return app


def idempotency_store(rt: Runtime) -> SQLIdempotencyStore:
    """The keys' table beside the views (the views' database, both backends)."""
    return SQLIdempotencyStore(rt.views.db)
