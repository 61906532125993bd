"""OTLP metrics mapped onto Radiator's points (see ``core.types.MetricKind`` and
docs/ingest/opentelemetry.md for the table).

- gauge → gauge points; monotonic sums → counter deltas (cumulative ones through
  ``CumulativeStreams``); non-monotonic cumulative sums → gauges, non-monotonic delta sums →
  counter deltas (which may be negative);
- histograms and exponential histograms → ``histogram`` points, one per ``le`` bound holding
  the count of observations at or below it (Prometheus' layout; ``+Inf`` is the total), plus
  ``<name>.sum`` and ``<name>.count`` counters; cumulative ones become deltas first;
- summaries → ``<name>`` gauges tagged ``quantile`` plus ``.sum``/``.count`` counters.

Rejections name the data point by its position among all data points of the request, from
0, in the order they appear.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.metrics.v1 import metrics_pb2 as pb

from radiator.ingest.builder import BatchBuilder
from radiator.ingest.otlp_cumulative import StreamSession
from radiator.ingest.otlp_values import Origin, origin_of, tag_text

__all__ = ["MetricsDecoder"]

_NO_RECORDED_VALUE = pb.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
_DELTA = pb.AGGREGATION_TEMPORALITY_DELTA
_CUMULATIVE = pb.AGGREGATION_TEMPORALITY_CUMULATIVE
_INF = math.inf
_MIN_SCALE, _MAX_SCALE = -10, 20

Ladder = dict[str, float]  # le text -> observations at or below it, ascending


@dataclass(frozen=True, slots=True)
class _Explicit:
    bounds: tuple[float, ...]
    counts: tuple[int, ...]
    sum: float | None
    count: int


@dataclass(frozen=True, slots=True)
class _Buckets:
    offset: int
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Exponential:
    scale: int
    zero_count: int
    zero_threshold: float
    positive: _Buckets
    negative: _Buckets
    sum: float | None
    count: int


def _minus_number(current: float, previous: float) -> float | None:
    return None if current < previous else current - previous


def _minus_pair(
    current: tuple[float, float], previous: tuple[float, float]
) -> tuple[float, float] | None:
    if current[1] < previous[1]:
        return None
    return current[0] - previous[0], current[1] - previous[1]


def _minus_explicit(current: _Explicit, previous: _Explicit) -> _Explicit | None:
    if (
        current.bounds != previous.bounds
        or len(current.counts) != len(previous.counts)
        or current.count < previous.count
    ):
        return None
    counts = tuple(c - p for c, p in zip(current.counts, previous.counts, strict=True))
    if any(c < 0 for c in counts):
        return None
    total = None
    if current.sum is not None and previous.sum is not None:
        total = current.sum - previous.sum
    return _Explicit(current.bounds, counts, total, current.count - previous.count)


def _le(bound: float) -> str:
    if bound == _INF:
        return "+Inf"
    if bound == -_INF:
        return "-Inf"
    return repr(bound)


def _power_of_two(exponent: float) -> float:
    try:
        return math.pow(2.0, exponent)
    except OverflowError:
        return _INF


def _explicit_ladder(histogram: _Explicit) -> Ladder:
    if not histogram.counts:  # a histogram without buckets still has its count
        return {"+Inf": histogram.count}
    ladder: Ladder = {}
    running = 0
    for bound, count in zip((*histogram.bounds, _INF), histogram.counts, strict=True):
        running += count
        ladder[_le(bound)] = running
    return ladder


def _exponential_ladder(histogram: _Exponential) -> Ladder:
    """Bucket ``i`` (index ``offset + i``) of the positive range holds values in
    ``(base**index, base**(index+1)]`` with ``base = 2**(2**-scale)``, so its ``le`` bound is
    ``base**(index+1)``; negative buckets mirror that (bound ``-base**index``) and the zero
    bucket's bound is the zero threshold. Equal bounds (from overflow or underflow) merge.

    Bounds below the first observation and above the first bound that holds them all are
    left out (SDKs send sparse, padded bucket arrays); ``+Inf`` always holds the total.
    """
    factor = 2.0**-histogram.scale
    rows: list[tuple[float, int]] = []
    negative = histogram.negative
    if any(negative.counts):
        for k in range(len(negative.counts) - 1, -1, -1):
            rows.append((-_power_of_two((negative.offset + k) * factor), negative.counts[k]))
    if histogram.zero_count or rows:
        rows.append((histogram.zero_threshold, histogram.zero_count))
    positive = histogram.positive
    for k, count in enumerate(positive.counts):
        rows.append((_power_of_two((positive.offset + k + 1) * factor), count))
    everything = sum(count for _, count in rows)
    ladder: Ladder = {}
    running = 0
    for bound, count in rows:
        running += count
        if running:
            ladder[_le(bound)] = running
        if running == everything:
            break
    ladder["+Inf"] = everything
    return ladder


def _explicit_of(point: pb.HistogramDataPoint) -> _Explicit | str:
    bounds = tuple(point.explicit_bounds)
    counts = tuple(point.bucket_counts)
    if counts and len(counts) != len(bounds) + 1:
        return "bucket_counts must have one entry more than explicit_bounds"
    if any(not math.isfinite(b) for b in bounds) or any(
        a >= b for a, b in itertools.pairwise(bounds)
    ):
        return "explicit_bounds must be finite and increasing"
    total = point.sum if point.HasField("sum") else None
    return _Explicit(bounds, counts, total, point.count)


def _exponential_of(point: pb.ExponentialHistogramDataPoint) -> _Exponential | str:
    if not _MIN_SCALE <= point.scale <= _MAX_SCALE:
        return f"scale must be between {_MIN_SCALE} and {_MAX_SCALE}"
    if not math.isfinite(point.zero_threshold) or point.zero_threshold < 0:
        return "zero_threshold must be a finite non-negative number"
    return _Exponential(
        point.scale,
        point.zero_count,
        point.zero_threshold,
        _Buckets(point.positive.offset, tuple(point.positive.bucket_counts)),
        _Buckets(point.negative.offset, tuple(point.negative.bucket_counts)),
        point.sum if point.HasField("sum") else None,
        point.count,
    )


class MetricsDecoder:
    """Adds the points of OTLP ``ResourceMetrics`` to a builder.

    ``rejected`` counts the OTLP data points of which at least one derived point was refused
    (the ``rejected_data_points`` of the response).
    """

    def __init__(self, builder: BatchBuilder, streams: StreamSession) -> None:
        self.builder = builder
        self.streams = streams
        self.rejected = 0
        self._index = 0

    def add(self, resource_metrics: Iterable[pb.ResourceMetrics]) -> None:
        for resource in resource_metrics:
            for scope in resource.scope_metrics:
                origin = origin_of(resource.resource, scope.scope)
                for metric in scope.metrics:
                    self._metric(origin, metric)

    # -- one metric ------------------------------------------------------------------------

    def _metric(self, origin: Origin, metric: pb.Metric) -> None:
        data = metric.WhichOneof("data")
        name = metric.name
        if data == "gauge":
            self._numbers(origin, name, metric.gauge.data_points, "gauge", cumulative=False)
        elif data == "sum":
            total = metric.sum
            temporality = total.aggregation_temporality
            if temporality not in (_DELTA, _CUMULATIVE):
                self._reject_all(total.data_points, "aggregation_temporality is unspecified")
            elif total.is_monotonic or temporality == _DELTA:
                cumulative = temporality == _CUMULATIVE
                self._numbers(origin, name, total.data_points, "counter", cumulative=cumulative)
            else:
                self._numbers(origin, name, total.data_points, "gauge", cumulative=False)
        elif data == "histogram":
            self._distributions(origin, name, metric.histogram, _explicit_of)
        elif data == "exponential_histogram":
            self._distributions(origin, name, metric.exponential_histogram, _exponential_of)
        elif data == "summary":
            self._summaries(origin, name, metric.summary.data_points)

    def _reject_all(self, points: Iterable[Any], reason: str) -> None:
        for _ in points:
            self._reject(self._index, reason)
            self._index += 1

    def _reject(self, index: int, reason: str) -> None:
        self.builder.result.reject("points", index, reason)
        self.rejected += 1

    def _tags(self, origin: Origin, attributes: Any) -> dict[str, str]:
        if not attributes:
            return origin.tags
        tags = dict(origin.tags)
        for kv in attributes:
            value = kv.value
            text = value.string_value
            tags[kv.key] = text if text else tag_text(value)
        if origin.fixed:
            tags.update(origin.fixed)
        return tags

    def _numbers(
        self,
        origin: Origin,
        name: str,
        points: Iterable[pb.NumberDataPoint],
        kind: str,
        *,
        cumulative: bool,
    ) -> None:
        # The hot path: one call per data point, no per-point helper calls beyond the
        # builder's own validation.
        add_point = self.builder.point
        streams = self.streams
        base, fixed = origin.tags, origin.fixed
        index = self._index
        for point in points:
            index += 1
            if point.flags & _NO_RECORDED_VALUE:
                continue
            which = point.WhichOneof("value")
            if which == "as_double":
                value = point.as_double
            elif which == "as_int":
                value = float(point.as_int)
            else:
                self._reject(index - 1, f"data point of {name} has no value")
                continue
            attributes = point.attributes
            if attributes:
                tags = dict(base)
                for kv in attributes:
                    text = kv.value.string_value
                    tags[kv.key] = text if text else tag_text(kv.value)
                if fixed:
                    tags.update(fixed)
            else:
                tags = base
            time_ns = point.time_unix_nano
            if cumulative:
                key = (name, origin.scope, tuple(sorted(tags.items())))
                delta = streams.delta(
                    key, point.start_time_unix_nano, time_ns, value, _minus_number
                )
                if delta is None:
                    continue
                value = delta
            if not add_point(index - 1, name, value, tags, kind, time_ns // 1000 or None):
                self.rejected += 1
        self._index = index

    def _distributions(self, origin: Origin, name: str, metric: Any, parse: Any) -> None:
        """Explicit-bucket and exponential histograms (``parse`` reads one data point)."""
        temporality = metric.aggregation_temporality
        if temporality not in (_DELTA, _CUMULATIVE):
            self._reject_all(metric.data_points, "aggregation_temporality is unspecified")
            return
        for point in metric.data_points:
            index = self._index
            self._index += 1
            if point.flags & _NO_RECORDED_VALUE:
                continue
            histogram = parse(point)
            if isinstance(histogram, str):
                self._reject(index, f"histogram {name}: {histogram}")
                continue
            tags = self._tags(origin, point.attributes)
            time_us = point.time_unix_nano // 1000 or None
            if temporality == _DELTA:
                if isinstance(histogram, _Explicit):
                    ladder = _explicit_ladder(histogram)
                else:
                    ladder = _exponential_ladder(histogram)
                self._emit(index, name, tags, time_us, ladder, histogram.sum, histogram.count)
                continue
            key = (name, origin.scope, tuple(sorted(tags.items())))
            start, at = point.start_time_unix_nano, point.time_unix_nano
            if isinstance(histogram, _Explicit):
                delta = self.streams.delta(key, start, at, histogram, _minus_explicit)
                if delta is not None:
                    ladder = _explicit_ladder(delta)
                    self._emit(index, name, tags, time_us, ladder, delta.sum, delta.count)
                continue
            # Exponential bounds change as the SDK rescales, so each ``le`` is a counter of its
            # own: a bound seen for the first time counts everything at or below it since the
            # start (see ``CumulativeStreams``) and window sums stay right across rescaling.
            ladder = {}
            for le, at_or_below in _exponential_ladder(histogram).items():
                step = self.streams.delta((*key, le), start, at, at_or_below, _minus_number)
                if step is not None:
                    ladder[le] = step
            total = 0.0 if histogram.sum is None else histogram.sum
            pair = self.streams.delta(key, start, at, (total, histogram.count), _minus_pair)
            if pair is not None or ladder:
                total_step = None if pair is None or histogram.sum is None else pair[0]
                count_step = None if pair is None else pair[1]
                self._emit(index, name, tags, time_us, ladder, total_step, count_step)

    def _emit(
        self,
        index: int,
        name: str,
        tags: dict[str, str],
        time_us: int | None,
        ladder: Ladder,
        total: float | None,
        count: float | None,
    ) -> None:
        add_point = self.builder.point
        ok = True
        for le, at_or_below in ladder.items():
            ok &= add_point(index, name, at_or_below, {**tags, "le": le}, "histogram", time_us)
        if total is not None:
            ok &= add_point(index, f"{name}.sum", total, tags, "counter", time_us)
        if count is not None:
            ok &= add_point(index, f"{name}.count", count, tags, "counter", time_us)
        if not ok:
            self.rejected += 1

    def _summaries(self, origin: Origin, name: str, points: Iterable[pb.SummaryDataPoint]) -> None:
        add_point = self.builder.point
        for point in points:
            index = self._index
            self._index += 1
            if point.flags & _NO_RECORDED_VALUE:
                continue
            tags = self._tags(origin, point.attributes)
            time_us = point.time_unix_nano // 1000 or None
            ok = True
            for quantile in point.quantile_values:
                quantile_tags = {**tags, "quantile": repr(quantile.quantile)}
                ok &= add_point(index, name, quantile.value, quantile_tags, "gauge", time_us)
            key = (name, origin.scope, tuple(sorted(tags.items())))
            pair = self.streams.delta(
                key,
                point.start_time_unix_nano,
                point.time_unix_nano,
                (point.sum, float(point.count)),
                _minus_pair,
            )
            if pair is not None:
                ok &= add_point(index, f"{name}.sum", pair[0], tags, "counter", time_us)
                ok &= add_point(index, f"{name}.count", pair[1], tags, "counter", time_us)
            if not ok:
                self.rejected += 1
