"""Prometheus remote write 1.0: a snappy-compressed protobuf ``WriteRequest`` to points.

The ``__name__`` label is the metric name, the other labels are tags. Remote-write samples
carry no type, so the type comes from the metadata Prometheus sends (in separate requests,
remembered here per metric family) and otherwise from the name's suffix; see
``radiator.ingest.prometheus.map_sample`` for the mapping, which scrapes share, so the same
application looks the same whether Radiator scrapes it or Prometheus forwards it.
Cumulative series become deltas through a ``CounterTracker``, whose batch the caller rolls
back when the points cannot be taken (so the sender's retry loses nothing).
"""

from __future__ import annotations

import math
import threading
from typing import Any

import cramjam

from radiator.ingest.builder import BatchBuilder
from radiator.ingest.prometheus import family_of, map_sample
from radiator.ingest.prometheus_counters import CounterBatch, CounterTracker
from radiator.ingest.prometheus_pb import METRIC_TYPES, DecodeError, WriteRequest

__all__ = [
    "RemoteWriteError",
    "RemoteWriteReceiver",
    "RemoteWriteTooLargeError",
    "decompress",
]


class RemoteWriteError(ValueError):
    """The body is not a snappy-compressed ``prometheus.WriteRequest`` (the whole request
    is refused; retrying it cannot help)."""


class RemoteWriteTooLargeError(RemoteWriteError):
    """The body decompresses to more than the allowed size."""


def decompress(body: bytes, max_bytes: int) -> bytes:
    """Undo snappy block compression, refusing bodies that claim more than ``max_bytes``.

    Raises:
        RemoteWriteTooLargeError: the decompressed size would exceed ``max_bytes``.
        RemoteWriteError: the body is not snappy block data.
    """
    try:
        size = cramjam.snappy.decompress_raw_len(body)
    except cramjam.DecompressionError as exc:
        raise RemoteWriteError(f"the body is not snappy-compressed: {exc}") from exc
    if size > max_bytes:
        raise RemoteWriteTooLargeError(
            f"the body decompresses to {size} bytes, more than the {max_bytes} allowed "
            "(setting max_body_bytes)"
        )
    try:
        return bytes(cramjam.snappy.decompress_raw(body, output_len=size))
    except cramjam.DecompressionError as exc:
        raise RemoteWriteError(f"the body is not snappy-compressed: {exc}") from exc


class RemoteWriteReceiver:
    """State kept across remote-write requests: counters' last values and metric metadata.

    One per process. Thread-safe; memory is bounded by ``max_series`` counter series and
    ``max_families`` remembered metadata entries.
    """

    def __init__(self, *, max_series: int = 1_000_000, max_families: int = 100_000) -> None:
        self.counters = CounterTracker(max_series)
        self._types: dict[str, str] = {}
        self._max_families = max_families
        self._lock = threading.Lock()

    def metric_type(self, family: str) -> str | None:
        """The type the metadata gave for ``family``, if any has been received."""
        return self._types.get(family)

    def decode(self, body: bytes, builder: BatchBuilder, *, max_bytes: int) -> CounterBatch:
        """Decode one request into ``builder``; returns the counter batch to roll back if
        the points are not taken.

        Bad series (no name, invalid name or tags, native histograms) are rejected one by
        one with their index in ``timeseries``; NaN samples (staleness markers) are skipped.

        Raises:
            RemoteWriteError: the body is not a snappy-compressed WriteRequest.
        """
        request = self._parse(decompress(body, max_bytes))
        self._remember(request.metadata)
        counters = self.counters.batch()
        for index, series in enumerate(request.timeseries):
            self._add(builder, counters, index, series)
        return counters

    @staticmethod
    def _parse(payload: bytes) -> Any:
        try:
            return WriteRequest.FromString(payload)
        except DecodeError as exc:
            raise RemoteWriteError(f"the body is not a prometheus.WriteRequest: {exc}") from exc

    def _remember(self, metadata: Any) -> None:
        if not metadata:
            return
        with self._lock:
            for entry in metadata:
                name = entry.metric_family_name
                if not name:
                    continue
                self._types.pop(name, None)
                self._types[name] = METRIC_TYPES.get(entry.type, "unknown")
                if len(self._types) > self._max_families:
                    del self._types[next(iter(self._types))]

    def _add(self, builder: BatchBuilder, counters: CounterBatch, index: int, series: Any) -> None:
        name = ""
        labels: dict[str, str] = {}
        for label in series.labels:
            if label.name == "__name__":
                name = label.value
            elif label.value and not label.name.startswith("__"):
                labels[label.name] = label.value
        if not name:
            builder.result.reject("points", index, "the series has no __name__ label")
            return
        if series.histograms:
            builder.result.reject(
                "points", index, f"{name}: native histograms are not supported; send classic ones"
            )
            if not series.samples:
                return
        family, family_type = family_of(name, self._types)
        mapped = map_sample(family, family_type, name, "le" in labels)
        if mapped is None:
            return
        for sample in series.samples:
            value = sample.value
            if math.isnan(value):
                continue  # a staleness marker, or no data
            when = sample.timestamp * 1000
            if mapped.cumulative and math.isfinite(value):
                delta = counters.delta(mapped.name, labels, value, when)
                if delta is None:
                    continue
                value = delta
            builder.point(index, mapped.name, value, labels, mapped.kind.value, when)
