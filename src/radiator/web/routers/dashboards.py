"""Dashboards: CRUD, YAML export/import, all panels' data in one request, kiosk links."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from radiator.core.telemetry import EventFilter, LogFilter
from radiator.core.types import TimeRange
from radiator.dashboards import Dashboard, DashboardCreate, KioskLink, KioskLinkCreate, load_yaml
from radiator.dashboards.service import substitute
from radiator.errors import InvalidInputError, NotFoundError
from radiator.query.service import RangeSpec
from radiator.runtime import Runtime
from radiator.web.deps import CallerDep, Reader, RuntimeDep, Writer
from radiator.web.errors import problem_responses
from radiator.web.routers.query import QueryResultRead, TimeValue, range_spec, result_read

__all__ = ["DataRequest", "dashboard_data", "router"]

router = APIRouter(tags=["dashboards"])

_MAX_EVENTS = 500


class DataRequest(BaseModel):
    start: TimeValue | None = Field(None, description="RFC 3339, epoch s or now-6h")
    end: TimeValue | None = None
    step: TimeValue | None = None
    width: int = Field(600, ge=10, le=20000, description="Pixels of the widest panel")
    variables: dict[str, str] = Field(default_factory=dict)


class LogLine(BaseModel):
    time: datetime
    service: str
    level: str
    message: str
    trace_id: str


class EventMark(BaseModel):
    time: datetime
    kind: str
    service: str
    title: str
    actor: str
    links: list[str]


class PanelData(BaseModel):
    results: list[QueryResultRead] = []
    logs: list[LogLine] | None = None


class DashboardData(BaseModel):
    start: float
    end: float
    step: float | None
    panels: dict[str, PanelData]
    events: list[EventMark]


class AddPanel(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    expr: str = Field(min_length=1, max_length=8192)
    type: str = Field("timeseries", pattern="^(timeseries|stat|bar|table|heatmap)$")


class KioskCreated(BaseModel):
    link: KioskLink
    secret: str
    url: str


def _spec(runtime: Runtime, dashboard: Dashboard, body: DataRequest) -> RangeSpec:
    start = body.start if body.start is not None else dashboard.time_from
    return range_spec(runtime, start, body.end, body.step, body.width)


def dashboard_data(runtime: Runtime, dashboard: Dashboard, body: DataRequest) -> DashboardData:
    """Every panel's queries (one evaluation range), log panels' records, and the events of
    the range for the change overlay."""
    spec = _spec(runtime, dashboard, body)
    grid = spec.grid()
    requests = runtime.dashboards.panel_requests(dashboard, body.variables)
    outcomes = runtime.query.run_many([(r.key, r.expr) for r in requests], spec)
    panels: dict[str, PanelData] = {p.id: PanelData() for p in dashboard.panels}
    for outcome in outcomes:
        panel_id, _, query_id = outcome.id.partition("/")
        outcome.id = query_id
        panels[panel_id].results.append(result_read(outcome, instant=False))
    window = TimeRange(spec.start, max(spec.end, spec.start + timedelta(seconds=1)))
    chosen = {v.name: body.variables.get(v.name, v.default) for v in dashboard.variables}
    for panel in dashboard.panels:
        if panel.type == "logs" and panel.logs is not None:
            panels[panel.id].logs = _logs(runtime, panel.logs.model_dump(), chosen, window)
    events = runtime.telemetry.query_events(EventFilter(range=window, limit=_MAX_EVENTS))
    return DashboardData(
        start=grid.start_us / 1e6,
        end=grid.end_us / 1e6,
        step=grid.step_us / 1e6,
        panels=panels,
        events=[
            EventMark(
                time=e.time,
                kind=e.kind,
                service=e.service,
                title=e.title,
                actor=e.actor,
                links=list(e.links),
            )
            for e in events
        ],
    )


def _logs(
    runtime: Runtime, spec: dict[str, Any], chosen: dict[str, str], window: TimeRange
) -> list[LogLine]:
    service = substitute(spec["service"], chosen).replace("\\", "") if spec["service"] else ""
    query = LogFilter(
        range=window,
        services=(service,) if service and service != ".*" else (),
        levels=(spec["level"].upper(),) if spec["level"] else (),
        text=spec["text"] or None,
        limit=spec["limit"],
    )
    return [
        LogLine(
            time=r.time, service=r.service, level=r.level, message=r.message, trace_id=r.trace_id
        )
        for r in runtime.telemetry.query_logs(query)
    ]


@router.get("/dashboards", response_model=list[Dashboard], summary="List dashboards")
def list_dashboards(_: Reader, runtime: RuntimeDep) -> list[Dashboard]:
    return runtime.dashboards.list_dashboards()


@router.post(
    "/dashboards",
    response_model=Dashboard,
    status_code=201,
    responses=problem_responses(409),
    summary="Create a dashboard (JSON, or YAML with Content-Type application/yaml)",
)
def create_dashboard(
    _: Writer, caller: CallerDep, body: DashboardCreate, runtime: RuntimeDep
) -> Dashboard:
    return runtime.dashboards.create(body, caller)


@router.post(
    "/dashboard-imports",
    response_model=list[Dashboard],
    status_code=201,
    responses=problem_responses(409),
    summary="Create or replace UI dashboards from YAML text",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    },
)
async def import_dashboards(
    _: Writer, caller: CallerDep, runtime: RuntimeDep, request: Request
) -> list[Dashboard]:
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("the YAML must be UTF-8 text", field="body") from exc
    created = []
    for data in load_yaml(text, "request body"):
        if runtime.dashboards.exists(data.slug):
            created.append(runtime.dashboards.replace(data.slug, data, caller))
        else:
            created.append(runtime.dashboards.create(data, caller))
    return created


@router.get(
    "/dashboards/{slug}",
    response_model=Dashboard,
    responses=problem_responses(404),
    summary="One dashboard",
)
def get_dashboard(slug: str, _: Reader, runtime: RuntimeDep) -> Dashboard:
    return runtime.dashboards.get(slug)


@router.put(
    "/dashboards/{slug}",
    response_model=Dashboard,
    responses=problem_responses(404, 409),
    summary="Replace a dashboard; send If-Match-Version to refuse overwriting newer edits",
)
def replace_dashboard(
    slug: str,
    _: Writer,
    caller: CallerDep,
    body: DashboardCreate,
    runtime: RuntimeDep,
    version: Annotated[int | None, Query(ge=1, description="The version you edited")] = None,
) -> Dashboard:
    return runtime.dashboards.replace(slug, body, caller, expected_version=version)


@router.delete(
    "/dashboards/{slug}",
    status_code=204,
    responses=problem_responses(404, 409),
    summary="Delete a dashboard",
)
def delete_dashboard(slug: str, _: Writer, caller: CallerDep, runtime: RuntimeDep) -> Response:
    runtime.dashboards.delete(slug, caller)
    return Response(status_code=204)


@router.get(
    "/dashboards/{slug}/export",
    responses={200: {"content": {"application/yaml": {}}}, **problem_responses(404)},
    summary="The dashboard as YAML (dashboards as code)",
)
def export_dashboard(slug: str, _: Reader, runtime: RuntimeDep) -> Response:
    text = runtime.dashboards.export_yaml(slug)
    headers = {"Content-Disposition": f'attachment; filename="{slug}.yaml"'}
    return Response(text, media_type="application/yaml", headers=headers)


@router.post(
    "/dashboards/{slug}/panels",
    response_model=Dashboard,
    responses=problem_responses(404, 409),
    summary="Append a panel with one query (Explore's 'add to dashboard')",
)
def add_panel(
    slug: str, _: Writer, caller: CallerDep, body: AddPanel, runtime: RuntimeDep
) -> Dashboard:
    return runtime.dashboards.add_panel(slug, body.title, body.expr, caller, body.type)


@router.post(
    "/dashboards/{slug}/data",
    response_model=DashboardData,
    responses=problem_responses(404),
    summary="Every panel's data for one range, in one round trip",
)
def get_dashboard_data(
    slug: str, _: Reader, runtime: RuntimeDep, body: DataRequest | None = None
) -> DashboardData:
    return dashboard_data(runtime, runtime.dashboards.get(slug), body or DataRequest())


@router.get("/kiosk-links", response_model=list[KioskLink], summary="Kiosk (TV) links")
def list_kiosk_links(_: Writer, runtime: RuntimeDep) -> list[KioskLink]:
    return runtime.dashboards.list_kiosk_links()


@router.post(
    "/kiosk-links",
    response_model=KioskCreated,
    status_code=201,
    responses=problem_responses(404),
    summary="Create a read-only, revocable TV link rotating through dashboards",
)
def create_kiosk_link(
    _: Writer, caller: CallerDep, body: KioskLinkCreate, runtime: RuntimeDep
) -> KioskCreated:
    link, secret = runtime.dashboards.create_kiosk_link(body, caller)
    return KioskCreated(link=link, secret=secret, url=f"/tv/{secret}")


@router.delete(
    "/kiosk-links/{link_id}",
    response_model=KioskLink,
    responses=problem_responses(404),
    summary="Revoke a kiosk link: TVs showing it stop at their next refresh",
)
def revoke_kiosk_link(
    link_id: Annotated[int, Path(ge=1, le=2**62)], _: Writer, caller: CallerDep, runtime: RuntimeDep
) -> KioskLink:
    return runtime.dashboards.revoke_kiosk_link(link_id, caller)


@router.post(
    "/kiosk/{secret}/dashboards/{slug}/data",
    response_model=DashboardData,
    responses=problem_responses(404),
    summary="A kiosk's panel data: the link's secret is the credential, for its dashboards only",
)
def kiosk_data(
    secret: str, slug: str, runtime: RuntimeDep, body: DataRequest | None = None
) -> DashboardData:
    link = runtime.dashboards.kiosk(secret)
    if slug not in link.dashboards:
        raise NotFoundError(f"dashboard {slug!r} is not on this kiosk link")
    return dashboard_data(runtime, runtime.dashboards.get(slug), body or DataRequest())
