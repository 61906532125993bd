"""The ASGI middleware on real FastAPI and Starlette applications."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from radiator.sdk import Client, MockTransport, current_trace, outgoing_headers
from radiator.sdk.asgi import RadiatorMiddleware
from radiator.sdk.logging import RadiatorHandler

from .helpers import points_by_name

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def build_app(client: Client) -> FastAPI:
    api = APIRouter(prefix="/api")

    @api.get("/orders/{order_id}")
    async def get_order(order_id: int) -> dict[str, Any]:
        logging.getLogger("shop.orders").warning("loading order %s", order_id)
        context = current_trace()
        assert context is not None
        return {"id": order_id, "downstream": outgoing_headers()}

    @api.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaput")

    async def item(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["item_id"])

    app = FastAPI()
    app.include_router(api)
    app.mount("/legacy", Starlette(routes=[Route("/items/{item_id}", item)]))
    app.add_middleware(RadiatorMiddleware, client=client)
    return app


@pytest.fixture
def http(client: Client) -> Iterator[TestClient]:
    handler = RadiatorHandler(client=client)
    logging.getLogger("shop").addHandler(handler)
    with TestClient(build_app(client), raise_server_exceptions=False) as test_client:
        yield test_client
    logging.getLogger("shop").removeHandler(handler)


def requests_by_route(transport: MockTransport) -> dict[tuple[str, str], float]:
    return {
        (p["tags"]["route"], p["tags"]["status"]): p["value"]
        for p in points_by_name(transport).get("http.server.requests", [])
    }


def test_requests_are_counted_and_timed_per_route_template(
    http: TestClient, client: Client, transport: MockTransport
) -> None:
    for order in (1, 2, 3):
        assert http.get(f"/api/orders/{order}").status_code == 200
    assert http.get("/api/orders/not-a-number").status_code == 422
    assert http.get("/legacy/items/abc").text == "abc"
    client.flush()

    assert requests_by_route(transport) == {
        ("/api/orders/{order_id}", "2xx"): 3,
        ("/api/orders/{order_id}", "4xx"): 1,
        ("/legacy/items/{item_id}", "2xx"): 1,
    }
    points = points_by_name(transport)
    (count,) = [
        p
        for p in points["http.server.duration_ms.count"]
        if p["tags"]["route"] == "/api/orders/{order_id}" and p["tags"]["status"] == "2xx"
    ]
    assert count["value"] == 3
    assert count["tags"]["method"] == "GET"
    assert count["tags"]["service"] == "checkout"


def test_unknown_urls_do_not_become_routes(
    http: TestClient, client: Client, transport: MockTransport
) -> None:
    for index in range(20):
        assert http.get(f"/scanner/{index}").status_code == 404
    client.flush()

    assert requests_by_route(transport) == {("unmatched", "4xx"): 20}


def test_exceptions_are_counted_and_the_request_is_a_5xx_error_span(
    http: TestClient, client: Client, transport: MockTransport
) -> None:
    assert http.get("/api/boom").status_code == 500
    client.flush()

    assert requests_by_route(transport) == {("/api/boom", "5xx"): 1}
    (exception,) = points_by_name(transport)["http.server.exceptions"]
    assert exception["tags"]["exception"] == "RuntimeError"
    (sent,) = transport.items("spans")
    assert sent["name"] == "GET /api/boom"
    assert sent["status"] == "error"
    assert sent["attributes"]["exception.message"] == "kaput"


def test_an_incoming_traceparent_is_continued_and_visible_to_logs_and_outgoing_calls(
    http: TestClient, client: Client, transport: MockTransport
) -> None:
    answer = http.get("/api/orders/7", headers={"traceparent": INCOMING, "tracestate": "a=b"})
    client.flush()

    (sent,) = transport.items("spans")
    assert sent["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert sent["parent_id"] == "00f067aa0ba902b7"
    assert sent["name"] == "GET /api/orders/{order_id}"
    assert sent["attributes"]["http.status_code"] == 200
    downstream = answer.json()["downstream"]
    assert downstream == {
        "traceparent": f"00-4bf92f3577b34da6a3ce929d0e0e4736-{sent['span_id']}-01",
        "tracestate": "a=b",
    }
    (log,) = transport.items("logs")
    assert (log["trace_id"], log["span_id"]) == (sent["trace_id"], sent["span_id"])
    assert current_trace() is None


def test_a_request_without_traceparent_starts_a_new_trace(
    http: TestClient, client: Client, transport: MockTransport
) -> None:
    http.get("/api/orders/1")
    http.get("/api/orders/2")
    client.flush()

    first, second = transport.items("spans")
    assert first["parent_id"] == ""
    assert first["trace_id"] != second["trace_id"]


def test_an_unsampled_caller_gets_no_span_but_metrics_still_count(
    http: TestClient, client: Client, transport: MockTransport
) -> None:
    http.get("/api/orders/1", headers={"traceparent": INCOMING[:-2] + "00"})
    client.flush()

    assert transport.items("spans") == []
    assert requests_by_route(transport) == {("/api/orders/{order_id}", "2xx"): 1}


def test_raw_paths_stand_in_for_routes_only_up_to_a_cap(
    client: Client, transport: MockTransport
) -> None:
    async def bare(scope: Any, receive: Any, send: Any) -> None:
        response = JSONResponse({"path": scope["path"]})
        await response(scope, receive, send)

    # Used without ``with``, the test client sends no lifespan messages to the bare app.
    test_client = TestClient(RadiatorMiddleware(bare, client=client, max_raw_paths=3))
    for index in range(6):
        test_client.get(f"/page/{index}")
    test_client.get("/page/0")
    client.flush()

    assert requests_by_route(transport) == {
        ("/page/0", "2xx"): 2,
        ("/page/1", "2xx"): 1,
        ("/page/2", "2xx"): 1,
        ("other", "2xx"): 3,
    }


def test_lifespan_and_websocket_scopes_pass_through(client: Client) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])
        if scope["type"] == "lifespan":
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            message = await receive()
            await send({"type": message["type"] + ".complete"})

    with TestClient(RadiatorMiddleware(app, client=client)):
        pass
    assert seen == ["lifespan"]
    assert client.stats.queued == 0
