"""``HttpTransport`` against a small local HTTP server: what it sends and what it returns."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from radiator.sdk import HttpTransport, Transport
from radiator.sdk.transport import ingest_url
from support import free_port

Answer = tuple[int, dict[str, str], bytes]


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, Any]], list[Answer]]]:
    received: list[dict[str, Any]] = []
    answers: list[Answer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status, headers, answer = answers.pop(0) if answers else (200, {}, b"{}")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received, answers
    httpd.shutdown()
    httpd.server_close()


def test_a_batch_is_posted_as_json_with_the_bearer_token(
    server: tuple[str, list[dict[str, Any]], list[Answer]],
) -> None:
    url, received, answers = server
    answers.append((200, {}, b'{"accepted": 1, "rejected": 0, "errors": []}'))
    transport = HttpTransport(url, "rad_secret")

    response = transport.send(b'{"points": []}')

    assert isinstance(transport, Transport)
    assert response.status == 200
    assert response.json()["accepted"] == 1
    (request,) = received
    assert request["path"] == "/api/v1/ingest"
    assert request["headers"]["Authorization"] == "Bearer rad_secret"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"].startswith("radiator-sdk-python/")
    assert request["body"] == b'{"points": []}'


def test_error_answers_are_returned_with_their_retry_after(
    server: tuple[str, list[dict[str, Any]], list[Answer]],
) -> None:
    url, _, answers = server
    answers.append((503, {"Retry-After": "3"}, b'{"detail": "buffer full"}'))
    answers.append((429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, b""))
    answers.append((401, {}, json.dumps({"detail": "invalid API token"}).encode()))
    transport = HttpTransport(url, "t")

    overloaded = transport.send(b"{}")
    limited = transport.send(b"{}")
    refused = transport.send(b"{}")

    assert (overloaded.status, overloaded.retry_after) == (503, 3.0)
    assert b"buffer full" in overloaded.body
    assert (limited.status, limited.retry_after) == (429, None)
    assert refused.status == 401
    assert refused.json() == {"detail": "invalid API token"}


def test_no_answer_raises_oserror_within_the_timeout() -> None:
    transport = HttpTransport(f"http://127.0.0.1:{free_port()}", "t", timeout=1)

    with pytest.raises(OSError):
        transport.send(b"{}")
    transport.close()


def test_the_ingest_url_is_derived_from_the_base_url() -> None:
    assert ingest_url("http://h:8080") == "http://h:8080/api/v1/ingest"
    assert ingest_url("http://h:8080/") == "http://h:8080/api/v1/ingest"
    assert ingest_url("http://h/api/v1/ingest") == "http://h/api/v1/ingest"
