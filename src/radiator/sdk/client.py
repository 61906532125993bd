"""The SDK client: aggregates metrics, queues events, logs and spans, and ships them in batches.

Nothing here raises into the application or blocks it on the network. Recording takes a
lock for a dictionary update; a daemon thread sends one batch per flush interval. When the
server is down, slow or refuses, data waits in a bounded buffer and is retried with
exponential backoff (5xx, 429, no answer) or dropped (any other 4xx), and every loss is
counted in ``Client.stats``.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from radiator.core.types import EventKind, LogLevel, MetricKind, is_valid_metric_name
from radiator.sdk.aggregate import Aggregator
from radiator.sdk.batch import MAX_BATCH_ITEMS, Batch, encode_batches
from radiator.sdk.transport import HttpTransport, Response, Transport

if TYPE_CHECKING:
    from radiator.sdk.trace import TraceContext

__all__ = ["Client", "ClientStats", "get_client", "init"]

_log = logging.getLogger("radiator.sdk")
_BACKOFF_START = 0.5
_BACKOFF_MAX = 30.0
_LEVELS = {level.value: level.value for level in LogLevel} | {
    "WARNING": "WARN",
    "CRITICAL": "FATAL",
}

_EVENT_KINDS = frozenset(kind.value for kind in EventKind)

TagsArg = Mapping[str, object] | None


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counts since the client started.

    Attributes:
        sent: items (points, events, logs, spans) the server accepted.
        dropped: items lost before the server saw them: buffer full, invalid, a 4xx answer.
        rejected: items the server refused one by one (it names them in its answer).
        errors: failed send attempts (no answer, 5xx, 429); their data is retried.
        queued: items waiting to be sent.
    """

    sent: int = 0
    dropped: int = 0
    rejected: int = 0
    errors: int = 0
    queued: int = 0


