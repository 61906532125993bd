"""Liveness and readiness probes (no authentication, no audit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from radiator import __version__
from radiator.errors import StorageError
from radiator.web.deps import RuntimeDep

router = APIRouter(tags=["health"])


def _iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)).isoformat()


@router.get("/healthz", summary="Liveness: the process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/readyz",
    summary="Readiness: both stores answer",
    responses={503: {"description": "A store is not reachable"}},
)
def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        runtime.db.ping()
        checks["state_store"] = "ok"
    except StorageError as exc:
        checks["state_store"] = exc.message
    checks["telemetry_store"] = "ok" if runtime.telemetry.healthy() else "unreachable"
    ready = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not ready", "checks": checks}
    # Informational: reads work (from the store) while recent points are still loading.
    recent = runtime.telemetry.recent_stats()
    if recent is not None:
        body["recent_points"] = {
            "state": "ready" if recent.ready else "failed" if recent.failed else "loading",
            "series": recent.series,
            "points": recent.points,
            "bytes": recent.bytes,
            "max_bytes": recent.max_bytes,
            "from": _iso(recent.horizon_us),
        }
    return JSONResponse(body, status_code=200 if ready else 503)
