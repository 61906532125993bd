"""Builds the ASGI application: API under /api/v1, the UI, probes and background jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from radiator import __version__
from radiator.config import Settings
from radiator.ingest import SelfMetrics
from radiator.jobs import Scheduler, schedule_builtin_jobs
from radiator.runtime import Runtime
from radiator.web.errors import install_error_handlers, problem_responses
from radiator.web.middleware import RequestContextMiddleware
from radiator.web.routers import (
    alerts,
    archive,
    audit,
    auth,
    catalog,
    dashboards,
    explore,
    health,
    influx,
    ingest,
    logmetrics,
    notify,
    oncall,
    oncall_ui,
    otlp,
    prometheus,
    query,
    remote_write,
    rum,
    tail,
    tokens,
    users,
)
from radiator.web.udp import StatsdServer
from radiator.web.ui import alerts as alerts_page
from radiator.web.ui import dashboards as dashboards_page
from radiator.web.ui import events as events_page
from radiator.web.ui import explore as explore_page
from radiator.web.ui import logs as logs_page
from radiator.web.ui import pages
from radiator.web.ui import services as services_page
from radiator.web.ui import traces as traces_page

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"
_STATIC = Path(__file__).parent / "ui" / "static"


JobsHook = Callable[[Scheduler, Runtime], None]


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    run_jobs: bool = True,
    configure_jobs: JobsHook | None = None,
    demo_login: dict[str, str] | None = None,
) -> FastAPI:
    """Create the app.

    Args:
        settings: the process's settings.
        runtime: when given, the caller owns (and closes) it; otherwise the app builds one at
            start-up and closes it at shutdown, after flushing buffered telemetry.
        run_jobs: start the background jobs and the StatsD listener (tests turn them off and
            run the jobs by hand).
        configure_jobs: registers extra jobs, e.g. the demo's live feed.
        demo_login: ``{"key", "username"}`` enables the demo's one-click login link.
    """
    metrics = runtime.self_metrics if runtime is not None else SelfMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or Runtime(settings, self_metrics=metrics)
        app.state.runtime = rt
        scheduler = Scheduler()
        app.state.scheduler = scheduler
        # Before the built-in jobs, so its last flush on shutdown precedes the ingest flush.
        statsd = StatsdServer(rt, scheduler)
        app.state.statsd = statsd
        schedule_builtin_jobs(scheduler, rt)
        if configure_jobs is not None:
            configure_jobs(scheduler, rt)
        if run_jobs:
            scheduler.start()
            statsd.start()
        try:
            yield
        finally:
            statsd.stop()
            scheduler.stop()
            if owned:
                rt.close()

    app = FastAPI(
        title="Radiator",
        version=__version__,
        description="Telemetry, information radiators, alerting, experiments and learning.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    if runtime is not None:
        app.state.runtime = runtime
    app.state.self_metrics = metrics
    app.state.demo_login = demo_login
    install_error_handlers(app)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        metrics=metrics if settings.self_telemetry else None,
    )

    # Errors any API route can answer with; routes declare their own 404/409/429 on top.
    api = APIRouter(prefix=API_PREFIX, responses=problem_responses(400, 401, 403, 413, 422))
    for module in (auth, users, tokens, catalog, audit, ingest, rum, explore):
        api.include_router(module.router)
    api.include_router(remote_write.router)
    api.include_router(tail.router)
    api.include_router(logmetrics.router)
    api.include_router(query.router)
    api.include_router(dashboards.router)
    api.include_router(oncall.router)
    api.include_router(alerts.router)
    api.include_router(notify.router)
    api.include_router(archive.router)
    app.include_router(api)
    # OTLP/HTTP lives at the root, where exporters append /v1/<signal> to the endpoint.
    app.include_router(otlp.router)
    # The InfluxDB write API (/write, /api/v2/write, /ping) sits at the root like Influx's.
    app.include_router(influx.router)
    # The browser script is served at the root: pages include <script src=".../rum.js">.
    app.include_router(rum.script_router)
    app.include_router(health.router)
    app.include_router(prometheus.router)
    app.include_router(pages.router)
    app.include_router(oncall_ui.router)
    app.include_router(alerts_page.router)
    for ui in (explore_page, logs_page, traces_page, events_page, dashboards_page, services_page):
        app.include_router(ui.router)
    app.mount("/static", StaticFiles(directory=str(_STATIC)), name="static")
    return app
