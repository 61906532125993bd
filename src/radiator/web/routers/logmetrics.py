"""Logs to metrics: rules that count log records into metrics, under /api/v1/log-metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from radiator.jobs.logmetrics import log_metric_service
from radiator.query.logmetrics import LogMetricRule, LogMetricRuleBody, LogMetricRuleCreate
from radiator.web.deps import CallerDep, Reader, RuntimeDep, Writer
from radiator.web.errors import problem_responses

__all__ = ["router"]

router = APIRouter(tags=["log metrics"])

RuleName = Annotated[str, Path(max_length=63, description="The rule's name")]
_MISSING = problem_responses(404)
_CONFLICT = problem_responses(409)
_MISSING_OR_CONFLICT = problem_responses(404, 409)


@router.get("/log-metrics", summary="List log metric rules")
def list_log_metrics(_: Reader, runtime: RuntimeDep) -> list[LogMetricRule]:
    return log_metric_service(runtime).list_rules()


@router.post(
    "/log-metrics",
    status_code=201,
    summary="Create a rule that counts log records into a metric",
    description="The metric (default `logs.<name>`) gets one counter point per interval "
    "and group; the rule also counts `log_metrics_backfill_hours` of history.",
    responses=_CONFLICT,
)
def create_log_metric(
    _: Writer, caller: CallerDep, body: LogMetricRuleCreate, runtime: RuntimeDep
) -> LogMetricRule:
    return log_metric_service(runtime).create_rule(body, caller)


@router.get("/log-metrics/{name}", summary="One log metric rule", responses=_MISSING)
def get_log_metric(_: Reader, name: RuleName, runtime: RuntimeDep) -> LogMetricRule:
    return log_metric_service(runtime).get_rule(name)


@router.put(
    "/log-metrics/{name}",
    summary="Replace what a rule counts (rules from files are read-only)",
    description="Counts already written stay as they were; new buckets use the new rule.",
    responses=_MISSING_OR_CONFLICT,
)
def replace_log_metric(
    _: Writer, caller: CallerDep, name: RuleName, body: LogMetricRuleBody, runtime: RuntimeDep
) -> LogMetricRule:
    return log_metric_service(runtime).replace_rule(name, body, caller)


@router.delete(
    "/log-metrics/{name}",
    status_code=204,
    summary="Delete a rule (rules from files are read-only)",
    description="Its points stay until retention removes them.",
    responses=_MISSING_OR_CONFLICT,
)
def delete_log_metric(
    _: Writer, caller: CallerDep, name: RuleName, runtime: RuntimeDep
) -> Response:
    log_metric_service(runtime).delete_rule(name, caller)
    return Response(status_code=204)