class Client:
    """Sends metrics, events, logs and spans to one Radiator server.

    Args:
        url: the server's base URL, e.g. ``http://localhost:8080``; empty disables sending
            (every call is counted as dropped).
        token: an API token with the ``ingest`` scope.
        service: the ``service`` tag of every point and the service of events, logs, spans.
        environment: the ``environment`` tag (``production``, ``staging``…); empty omits it.
        flush_interval: seconds between batches; metrics are aggregated over it.
        max_queue: most items held in memory (metric series of the interval, queued events,
            logs and spans, and unsent batches each); past it new data is dropped and counted.
        transport: how batches are sent; ``HttpTransport(url, token)`` by default.
        tags: extra tags for every point (``{"region": "eu"}``).
        timeout: seconds one HTTP request may take.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        service: str,
        environment: str = "",
        flush_interval: float = 1.0,
        max_queue: int = 10_000,
        transport: Transport | None = None,
        tags: Mapping[str, str] | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.service = service
        self.environment = environment
        self.flush_interval = max(0.01, flush_interval)
        self.max_queue = max(1, max_queue)
        if transport is None and url:
            transport = HttpTransport(url, token, timeout=timeout)
        self._transport = transport
        self._tags = dict(tags or {})
        self._tags["service"] = service
        if environment:
            self._tags["environment"] = environment
        self._init_state()
        _LIVE.add(self)

    def _init_state(self) -> None:
        self._aggregator = Aggregator(self.max_queue)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        # Held while the interval's data becomes batches, so a flush never overtakes a
        # background collection that has taken data but not yet queued its batches.
        self._collect_lock = threading.Lock()
        self._queue: deque[tuple[str, dict[str, Any]]] = deque()
        self._outbox: deque[Batch] = deque()
        self._outbox_items = 0
        self._counts = {"sent": 0, "dropped": 0, "rejected": 0, "errors": 0}
        self._warned: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._retry_at = 0.0
        self._closed = False

    # -- recording -------------------------------------------------------------------------

    def count(self, name: str, value: float = 1, *, tags: TagsArg = None) -> None:
        """Add ``value`` to a counter; the interval's total is sent as one delta."""
        self._metric(MetricKind.COUNTER, name, value, tags)

    def gauge(self, name: str, value: float, *, tags: TagsArg = None) -> None:
        """Set a gauge; the interval's last value is sent."""
        self._metric(MetricKind.GAUGE, name, value, tags)

    def histogram(self, name: str, value: float, *, tags: TagsArg = None) -> None:
        """Observe a value; the interval's count, sum, min, max, p50, p90, p95, p99 are sent."""
        self._metric(MetricKind.HISTOGRAM, name, value, tags)

    def timing(self, name: str, ms: float, *, tags: TagsArg = None) -> None:
        """Observe a duration in milliseconds (summarised like ``histogram``)."""
        self._metric(MetricKind.TIMER, name, ms, tags)

    def _metric(self, kind: MetricKind, name: str, value: float, tags: TagsArg) -> None:
        try:
            if not self._accepting():
                return
            number = _number(value)
            if not is_valid_metric_name(name) or not math.isfinite(number):
                self._drop(1, "invalid", "invalid metric name or value (%s); dropped", name)
                return
            merged = self._tags if not tags else {**self._tags, **_strings(tags)}
            key = (name, tuple(sorted(merged.items())))
            if not self._aggregator.add(kind, key, number):
                self._drop(1, "series", "more than max_queue series in one interval; dropping")
                return
            self._ensure_started()
        except Exception:  # never into the application
            _log.debug("recording %s failed", name, exc_info=True)

    def event(
        self,
        kind: EventKind | str,
        title: str,
        *,
        service: str | None = None,
        environment: str | None = None,
        actor: str = "",
        attributes: Mapping[str, Any] | None = None,
        links: Sequence[str] = (),
        time: float | None = None,
    ) -> None:
        """Queue an event (a deploy, a config change…) for the timeline."""
        if str(kind) not in _EVENT_KINDS:
            self._drop(1, "kind", "unknown event kind %r; dropped", str(kind))
            return
        self._enqueue(
            "events",
            {
                "kind": str(kind),
                "title": title,
                "time": _now() if time is None else time,
                "service": self.service if service is None else service,
                "environment": self.environment if environment is None else environment,
                "actor": actor,
                "attributes": dict(attributes or {}),
                "links": list(links),
            },
        )

    def log(
        self,
        level: LogLevel | str,
        message: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        trace_id: str = "",
        span_id: str = "",
        time: float | None = None,
    ) -> None:
        """Queue a log record (``RadiatorHandler`` calls this for ``logging``)."""
        attrs = dict(attributes or {})
        if self.environment:
            attrs.setdefault("environment", self.environment)
        self._enqueue(
            "logs",
            {
                "level": _LEVELS.get(str(level).upper(), "INFO"),
                "message": message,
                "time": _now() if time is None else time,
                "service": self.service,
                "attributes": attrs,
                "trace_id": trace_id,
                "span_id": span_id,
            },
        )

    def span(
        self,
        context: TraceContext,
        name: str,
        *,
        start: float,
        duration_ms: float,
        status: str = "unset",
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue a finished span; ``start`` is Unix seconds."""
        attrs = dict(attributes or {})
        if self.environment:
            attrs.setdefault("environment", self.environment)
        self._enqueue(
            "spans",
            {
                "trace_id": context.trace_id,
                "span_id": context.span_id,
                "parent_id": context.parent_id,
                "name": name,
                "start": start,
                "duration_ms": max(0.0, duration_ms),
                "service": self.service,
                "status": status,
                "attributes": attrs,
            },
        )

    def _enqueue(self, signal: str, item: dict[str, Any]) -> None:
        try:
            if not self._accepting():
                return
            with self._lock:
                full = len(self._queue) >= self.max_queue
                if not full:
                    self._queue.append((signal, item))
                    backlog = len(self._queue)
            if full:
                self._drop(1, "queue", "the SDK queue is full (max_queue); dropping %s", signal)
                return
            self._ensure_started()
            if backlog >= MAX_BATCH_ITEMS:
                self._wake.set()
        except Exception:
            _log.debug("queueing a %s item failed", signal, exc_info=True)

    def _accepting(self) -> bool:
        if self._transport is None:
            self._drop(1, "disabled", "radiator.sdk is not configured (no URL); data is dropped")
            return False
        if self._closed:
            self._drop(1, "closed", "the radiator.sdk client is closed; data is dropped")
            return False
        return True

    def _drop(self, items: int, reason: str, message: str, *args: object) -> None:
        """Count lost items; the first loss of each kind is logged (never every call)."""
        with self._lock:
            self._counts["dropped"] += items
            first = reason not in self._warned
            self._warned.add(reason)
        if first:
            _log.warning(message, *args)

    # -- state -----------------------------------------------------------------------------

    @property
    def stats(self) -> ClientStats:
        """A snapshot of what was sent, dropped, rejected and is waiting."""
        with self._lock:
            counts = dict(self._counts)
            queued = len(self._queue) + self._outbox_items
        return ClientStats(**counts, queued=queued + len(self._aggregator))

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._closed or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(
                target=self._run, name="radiator-sdk-sender", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        next_flush = time.monotonic() + self.flush_interval
        while not self._stop.is_set():
            now = time.monotonic()
            wait_until = next_flush if not self._outbox else min(next_flush, self._retry_at)
            if self._wake.wait(max(0.0, wait_until - now)):
                self._wake.clear()
            if self._stop.is_set():
                break
            now = time.monotonic()
            if now >= next_flush or self._queue_backlog() >= MAX_BATCH_ITEMS:
                next_flush = now + self.flush_interval
                self._collect()
            if now >= self._retry_at:
                self._send_pending()

    def _queue_backlog(self) -> int:
        with self._lock:
            return len(self._queue)

    # -- batching and sending --------------------------------------------------------------

    def _collect(self) -> None:
        """Move the interval's metrics and the queued items into encoded batches."""
        try:
            with self._collect_lock:
                stamp = _now()
                items: list[tuple[str, dict[str, Any]]] = []
                for point in self._aggregator.drain():
                    point["time"] = stamp
                    items.append(("points", point))
                with self._lock:
                    queued, self._queue = self._queue, deque()
                items.extend(queued)
                for batch in encode_batches(items):
                    self._push(batch)
        except Exception:
            _log.debug("building a batch failed", exc_info=True)

    def _push(self, batch: Batch) -> None:
        with self._lock:
            self._outbox.append(batch)
            self._outbox_items += batch.items
            lost = 0
            while self._outbox_items > self.max_queue and len(self._outbox) > 1:
                oldest = self._outbox.popleft()
                self._outbox_items -= oldest.items
                lost += oldest.items
        if lost:
            self._drop(lost, "outbox", "the server is not taking data; dropped the oldest %s", lost)

    def _send_pending(self, deadline: float | None = None) -> bool:
        """Send waiting batches oldest first until one fails; True when none is left."""
        with self._send_lock:
            while True:
                with self._lock:
                    if not self._outbox:
                        return True
                    batch = self._outbox[0]
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                if not self._attempt(batch):
                    return False

    def _attempt(self, batch: Batch) -> bool:
        assert self._transport is not None
        try:
            response = self._transport.send(batch.body)
        except Exception as exc:  # OSError by contract; anything else is no answer too
            self._failed(None, f"no answer from the server: {exc}")
            return False
        if response.status == 429 or response.status >= 500:
            self._failed(response, f"the server answered {response.status}")
            return False
        self._take(batch)
        if 200 <= response.status < 300:
            self._succeeded(batch, response)
        else:
            self._drop(
                batch.items,
                f"status:{response.status}",
                "the server refused a batch with %s (%s); dropped, not retried",
                response.status,
                response.body[:300].decode("utf-8", "replace"),
            )
        return True

    def _take(self, batch: Batch) -> None:
        with self._lock:
            if self._outbox and self._outbox[0] is batch:
                self._outbox.popleft()
                self._outbox_items -= batch.items

    def _succeeded(self, batch: Batch, response: Response) -> None:
        self._failures = 0
        self._retry_at = 0.0
        accepted, rejected, reason = batch.items, 0, ""
        try:
            summary = response.json()
            accepted = int(summary["accepted"])
            rejected = int(summary["rejected"])
            if summary.get("errors"):
                reason = str(summary["errors"][0].get("reason", ""))
        except Exception:  # a proxy's or an older server's answer: count the batch as sent
            _log.debug("unreadable ingest answer", exc_info=True)
        with self._lock:
            self._counts["sent"] += accepted
            self._counts["rejected"] += rejected
            first = rejected > 0 and "rejected" not in self._warned
            if first:
                self._warned.add("rejected")
        if first:
            _log.warning("the server rejected %d items of a batch; first: %s", rejected, reason)

    def _failed(self, response: Response | None, why: str) -> None:
        self._failures += 1
        delay = min(_BACKOFF_MAX, _BACKOFF_START * 2 ** (self._failures - 1))
        delay *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
        if response is not None and response.retry_after is not None:
            delay = min(_BACKOFF_MAX, max(delay, response.retry_after))
        self._retry_at = time.monotonic() + delay
        with self._lock:
            self._counts["errors"] += 1
            first = "failing" not in self._warned
            self._warned.add("failing")
        if first:
            _log.warning("%s; keeping data and retrying with backoff", why)

    # -- flushing and closing --------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Send everything recorded so far now, waiting up to ``timeout`` seconds.

        Returns:
            True when nothing is left to send; False when the server did not take it all
            in time (the rest stays buffered and is retried in the background).
        """
        if self._transport is None:
            return False
        try:
            self._collect()
            done = self._send_pending(time.monotonic() + timeout)
            if not done:
                self._ensure_started()
            return done
        except Exception:
            _log.debug("flush failed", exc_info=True)
            return False

    def close(self, timeout: float = 5.0) -> None:
        """Stop the sender after a final flush; later calls are dropped. Idempotent."""
        if self._closed:
            return
        self._stop.set()
        self._wake.set()
        self._closed = True
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self.flush(timeout)
        _LIVE.discard(self)
        if self._transport is not None:
            try:
                self._transport.close()
            except Exception:
                _log.debug("closing the transport failed", exc_info=True)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _after_fork(self) -> None:
        # A forked worker must not resend its parent's buffer or reuse its locks.
        closed = self._closed
        self._init_state()
        self._closed = closed


def _now() -> float:
    return time.time()


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _strings(tags: Mapping[str, object]) -> dict[str, str]:
    return {str(key): str(value) for key, value in tags.items()}


# -- the process-wide default client --------------------------------------------------------

_LIVE: weakref.WeakSet[Client] = weakref.WeakSet()
_default: Client | None = None
_default_lock = threading.Lock()


def init(
    url: str | None = None,
    token: str | None = None,
    *,
    service: str | None = None,
    environment: str | None = None,
    **options: Any,
) -> Client:
    """Configure the default client that ``metrics``, ``events`` and the integrations use.

    Arguments left out come from ``RADIATOR_URL``, ``RADIATOR_TOKEN``, ``RADIATOR_SERVICE``
    and ``RADIATOR_ENVIRONMENT``. A previous default client is flushed and closed.
    ``options`` are passed to ``Client`` (``flush_interval``, ``max_queue``, ``tags``…).
    """
    global _default
    client = Client(
        url if url is not None else os.environ.get("RADIATOR_URL", ""),
        token if token is not None else os.environ.get("RADIATOR_TOKEN", ""),
        service=service or os.environ.get("RADIATOR_SERVICE", "") or "unknown",
        environment=(
            environment if environment is not None else os.environ.get("RADIATOR_ENVIRONMENT", "")
        ),
        **options,
    )
    with _default_lock:
        previous, _default = _default, client
    if previous is not None:
        previous.close()
    return client


def get_client() -> Client:
    """The default client, configured from the environment on first use if ``init`` was
    not called. Without ``RADIATOR_URL`` it drops everything (and says so once)."""
    global _default
    client = _default
    if client is not None:
        return client
    with _default_lock:
        if _default is None:
            _default = Client(
                os.environ.get("RADIATOR_URL", ""),
                os.environ.get("RADIATOR_TOKEN", ""),
                service=os.environ.get("RADIATOR_SERVICE", "") or "unknown",
                environment=os.environ.get("RADIATOR_ENVIRONMENT", ""),
            )
        return _default


def _close_all() -> None:
    for client in list(_LIVE):
        client.close(timeout=2.0)


def _after_fork_in_child() -> None:
    for client in list(_LIVE):
        client._after_fork()


atexit.register(_close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
