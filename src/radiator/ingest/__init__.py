"""Ingestion: decode, validate, write-ahead log and batch telemetry."""

from __future__ import annotations

from radiator.ingest.builder import BatchBuilder
from radiator.ingest.cardinality import SeriesLimiter
from radiator.ingest.cumulative import CumulativeToDelta
from radiator.ingest.models import IngestResult, Rejection
from radiator.ingest.native import NativeFormatError, decode_native
from radiator.ingest.selfmetrics import SelfMetrics
from radiator.ingest.service import IngestPipeline
from radiator.ingest.store import WriteAheadLog

__all__ = [
    "BatchBuilder",
    "CumulativeToDelta",
    "IngestPipeline",
    "IngestResult",
    "NativeFormatError",
    "Rejection",
    "SelfMetrics",
    "SeriesLimiter",
    "WriteAheadLog",
    "decode_native",
]
