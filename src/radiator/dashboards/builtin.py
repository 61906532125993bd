"""Dashboards every Radiator has: its own health, and the golden signals of a service."""

from __future__ import annotations

from typing import Any

from radiator.dashboards.models import DashboardCreate

__all__ = ["BUILTIN_DASHBOARDS", "RADIATOR_HEALTH", "SERVICE_OVERVIEW"]


def _panel(panel_id: str, title: str, expr: str, x: int, y: int, **extra: Any) -> dict[str, Any]:
    return {"id": panel_id, "title": title, "queries": [{"expr": expr}], "x": x, "y": y,
            "w": extra.pop("w", 6), "h": extra.pop("h", 4), **extra}  # fmt: skip


RADIATOR_HEALTH = DashboardCreate.model_validate(
    {
        "slug": "radiator-health",
        "title": "Radiator health",
        "description": "Radiator's own telemetry: ingest, buffers, HTTP, background jobs.",
        "tags": ["radiator", "builtin"],
        "time_from": "now-1h",
        "refresh_seconds": 30,
        "panels": [
            _panel(
                "ingest-rate",
                "Accepted per second",
                "sum by (signal) (rate(radiator.ingest.accepted[1m]))",
                0,
                0,
                unit="/s",
            ),
            _panel(
                "ingest-problems",
                "Rejected, dropped, overloaded per second",
                "sum by (__name__) (rate({__name__=~"
                '"radiator.ingest.(rejected|dropped|overloaded|series_rejected)"}[5m]))',
                6,
                0,
                unit="/s",
            ),
            _panel(
                "buffer",
                "Ingest buffer fill",
                "max(radiator.ingest.buffer_fill)",
                0,
                4,
                w=3,
                type="stat",
                thresholds=[
                    {"value": 0, "state": "green"},
                    {"value": 0.5, "state": "amber"},
                    {"value": 0.8, "state": "red"},
                ],
            ),
            _panel(
                "wal",
                "Write-ahead log bytes",
                "max(radiator.ingest.wal_bytes)",
                3,
                4,
                w=3,
                type="stat",
                unit="B",
            ),
            _panel(
                "flush",
                "Flush latency (max per interval)",
                "max(radiator.ingest.flush_ms.max)",
                6,
                4,
                unit="ms",
            ),
            _panel(
                "http-rate",
                "API requests per second by route",
                "topk(8, sum by (route) (rate(radiator.http.requests[5m])))",
                0,
                8,
                unit="/s",
            ),
            _panel(
                "http-latency",
                "API latency p99 by route",
                "topk(8, p99 by (route) (radiator.http.latency_ms))",
                6,
                8,
                unit="ms",
            ),
            _panel(
                "jobs",
                "Background job failures",
                "max by (job) (radiator.job.failures)",
                0,
                12,
                type="table",
            ),
            _panel(
                "job-duration",
                "Background job duration",
                "max by (job) (radiator.job.duration_ms)",
                6,
                12,
                unit="ms",
            ),
        ],
    }
)

SERVICE_OVERVIEW = DashboardCreate.model_validate(
    {
        "slug": "service-overview",
        "title": "Service overview",
        "description": "The golden signals (traffic, errors, latency, saturation) of services.",
        "tags": ["builtin", "golden-signals"],
        "variables": [
            {
                "name": "service",
                "label": "Service",
                "tag": "service",
                "metric": "http.server.requests",
            }
        ],
        "panels": [
            _panel(
                "traffic",
                "Traffic (requests per second)",
                'sum by (service) (rate(http.server.requests{service=~"$service"}[5m]))',
                0,
                0,
                unit="/s",
            ),
            _panel(
                "errors",
                "Errors (share of 5xx)",
                "sum by (service) (rate("
                'http.server.requests{service=~"$service", status=~"5.*"}[5m]))'
                ' / sum by (service) (rate(http.server.requests{service=~"$service"}[5m]))',
                6,
                0,
                thresholds=[
                    {"value": 0, "state": "green"},
                    {"value": 0.01, "state": "amber"},
                    {"value": 0.05, "state": "red"},
                ],
            ),
            _panel(
                "latency",
                "Latency p50 / p95 / p99 (ms)",
                'max by (quantile) (http.server.latency_ms{service=~"$service"})',
                0,
                4,
                unit="ms",
            ),
            _panel(
                "saturation",
                "Saturation (CPU %)",
                'avg by (service) (process.cpu.percent{service=~"$service"})',
                6,
                4,
                unit="%",
                thresholds=[
                    {"value": 0, "state": "green"},
                    {"value": 70, "state": "amber"},
                    {"value": 90, "state": "red"},
                ],
            ),
            {
                "id": "logs",
                "title": "Recent errors",
                "type": "logs",
                "x": 0,
                "y": 8,
                "w": 12,
                "h": 4,
                "logs": {"service": "$service", "level": "ERROR", "limit": 30},
            },
        ],
    }
)

BUILTIN_DASHBOARDS: tuple[DashboardCreate, ...] = (RADIATOR_HEALTH, SERVICE_OVERVIEW)
