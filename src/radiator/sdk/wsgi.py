"""WSGI middleware: request metrics per route template, and W3C trace context.

```python
from radiator.sdk.wsgi import RadiatorMiddleware

app.wsgi_app = RadiatorMiddleware(app.wsgi_app)   # Flask
application = RadiatorMiddleware(application)     # any WSGI app (Django, Pyramid…)
```

WSGI has no standard place for the matched route, so the template is found, in order:
the ``route_of(environ)`` callable given to the middleware; ``environ["radiator.route"]``
set by the application; Flask's ``request.url_rule``. Otherwise the raw path is used, for a
bounded number of distinct paths. A request ends when the server closes the response, so
streamed bodies are timed whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from radiator.sdk.client import Client
from radiator.sdk.http import RequestRecorder, now
from radiator.sdk.trace import TraceContext, activate, deactivate

__all__ = ["ROUTE_KEY", "TRACE_KEY", "RadiatorMiddleware", "route_template"]

ROUTE_KEY = "radiator.route"
TRACE_KEY = "radiator.trace"

Environ = dict[str, Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def route_template(environ: Environ) -> str | None:
    """The template the application matched, when it says so (see the module docstring)."""
    route = environ.get(ROUTE_KEY)
    if isinstance(route, str) and route:
        return route
    request = environ.get("werkzeug.request")
    rule = getattr(getattr(request, "url_rule", None), "rule", None)
    if isinstance(rule, str) and rule:
        return str(environ.get("SCRIPT_NAME", "")) + rule
    return None


class _Body:
    """The application's response iterable, finishing the request when the server closes
    it (PEP 3333 requires ``close``)."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[Exception | None], None]):
        self._body = body
        self._finish = finish
        self._error: Exception | None = None
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        except Exception as exc:
            self._error = exc
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            if not self._done:
                self._done = True
                self._finish(self._error)


class RadiatorMiddleware:
    """Records every request of the wrapped WSGI app and makes its span current.

    Args:
        app: the WSGI application.
        client: where to send; the default client when None.
        route_of: returns the route template of a finished request's ``environ`` (or None).
        max_raw_paths: distinct raw paths used as routes when no template is known.
        record_spans: send one span per request.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        client: Client | None = None,
        route_of: Callable[[Environ], str | None] | None = None,
        max_raw_paths: int = 100,
        record_spans: bool = True,
    ) -> None:
        self.app = app
        self.route_of = route_of
        self.recorder = RequestRecorder(client, max_raw_paths, record_spans)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        context = self.recorder.start(
            str(environ.get("HTTP_TRACEPARENT", "")), str(environ.get("HTTP_TRACESTATE", ""))
        )
        environ[TRACE_KEY] = context
        state = {"status": 500}

        def start_recording(
            status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            code = status.split(" ", 1)[0]
            state["status"] = int(code) if code.isdigit() else 500
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            return start_response(status, headers)

        token = activate(context)
        started, began = now()

        def finish(error: Exception | None) -> None:
            deactivate(token)
            self._record(environ, context, state["status"], started, began, error)

        try:
            body = self.app(environ, start_recording)
        except Exception as exc:
            finish(exc)
            raise
        return _Body(body, finish)

    def _record(
        self,
        environ: Environ,
        context: TraceContext,
        status: int,
        started: float,
        began: float,
        error: Exception | None,
    ) -> None:
        try:
            template = self.route_of(environ) if self.route_of else None
        except Exception:
            template = None
        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        self.recorder.finish(
            context,
            method=str(environ.get("REQUEST_METHOD", "")),
            route=self.recorder.route_name(template or route_template(environ), path, status),
            status=status,
            started=started,
            duration_ms=(now()[1] - began) * 1000,
            exception=error,
        )
