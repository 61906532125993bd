"""One-line metrics through the default client (configured by ``radiator.sdk.init``).

```python
from radiator.sdk import metrics

metrics.count("checkout.completed", tags={"plan": "pro"})
metrics.gauge("queue.depth", 42)
metrics.histogram("basket.items", 3)
metrics.timing("db.query_ms", 12.5)

with metrics.timing("checkout.duration_ms", tags={"plan": "pro"}):
    ...

@metrics.timing("report.render_ms")
def render() -> None: ...
```

Every call returns at once and never raises; see ``Client`` for what happens to the data.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, ParamSpec, TypeVar, cast, overload

from radiator.sdk.client import Client, get_client

__all__ = ["Timer", "count", "gauge", "histogram", "timing"]

P = ParamSpec("P")
R = TypeVar("R")
TagsArg = Mapping[str, object] | None


def count(name: str, value: float = 1, *, tags: TagsArg = None) -> None:
    """Add to a counter (``value`` defaults to 1); sent as a delta per flush interval."""
    get_client().count(name, value, tags=tags)


def gauge(name: str, value: float, *, tags: TagsArg = None) -> None:
    """Set a gauge; the last value in each flush interval is sent."""
    get_client().gauge(name, value, tags=tags)


def histogram(name: str, value: float, *, tags: TagsArg = None) -> None:
    """Observe a value; count, sum, min, max and p50/p90/p95/p99 are sent per interval."""
    get_client().histogram(name, value, tags=tags)


class Timer:
    """Times a block (``with``) or every call of a function (as a decorator, sync or async)
    and records the duration in milliseconds as a timing."""

    def __init__(self, name: str, tags: TagsArg = None, *, client: Client | None = None) -> None:
        self.name = name
        self.tags = dict(tags) if tags else None
        self._client = client
        self._starts: list[float] = []
        self.last_ms: float | None = None

    def record(self, ms: float) -> None:
        self.last_ms = ms
        # Resolved per record, so a decorator applied at import time uses the client that
        # ``init`` configures later.
        (self._client or get_client()).timing(self.name, ms, tags=self.tags)

    def __enter__(self) -> Timer:
        self._starts.append(time.perf_counter())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._starts:
            self.record((time.perf_counter() - self._starts.pop()) * 1000)

    @overload
    def __call__(self, func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]: ...

    @overload
    def __call__(self, func: Callable[P, R]) -> Callable[P, R]: ...

    def __call__(self, func: Callable[P, Any]) -> Callable[P, Any]:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def timed_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                started = time.perf_counter()
                try:
                    return await func(*args, **kwargs)
                finally:
                    self.record((time.perf_counter() - started) * 1000)

            return cast(Callable[P, Any], timed_async)

        @functools.wraps(func)
        def timed(*args: P.args, **kwargs: P.kwargs) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.record((time.perf_counter() - started) * 1000)

        return timed


@overload
def timing(name: str, ms: float, *, tags: TagsArg = None) -> None: ...


@overload
def timing(name: str, ms: None = None, *, tags: TagsArg = None) -> Timer: ...


def timing(name: str, ms: float | None = None, *, tags: TagsArg = None) -> Timer | None:
    """Record a duration: ``timing(name, ms)`` records ``ms`` milliseconds now;
    ``timing(name)`` returns a ``Timer`` to use as a context manager or decorator."""
    if ms is not None:
        get_client().timing(name, ms, tags=tags)
        return None
    return Timer(name, tags)
