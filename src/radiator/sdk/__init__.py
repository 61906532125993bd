"""The Radiator client SDK: one-line metrics, events, logs, traces and HTTP middleware.

```python
import radiator.sdk
from radiator.sdk import events, metrics

radiator.sdk.init("http://localhost:8080", "rad_…", service="checkout", environment="prod")
metrics.count("checkout.completed", tags={"plan": "pro"})
events.deploy("checkout", "1.4.2")
```

It imports only the standard library and ``radiator.core.types``, so applications can use
it without the server's dependencies. Integrations live in submodules:
``radiator.sdk.logging`` (a logging handler), ``radiator.sdk.asgi`` and
``radiator.sdk.wsgi`` (middleware), ``radiator.sdk.trace`` (W3C trace context).
"""

from __future__ import annotations

from radiator.sdk import events, metrics
from radiator.sdk.client import Client, ClientStats, get_client, init
from radiator.sdk.trace import (
    TraceContext,
    current_trace,
    outgoing_headers,
    parse_traceparent,
    span,
)
from radiator.sdk.transport import HttpTransport, MockTransport, Response, Transport

__all__ = [
    "Client",
    "ClientStats",
    "HttpTransport",
    "MockTransport",
    "Response",
    "TraceContext",
    "Transport",
    "current_trace",
    "events",
    "get_client",
    "init",
    "metrics",
    "outgoing_headers",
    "parse_traceparent",
    "span",
]
