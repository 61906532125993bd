"""Cumulative OTLP streams (sums, histograms, summaries) turned into the deltas Radiator
stores (see ``core.types.MetricKind``).

Unlike ``CumulativeToDelta`` (which knows only values, as a Prometheus scrape does), an OTLP
data point carries its stream's start time, which decides everything:

- a stream seen for the first time counts in full when it started after Radiator began
  watching (nothing of it can have been stored before); otherwise it only sets the baseline;
- a later start time is a restart: the new value counts in full;
- an earlier start time, or a time not after the last one (a retried or reordered export),
  is stale and ignored;
- otherwise the delta is the difference, or the whole value when it went down (a reset the
  sender did not flag).

State changes are staged per request in a ``StreamSession`` and kept only by ``commit``, which
the receiver calls once the batch is in the write-ahead log: a refused batch (buffer full)
leaves the state as it was, so the sender's retry yields the same deltas.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["CumulativeStreams", "StreamSession"]

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Stream:
    start_ns: int
    time_ns: int
    value: Any


class CumulativeStreams:
    """The last value of every cumulative stream, shared by all OTLP requests.

    Thread-safe. Memory is bounded by ``max_streams``: the least recently updated streams are
    forgotten first (their next point only sets a new baseline).

    Args:
        since_ns: when watching began (Unix nanoseconds); streams that started earlier are
            not counted in full on first sight.
    """

    def __init__(self, since_ns: int, max_streams: int = 1_000_000) -> None:
        self.since_ns = since_ns
        self._max = max_streams
        self._streams: dict[Hashable, _Stream] = {}
        self._lock = threading.Lock()

    def session(self) -> StreamSession:
        return StreamSession(self)

    def __len__(self) -> int:
        return len(self._streams)

    def _get(self, key: Hashable) -> _Stream | None:
        return self._streams.get(key)

    def _update(self, staged: dict[Hashable, _Stream]) -> None:
        with self._lock:
            streams = self._streams
            for key, stream in staged.items():
                streams.pop(key, None)
                streams[key] = stream
            while len(streams) > self._max:
                del streams[next(iter(streams))]


class StreamSession:
    """The stream updates of one request; ``commit`` makes them stick."""

    def __init__(self, owner: CumulativeStreams) -> None:
        self._owner = owner
        self._staged: dict[Hashable, _Stream] = {}

    def delta(
        self,
        key: Hashable,
        start_ns: int,
        time_ns: int,
        value: V,
        subtract: Callable[[V, V], V | None],
    ) -> V | None:
        """The increase of stream ``key`` since its previous point, or None when there is
        nothing to store (a first baseline, or a stale point).

        ``subtract(current, previous)`` returns the difference, or None when ``current`` went
        down from ``previous`` (then the whole current value counts).
        """
        previous = self._staged.get(key) or self._owner._get(key)
        if previous is None:
            result = value if start_ns > 0 and self._owner.since_ns <= start_ns else None
        elif start_ns > previous.start_ns:
            result = value
        elif start_ns < previous.start_ns or time_ns <= previous.time_ns:
            return None
        else:
            difference = subtract(value, previous.value)
            result = value if difference is None else difference
        self._staged[key] = _Stream(start_ns, time_ns, value)
        return result

    def commit(self) -> None:
        if self._staged:
            self._owner._update(self._staged)
            self._staged = {}
