"""Liveness and readiness probes (no authentication, no audit)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from radiator import __version__
from radiator.errors import StorageError
from radiator.web.deps import RuntimeDep

router = APIRouter(tags=["health"])


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
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
