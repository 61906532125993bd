"""ASGI middleware: request metrics per route template, and W3C trace context.

```python
from fastapi import FastAPI
from radiator.sdk.asgi import RadiatorMiddleware

app = FastAPI()
app.add_middleware(RadiatorMiddleware)          # Starlette and FastAPI
# or, for any ASGI app:  app = RadiatorMiddleware(app)
```

The route is the template the framework matched (``scope["route"].path`` in Starlette,
FastAPI's effective route context for included routers, prefixed by any ``Mount``), so
``/orders/17`` and ``/orders/18`` are both ``/orders/{order_id}``. Written with the
standard library only: it reads the scope as the plain dict ASGI defines.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from radiator.sdk.client import Client
from radiator.sdk.http import RequestRecorder, now
from radiator.sdk.trace import activate, deactivate

__all__ = ["RadiatorMiddleware", "route_template"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def route_template(scope: Scope, root_path: str = "") -> str | None:
    """The matched route's path template, or None when no framework set one.

    ``root_path`` is the scope's root path when the request arrived; whatever a ``Mount``
    added to it since is the mount's prefix, which the inner route's path lacks.
    """
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    route = effective if effective is not None else scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str) or not path:
        return None
    mounted = str(scope.get("root_path", ""))
    prefix = mounted[len(root_path) :] if mounted.startswith(root_path) else ""
    return prefix + path if prefix and not path.startswith(prefix) else path


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


class RadiatorMiddleware:
    """Records every HTTP request of the wrapped ASGI app and makes its span current.

    Args:
        app: the ASGI application.
        client: where to send; the default client when None.
        max_raw_paths: distinct raw paths used as routes when no template is known.
        record_spans: send one span per request.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        client: Client | None = None,
        max_raw_paths: int = 100,
        record_spans: bool = True,
    ) -> None:
        self.app = app
        self.recorder = RequestRecorder(client, max_raw_paths, record_spans)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        context = self.recorder.start(_header(scope, b"traceparent"), _header(scope, b"tracestate"))
        root_path = str(scope.get("root_path", ""))
        state = {"status": 500}

        async def send_recording(message: Message) -> None:
            if message.get("type") == "http.response.start":
                state["status"] = int(message.get("status", 500))
            await send(message)

        token = activate(context)
        started, began = now()
        failure: BaseException | None = None
        try:
            await self.app(scope, receive, send_recording)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            deactivate(token)
            status = state["status"]
            self.recorder.finish(
                context,
                method=str(scope.get("method", "")),
                route=self.recorder.route_name(
                    route_template(scope, root_path), str(scope.get("path", "")), status
                ),
                status=status,
                started=started,
                duration_ms=(now()[1] - began) * 1000,
                exception=failure if isinstance(failure, Exception) else None,
            )
