"""Ingestion: decode, validate, write-ahead log and batch telemetry."""

from __future__ import annotations

from radiator.ingest.selfmetrics import SelfMetrics

__all__ = ["SelfMetrics"]
