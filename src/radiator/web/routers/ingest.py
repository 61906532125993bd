"""The native batch ingest endpoint: points, events, logs and spans in one JSON body."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from radiator.errors import InvalidInputError
from radiator.ingest import IngestResult, NativeFormatError, decode_native
from radiator.web.deps import Ingester, RuntimeDep
from radiator.web.errors import problem_responses, request_problem

router = APIRouter(tags=["ingest"])


class RejectionRead(BaseModel):
    signal: str
    index: int = Field(description="Position of the item in its list, from 0.")
    reason: str


class IngestSummary(BaseModel):
    accepted: int
    rejected: int
    errors: list[RejectionRead] = Field(description="The first 100 rejections.")


def summary_of(result: IngestResult) -> dict[str, Any]:
    return {
        "accepted": result.accepted,
        "rejected": result.rejected,
        "errors": [
            {"signal": e.signal, "index": e.index, "reason": e.reason} for e in result.errors
        ],
    }


def rejected_everything(
    request: Request, result: IngestResult, what: str, where: str | None = None
) -> JSONResponse:
    """422 problem+json for a batch of which nothing could be stored; each rejection is named
    ``<signal>[<index>]``, or ``<where>[<index>]`` when the items have a protocol's own name."""
    first = result.errors[0]
    errors = [
        {"field": f"{where or e.signal}[{e.index}]", "message": e.reason} for e in result.errors
    ]
    return request_problem(
        request,
        422,
        "invalid_input",
        f"all {result.rejected} {what} were rejected; first: {errors[0]['field']}: {first.reason}",
        errors=errors,
    )


@router.post(
    "/ingest",
    summary="Send points, events, logs and spans in one batch",
    response_model=IngestSummary,
    responses=problem_responses(503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            s: {"type": "array", "items": {"type": "object"}}
                            for s in ("points", "events", "logs", "spans")
                        },
                    }
                }
            },
        }
    },
)
async def ingest(_: Ingester, request: Request, runtime: RuntimeDep) -> Any:
    """Valid items are stored even when others are rejected; the answer counts both and
    names each rejected item by list and index. Nothing valid is lost to a bad neighbour."""
    body = await request.body()
    builder = runtime.ingest.builder()
    try:
        decode_native(body, builder)
    except NativeFormatError as exc:
        raise InvalidInputError(f"the body is not a native ingest batch: {exc}") from exc
    result = runtime.ingest.submit(builder, "native")
    if result.rejected and not result.accepted:
        return rejected_everything(request, result, "items")
    return summary_of(result)
