"""The FastAPI app factory (composition root): ``uvicorn --factory api.app:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import observability, problems
from api.observability import Metrics, configure_logging
from api.routes import inventory, log, records, reports, requests, setup, students
from api.web import routes as web
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the service; a given ``runtime`` is used and left open (tests share one)."""
    settings = settings or (runtime.settings if runtime else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or bootstrap(settings)
        app.state.runtime = rt
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
    )

    metrics = Metrics()
    app.state.metrics = metrics
    observability.install(app, metrics)
    problems.install(app)
    for router in (setup.router, records.router, inventory.router, requests.router,
                   reports.router, log.router, students.router, web.router):
        app.include_router(router)

    return app
