"""How a batch leaves the process: the ``Transport`` protocol, HTTP, and a mock for tests.

Modelled on httpx's transports: the client hands over an encoded body, the transport
answers with what the server said; retrying and dropping are the client's business.
"""

from __future__ import annotations

import importlib.metadata
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["HttpTransport", "MockTransport", "Response", "Transport", "ingest_url"]

INGEST_PATH = "/api/v1/ingest"
_MAX_ANSWER = 64 * 1024


@dataclass(frozen=True, slots=True)
class Response:
    """What the server answered to one batch."""

    status: int
    body: bytes = b""
    retry_after: float | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@runtime_checkable
class Transport(Protocol):
    """Sends one encoded native ingest batch (a JSON object, see ``radiator.ingest.native``).

    Contract:
    - ``send`` returns a ``Response`` for every HTTP answer, errors included; it raises
      ``OSError`` (``urllib.error.URLError`` is one) when no answer came: refused
      connection, DNS failure, timeout. It must return or raise within its timeout.
    - It is called from one thread at a time (the client's sender).
    - ``close`` releases what the transport holds; the client calls it once in ``close``.
    """

    def send(self, body: bytes) -> Response: ...

    def close(self) -> None: ...


def _user_agent() -> str:
    try:
        version = importlib.metadata.version("radiator")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"radiator-sdk-python/{version}"


def ingest_url(url: str) -> str:
    """The native ingest endpoint for a server base URL (kept as is when already given)."""
    base = url.rstrip("/")
    return base if base.endswith(INGEST_PATH) else base + INGEST_PATH


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; the client's own backoff applies


class HttpTransport:
    """POSTs batches to ``<url>/api/v1/ingest`` with the standard library's urllib."""

    def __init__(self, url: str, token: str, *, timeout: float = 5.0) -> None:
        self.url = ingest_url(url)
        self.timeout = timeout
        self._headers = {
            "Content-Type": "application/json",
            "User-Agent": _user_agent(),
        }
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    def send(self, body: bytes) -> Response:
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured server
            self.url, data=body, headers=self._headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return Response(answer.status, answer.read(_MAX_ANSWER))
        except urllib.error.HTTPError as error:
            with error:
                answer_body = error.read(_MAX_ANSWER)
            return Response(error.code, answer_body, _retry_after(error.headers.get("Retry-After")))

    def close(self) -> None:
        """Nothing to release: urllib opens a connection per request."""


@dataclass
class MockTransport:
    """Records every batch and answers with ``handler(body)`` (200 and an ingest summary by
    default). A handler may raise ``OSError`` to act as an unreachable server."""

    handler: Callable[[bytes], Response] | None = None
    bodies: list[bytes] = field(default_factory=list)
    closed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, body: bytes) -> Response:
        with self._lock:
            self.bodies.append(body)
        if self.handler is not None:
            return self.handler(body)
        batch = json.loads(body)
        accepted = sum(
            len(batch.get(signal, [])) for signal in ("points", "events", "logs", "spans")
        )
        summary = {"accepted": accepted, "rejected": 0, "errors": []}
        return Response(200, json.dumps(summary).encode())

    def close(self) -> None:
        self.closed = True

    @property
    def batches(self) -> list[dict[str, Any]]:
        """Every batch sent so far, decoded."""
        with self._lock:
            return [json.loads(body) for body in self.bodies]

    def items(self, signal: str) -> list[dict[str, Any]]:
        """Every item of one signal (``points``, ``events``, ``logs``, ``spans``) sent so far."""
        return [item for batch in self.batches for item in batch.get(signal, [])]
