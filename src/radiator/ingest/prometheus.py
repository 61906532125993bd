"""Prometheus exposition (text 0.0.4 and OpenMetrics 1.0) to Radiator points.

The scrape job (``radiator.jobs.scrape``) does the HTTP; this module parses the body with
prometheus_client's parsers and maps each sample (see docs/ingest/prometheus.md):

- names stay as Prometheus spells them (underscores; counters keep ``_total``);
- counters, histogram buckets and the ``_sum``/``_count`` of histograms and summaries are
  cumulative and become deltas through a ``CounterTracker``;
- a histogram ``X`` is stored as ``X`` (kind histogram, one point per ``le`` bucket,
  cumulative in ``le`` as in Prometheus) plus ``X.sum`` and ``X.count`` counters; a
  summary ``X`` as ``X`` gauges per ``quantile`` plus ``X.sum`` and ``X.count``;
- gauges, untyped and every other type are gauges under their sample name;
- ``_created`` samples are not stored: they tell when a counter started, so a series that
  appears between two scrapes counts in full instead of being taken as a baseline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as _parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as _parse_text
from prometheus_client.samples import Sample, Timestamp

from radiator.core.types import MetricKind
from radiator.ingest.builder import BatchBuilder
from radiator.ingest.prometheus_counters import CounterBatch

__all__ = [
    "ACCEPT",
    "SCRAPE_HEALTH",
    "Mapped",
    "decode_exposition",
    "family_of",
    "map_sample",
    "parse_exposition",
    "scrape_health",
    "target_tags",
]

# What Prometheus itself asks for: OpenMetrics first, the classic text format as fallback.
ACCEPT = "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
OPENMETRICS = "application/openmetrics-text"
SCRAPE_HEALTH = ("up", "scrape_duration_seconds", "scrape_samples_scraped")
_CUMULATIVE_TYPES = frozenset({"counter", "histogram", "summary"})
_SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")


@dataclass(frozen=True, slots=True)
class Mapped:
    """Where one Prometheus sample goes: the stored name, its kind, and whether its value
    is cumulative (stored as the increase since the previous sample)."""

    name: str
    kind: MetricKind
    cumulative: bool


def map_sample(family: str, family_type: str | None, sample: str, has_le: bool) -> Mapped | None:
    """Map a sample of ``family`` (of ``family_type``, None when unknown) to Radiator.

    Returns None for samples that are not stored (``_created``). Without a type, the
    suffix decides: ``_total`` is a counter, ``_bucket`` with ``le`` a histogram bucket,
    ``_sum``/``_count`` the cumulative sum and count of a histogram or summary, anything
    else a gauge.
    """
    if family_type is None:
        return _by_suffix(sample, has_le)
    if family_type not in _CUMULATIVE_TYPES:
        return Mapped(sample, MetricKind.GAUGE, cumulative=False)
    suffix = sample[len(family) :] if sample.startswith(family) else ""
    if suffix == "_created":
        return None
    if family_type == "counter":
        return Mapped(sample, MetricKind.COUNTER, cumulative=True)
    if suffix == "_bucket":
        return Mapped(family, MetricKind.HISTOGRAM, cumulative=True)
    if suffix in ("_sum", "_count"):
        return Mapped(f"{family}.{suffix[1:]}", MetricKind.COUNTER, cumulative=True)
    # A summary's quantiles (and anything unexpected in a histogram family) are levels.
    return Mapped(sample, MetricKind.GAUGE, cumulative=False)


def _by_suffix(sample: str, has_le: bool) -> Mapped:
    if sample.endswith("_total"):
        return Mapped(sample, MetricKind.COUNTER, cumulative=True)
    if sample.endswith("_bucket"):
        if has_le:
            return Mapped(sample[: -len("_bucket")], MetricKind.HISTOGRAM, cumulative=True)
        return Mapped(sample, MetricKind.COUNTER, cumulative=True)
    for suffix in ("_sum", "_count"):
        if sample.endswith(suffix):
            base = sample[: -len(suffix)]
            return Mapped(f"{base}.{suffix[1:]}", MetricKind.COUNTER, cumulative=True)
    return Mapped(sample, MetricKind.GAUGE, cumulative=False)


def family_of(sample: str, known: Mapping[str, str]) -> tuple[str, str | None]:
    """The family a sample name belongs to and its type, looked up in ``known`` (family
    name to type): the exact name first, then the name without a known suffix."""
    found = known.get(sample)
    if found is not None:
        return sample, found
    for suffix in _SUFFIXES:
        if sample.endswith(suffix):
            base = sample[: -len(suffix)]
            found = known.get(base)
            if found is not None:
                return base, found
    return sample, None


def target_tags(labels: Mapping[str, str], target: Mapping[str, str]) -> dict[str, str]:
    """Tags of an exposed sample: its labels (empty values dropped, as Prometheus does)
    plus the target's labels, which win; an exposed label they clash with is kept as
    ``exported_<name>``, as Prometheus does without ``honor_labels``."""
    tags: dict[str, str] = {}
    for key, value in labels.items():
        if value:
            tags[f"exported_{key}" if key in target else key] = value
    tags.update(target)
    return tags


def parse_exposition(text: str, content_type: str) -> list[Metric]:
    """Parse an exposition body; the content type picks OpenMetrics or the text format.

    Raises:
        ValueError: the body does not parse; like Prometheus, the whole scrape fails.
    """
    if content_type.split(";", 1)[0].strip().lower() == OPENMETRICS:
        families: Iterable[Metric] = _parse_openmetrics(text)  # type: ignore[no-untyped-call]
    else:
        families = _parse_text(text)
    try:
        return list(families)
    except (IndexError, KeyError, TypeError) as exc:  # the parsers' other ways to say "bad"
        raise ValueError(f"{type(exc).__name__}: {exc}") from exc


def _micros(timestamp: float | Timestamp | None, default: int) -> int | None:
    """Microseconds of an exposition timestamp; None when it is not a finite number."""
    if timestamp is None:
        return default
    if isinstance(timestamp, Timestamp):
        return timestamp.sec * 1_000_000 + timestamp.nsec // 1000
    if not math.isfinite(timestamp):
        return None
    return round(timestamp * 1_000_000)


def _created_families(families: list[Metric]) -> set[str]:
    """Text-format expositions from client libraries list ``X_created`` as a separate gauge
    family next to counter/histogram/summary ``X``; those are start times, not data."""
    cumulative = {f.name for f in families if f.type in _CUMULATIVE_TYPES}
    return {
        f.name
        for f in families
        if f.type in ("gauge", "unknown")
        and f.name.endswith("_created")
        and f.name[: -len("_created")] in cumulative
    }


_SeriesKey = tuple[str, frozenset[tuple[str, str]]]


def _created_times(families: list[Metric], created_families: set[str]) -> dict[_SeriesKey, float]:
    """Start time (Unix seconds) of each cumulative series that exposes one, keyed by
    family and labels."""
    starts: dict[_SeriesKey, float] = {}
    for family in families:
        for sample in family.samples:
            if sample.name.endswith("_created") and (
                family.name in created_families or family.type in _CUMULATIVE_TYPES
            ):
                base = sample.name[: -len("_created")]
                starts[(base, frozenset(sample.labels.items()))] = sample.value
    return starts


@dataclass(slots=True)
class _Context:
    builder: BatchBuilder
    counters: CounterBatch
    target: Mapping[str, str]
    scrape_us: int
    since_us: int | None
    starts: dict[_SeriesKey, float]


def decode_exposition(
    text: str,
    content_type: str,
    builder: BatchBuilder,
    counters: CounterBatch,
    *,
    target: Mapping[str, str],
    scrape_us: int,
    since_us: int | None,
) -> int:
    """Parse one scrape's body into ``builder``; returns the number of samples scraped.

    Args:
        target: the target's labels (``job``, ``instance`` and any configured extras).
        scrape_us: the scrape's start, the time of samples without their own timestamp.
        since_us: the start of the previous successful scrape of this target, or None; a
            counter whose ``_created`` time is after it counts in full.

    Raises:
        ValueError: the body does not parse (nothing is added to ``builder``).
    """
    families = parse_exposition(text, content_type)
    created = _created_families(families)
    context = _Context(
        builder, counters, target, scrape_us, since_us, _created_times(families, created)
    )
    scraped = 0
    for family in families:
        scraped += len(family.samples)
        if family.name in created:
            continue
        for sample in family.samples:
            _add(context, family, sample)
    return scraped


def _add(context: _Context, family: Metric, sample: Sample) -> None:
    if sample.native_histogram is not None:
        return  # native histograms are not stored (see docs/ingest/prometheus.md)
    value = float(sample.value)
    if math.isnan(value):
        return  # no data (e.g. a summary quantile without observations)
    mapped = map_sample(family.name, family.type, sample.name, "le" in sample.labels)
    if mapped is None:
        return
    builder = context.builder
    index = builder.result.accepted + builder.result.rejected
    tags = target_tags(sample.labels, context.target)
    when = _micros(sample.timestamp, context.scrape_us)
    if when is None:
        builder.result.reject("points", index, f"timestamp of {sample.name} is not finite")
        return
    if mapped.cumulative and math.isfinite(value):
        own = {k: v for k, v in sample.labels.items() if k not in ("le", "quantile")}
        start = context.starts.get((family.name, frozenset(own.items())))
        is_new = (
            start is not None
            and context.since_us is not None
            and start * 1_000_000 >= context.since_us
        )
        delta = context.counters.delta(mapped.name, tags, value, when, is_new_start=is_new)
        if delta is None:
            return
        value = delta
    builder.point(index, mapped.name, value, tags, mapped.kind.value, when)


def scrape_health(
    builder: BatchBuilder,
    target: Mapping[str, str],
    *,
    up: bool,
    duration_s: float,
    samples: int,
    scrape_us: int,
) -> None:
    """Add the series Prometheus writes for every scrape of a target, failed ones too."""
    tags = dict(target)
    index = builder.result.accepted + builder.result.rejected
    for offset, (name, value) in enumerate(
        zip(SCRAPE_HEALTH, (1.0 if up else 0.0, duration_s, float(samples)), strict=True)
    ):
        builder.point(index + offset, name, value, tags, MetricKind.GAUGE.value, scrape_us)
