"""W3C Trace Context: parse and produce ``traceparent``, and hold the current span.

The middleware sets the current ``TraceContext`` for each request in a ``ContextVar``, so
the logging handler stamps log records with its ids and outgoing calls can carry it on:

```python
from radiator.sdk.trace import outgoing_headers
urllib.request.Request(url, headers=outgoing_headers())
```
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from radiator.sdk.client import Client

__all__ = [
    "TraceContext",
    "current_trace",
    "outgoing_headers",
    "parse_traceparent",
    "span",
    "use_trace",
]

_HEX_TRACE = re.compile(r"^[0-9a-f]{32}$")
_HEX_SPAN = re.compile(r"^[0-9a-f]{16}$")
_HEX_BYTE = re.compile(r"^[0-9a-f]{2}$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16
_MAX_TRACESTATE = 512

_current: ContextVar[TraceContext | None] = ContextVar("radiator_trace", default=None)


def _new_trace_id() -> str:
    return secrets.token_hex(16)


def _new_span_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class TraceContext:
    """One span's place in a trace: its ids, its parent's and the sampling flag."""

    trace_id: str
    span_id: str
    parent_id: str = ""
    sampled: bool = True
    tracestate: str = ""

    @classmethod
    def new(cls) -> TraceContext:
        """The root span of a new trace."""
        return cls(_new_trace_id(), _new_span_id())

    def child(self) -> TraceContext:
        """A new span in the same trace whose parent is this span."""
        return replace(self, span_id=_new_span_id(), parent_id=self.span_id)

    @property
    def traceparent(self) -> str:
        """The ``traceparent`` header value naming this span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"


def parse_traceparent(header: str, tracestate: str = "") -> TraceContext | None:
    """The remote parent named by a ``traceparent`` header, or None when it is invalid.

    The returned context *is* the caller's span; call ``.child()`` for the local span.
    Future versions (above ``00``) are read by their first four fields, as the
    specification asks.
    """
    parts = header.strip().lower().split("-")
    if len(parts) < 4:
        return None
    version, trace_id, span_id, flags = parts[:4]
    if not _HEX_BYTE.match(version) or version == "ff" or (version == "00" and len(parts) != 4):
        return None
    if not _HEX_TRACE.match(trace_id) or trace_id == _ZERO_TRACE:
        return None
    if not _HEX_SPAN.match(span_id) or span_id == _ZERO_SPAN:
        return None
    if not _HEX_BYTE.match(flags):
        return None
    state = tracestate.strip() if len(tracestate) <= _MAX_TRACESTATE else ""
    return TraceContext(trace_id, span_id, sampled=bool(int(flags, 16) & 1), tracestate=state)


def current_trace() -> TraceContext | None:
    """The span active in this thread or task, if any."""
    return _current.get()


def outgoing_headers() -> dict[str, str]:
    """Headers that carry the current trace to a downstream call (empty outside a trace)."""
    context = _current.get()
    if context is None:
        return {}
    headers = {"traceparent": context.traceparent}
    if context.tracestate:
        headers["tracestate"] = context.tracestate
    return headers


def activate(context: TraceContext | None) -> Token[TraceContext | None]:
    """Make ``context`` current; hand the token to ``deactivate`` afterwards."""
    return _current.set(context)


def deactivate(token: Token[TraceContext | None]) -> None:
    try:
        _current.reset(token)
    except ValueError:
        # Reset from another context (a WSGI server closing the response on another
        # thread): clear instead of leaking the request's span into the next one.
        _current.set(None)


@contextmanager
def use_trace(context: TraceContext | None) -> Iterator[TraceContext | None]:
    """Run a block with ``context`` as the current span."""
    token = activate(context)
    try:
        yield context
    finally:
        deactivate(token)


@contextmanager
def span(name: str, *, client: Client | None = None, **attributes: Any) -> Iterator[TraceContext]:
    """Record the block as a span: a child of the current span, or the root of a new trace.

    Example:
        ``with span("charge card", amount=12): charge()`` sends one span when the block
        ends, with status ``error`` and the exception type when it raised.
    """
    from radiator.sdk.client import get_client

    parent = _current.get()
    context = parent.child() if parent is not None else TraceContext.new()
    token = activate(context)
    started = time.time()
    began = time.perf_counter()
    status = "ok"
    try:
        yield context
    except BaseException as exc:
        status = "error"
        attributes["exception.type"] = type(exc).__name__
        raise
    finally:
        deactivate(token)
        (client or get_client()).span(
            context,
            name,
            start=started,
            duration_ms=(time.perf_counter() - began) * 1000,
            status=status,
            attributes=attributes,
        )
