"""The WSGI middleware on a real werkzeug application and a real wsgiref server."""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.test import Client as WerkzeugClient
from werkzeug.wrappers import Request, Response

from radiator.sdk import Client, MockTransport, current_trace
from radiator.sdk.logging import RadiatorHandler
from radiator.sdk.wsgi import ROUTE_KEY, RadiatorMiddleware

from .helpers import points_by_name

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
URLS = Map(
    [
        Rule("/orders/<int:order_id>", endpoint="order"),
        Rule("/flask-like/<name>", endpoint="flask"),
        Rule("/boom", endpoint="boom"),
        Rule("/stream", endpoint="stream"),
    ]
)


def shop(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    request = Request(environ, populate_request=True)
    adapter = URLS.bind_to_environ(environ)
    try:
        rule, args = adapter.match(return_rule=True)
    except HTTPException as error:
        return error(environ, start_response)  # type: ignore[no-any-return]
    if rule.endpoint == "flask":
        # What Flask does: the request object in the environ knows its url_rule.
        request.url_rule = rule  # type: ignore[attr-defined]
    else:
        environ[ROUTE_KEY] = rule.rule
    if rule.endpoint == "boom":
        raise RuntimeError("kaput")
    if rule.endpoint == "stream":

        def chunks() -> Iterator[bytes]:
            yield b"first"
            raise OSError("disk gone")

        start_response("200 OK", [("Content-Type", "text/plain")])
        return chunks()
    logging.getLogger("shop.wsgi").warning("serving %s", args)
    context = current_trace()
    body = context.traceparent if context else ""
    return Response(body)(environ, start_response)


@pytest.fixture
def app(client: Client) -> Iterator[RadiatorMiddleware]:
    handler = RadiatorHandler(client=client)
    logging.getLogger("shop").addHandler(handler)
    yield RadiatorMiddleware(shop, client=client)
    logging.getLogger("shop").removeHandler(handler)


def requests_by_route(transport: MockTransport) -> dict[tuple[str, str], float]:
    return {
        (p["tags"]["route"], p["tags"]["status"]): p["value"]
        for p in points_by_name(transport).get("http.server.requests", [])
    }


def test_requests_are_counted_per_route_template(
    app: RadiatorMiddleware, client: Client, transport: MockTransport
) -> None:
    browser = WerkzeugClient(app)
    for order in (1, 2):
        assert browser.get(f"/orders/{order}", buffered=True).status_code == 200
    assert browser.get("/flask-like/ana", buffered=True).status_code == 200
    assert browser.get("/nothing/here", buffered=True).status_code == 404
    client.flush()

    assert requests_by_route(transport) == {
        ("/orders/<int:order_id>", "2xx"): 2,
        ("/flask-like/<name>", "2xx"): 1,
        ("unmatched", "4xx"): 1,
    }
    (count,) = points_by_name(transport)["http.server.duration_ms.count"][:1]
    assert count["tags"]["method"] == "GET"


def test_an_exception_is_counted_as_a_5xx_and_reraised(
    app: RadiatorMiddleware, client: Client, transport: MockTransport
) -> None:
    with pytest.raises(RuntimeError, match="kaput"):
        WerkzeugClient(app).get("/boom", buffered=True)
    client.flush()

    assert requests_by_route(transport) == {("/boom", "5xx"): 1}
    assert points_by_name(transport)["http.server.exceptions"][0]["tags"]["exception"] == (
        "RuntimeError"
    )
    assert transport.items("spans")[0]["status"] == "error"
    assert current_trace() is None


def test_a_streamed_body_that_fails_midway_is_an_exception(
    app: RadiatorMiddleware, client: Client, transport: MockTransport
) -> None:
    with pytest.raises(OSError, match="disk gone"):
        WerkzeugClient(app).get("/stream", buffered=True)
    client.flush()

    (exception,) = points_by_name(transport)["http.server.exceptions"]
    assert exception["tags"] == {
        "route": "/stream",
        "method": "GET",
        "exception": "OSError",
        "service": "checkout",
        "environment": "test",
    }


def test_a_route_of_callable_names_routes_for_other_frameworks(
    client: Client, transport: MockTransport
) -> None:
    def plain(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("204 No Content", [])
        return []

    app = RadiatorMiddleware(plain, client=client, route_of=lambda environ: "/users/{id}")
    WerkzeugClient(app).get("/users/17", buffered=True)
    client.flush()

    assert requests_by_route(transport) == {("/users/{id}", "2xx"): 1}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def server(app: RadiatorMiddleware) -> Iterator[str]:
    httpd: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_trace_context_crosses_a_real_wsgi_server(
    server: str, client: Client, transport: MockTransport
) -> None:
    request = urllib.request.Request(f"{server}/orders/9", headers={"traceparent": INCOMING})
    with urllib.request.urlopen(request, timeout=5) as answer:
        traceparent = answer.read().decode()
    # The server thread finishes the request (and records its span) after the client has
    # read the body, so wait for it rather than racing it.
    deadline = time.monotonic() + 5
    while True:
        client.flush()
        if transport.items("spans") or time.monotonic() > deadline:
            break
        time.sleep(0.02)

    (sent,) = transport.items("spans")
    assert sent["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert sent["parent_id"] == "00f067aa0ba902b7"
    assert sent["name"] == "GET /orders/<int:order_id>"
    assert traceparent == f"00-{sent['trace_id']}-{sent['span_id']}-01"
    (log,) = transport.items("logs")
    assert (log["trace_id"], log["span_id"]) == (sent["trace_id"], sent["span_id"])
    assert requests_by_route(transport) == {("/orders/<int:order_id>", "2xx"): 1}
