"""Notification channels (webhook, e-mail, Slack), test sends and the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from radiator.notify import Channel, ChannelCreate, ChannelUpdate, Delivery
from radiator.web.deps import MAX_ID, Admin, CallerDep, Reader, RuntimeDep, Writer
from radiator.web.errors import problem_responses

__all__ = ["router"]

_MISSING = problem_responses(404)
_CONFLICT = problem_responses(409)

router = APIRouter(tags=["notify"])


@router.get("/channels", summary="List notification channels (secrets hidden)")
def list_channels(_: Reader, runtime: RuntimeDep) -> list[Channel]:
    return runtime.notify.list_channels()


@router.post(
    "/channels", status_code=201, summary="Create a notification channel", responses=_CONFLICT
)
def create_channel(
    _: Admin, caller: CallerDep, body: ChannelCreate, runtime: RuntimeDep
) -> Channel:
    return runtime.notify.create_channel(body, caller)


@router.get("/channels/{name}", summary="One channel", responses=_MISSING)
def get_channel(_: Reader, name: str, runtime: RuntimeDep) -> Channel:
    return runtime.notify.get_channel(name)


@router.put(
    "/channels/{name}",
    summary="Replace a channel's settings ('***' keeps a stored secret)",
    responses=_MISSING,
)
def update_channel(
    _: Admin, caller: CallerDep, name: str, body: ChannelUpdate, runtime: RuntimeDep
) -> Channel:
    return runtime.notify.update_channel(name, body, caller)


@router.delete("/channels/{name}", status_code=204, summary="Delete a channel", responses=_MISSING)
def delete_channel(_: Admin, caller: CallerDep, name: str, runtime: RuntimeDep) -> Response:
    runtime.notify.delete_channel(name, caller)
    return Response(status_code=204)


@router.post(
    "/channels/{name}/test",
    summary="Send a test message; the delivery says whether it arrived, and if not, why",
    responses=_MISSING,
)
def send_test_message(_: Writer, caller: CallerDep, name: str, runtime: RuntimeDep) -> Delivery:
    return runtime.notify.test(name, caller)


@router.get("/deliveries", summary="The delivery log, newest first")
def list_deliveries(
    _: Reader,
    runtime: RuntimeDep,
    channel: Annotated[str | None, Query(max_length=63)] = None,
    page_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Delivery]:
    return runtime.notify.list_deliveries(channel=channel, page_id=page_id, limit=limit)


@router.get("/deliveries/{delivery_id}", summary="One delivery", responses=_MISSING)
def get_delivery(
    _: Reader, delivery_id: Annotated[int, Path(ge=1, le=MAX_ID)], runtime: RuntimeDep
) -> Delivery:
    return runtime.notify.get_delivery(delivery_id)
