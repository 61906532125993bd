"""The ingest pipeline: validate, append to the write-ahead log, acknowledge, flush in batches.

Every protocol (native JSON, StatsD, line protocol, OTLP, Prometheus) decodes into a
``BatchBuilder`` and hands the resulting Arrow tables to ``submit``. ``submit`` returns once
the data is in the write-ahead log — that is the acknowledgement — and a flusher later
writes everything pending to the telemetry store in one transaction that also records the
log position, so a crash at any point neither loses nor duplicates acknowledged data.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Mapping

import pyarrow as pa

from radiator.core.clock import Clock, system_clock
from radiator.core.telemetry import Signal, TelemetryStore
from radiator.errors import InvalidInputError, OverloadedError
from radiator.ingest.builder import BatchBuilder
from radiator.ingest.cardinality import SeriesLimiter
from radiator.ingest.models import IngestResult
from radiator.ingest.selfmetrics import SelfMetrics
from radiator.ingest.store import WriteAheadLog

__all__ = ["IngestPipeline", "decode_record", "encode_record"]

_log = logging.getLogger(__name__)
_SIGNAL_KEY = b"radiator.signal"


def encode_record(signal: Signal, table: pa.Table) -> bytes:
    """One write-ahead-log record: the table as an Arrow IPC stream tagged with its signal."""
    schema = table.schema.with_metadata({_SIGNAL_KEY: signal.value.encode()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_table(table.replace_schema_metadata(schema.metadata))
    return bytes(sink.getvalue().to_pybytes())


def decode_record(payload: bytes) -> tuple[Signal, pa.Table]:
    table = pa.ipc.open_stream(payload).read_all()
    signal = Signal((table.schema.metadata or {})[_SIGNAL_KEY].decode())
    return signal, table.replace_schema_metadata(None)


class IngestPipeline:
    """Thread-safe entry point for all telemetry, with a bounded in-memory buffer."""

    def __init__(
        self,
        wal: WriteAheadLog,
        store: TelemetryStore,
        *,
        limiter: SeriesLimiter,
        metrics: SelfMetrics,
        max_buffer_bytes: int,
        flush_bytes: int,
        clock: Clock = system_clock,
    ) -> None:
        self._wal = wal
        self._store = store
        self.limiter = limiter
        self._metrics = metrics
        self._max_buffer = max_buffer_bytes
        self._flush_bytes = flush_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: list[tuple[int, Signal, pa.Table]] = []
        self._pending_bytes = 0
        self.flush_wanted = threading.Event()

    # -- accepting -------------------------------------------------------------------------

    def builder(self) -> BatchBuilder:
        """A builder for one request, validating against the server's clock and limits."""
        now = self._clock()
        return BatchBuilder(int(now.timestamp() * 1_000_000), self.limiter)

    def submit(self, builder: BatchBuilder, protocol: str) -> IngestResult:
        """Make what ``builder`` accepted durable and queue it for the store.

        Raises:
            OverloadedError: the buffer is full; nothing of this batch was taken.
        """
        tables = builder.tables()
        result = builder.result
        if tables:
            self.submit_tables(tables)
        self._count(protocol, result, builder.series_rejected)
        return result

    def submit_tables(self, tables: Mapping[Signal, pa.Table]) -> None:
        """Append already-valid tables (schema ``SCHEMAS[signal]``) to the log and buffer."""
        size = sum(table.nbytes for table in tables.values())
        with self._lock:
            if self._pending_bytes + size > self._max_buffer and self._pending:
                self._metrics.count("radiator.ingest.overloaded", {})
                self.flush_wanted.set()
                raise OverloadedError(
                    "the ingest buffer is full (ingest_buffer_max_bytes); retry shortly",
                    retry_after=1.0,
                )
            for signal, table in tables.items():
                seq = self._wal.append(encode_record(signal, table))
                self._pending.append((seq, signal, table))
            self._pending_bytes += size
            if self._pending_bytes >= self._flush_bytes:
                self.flush_wanted.set()

    def _count(self, protocol: str, result: IngestResult, series_rejected: int) -> None:
        tags = {"protocol": protocol}
        if result.accepted:
            self._metrics.count("radiator.ingest.accepted", tags, result.accepted)
        if result.rejected:
            self._metrics.count("radiator.ingest.rejected", tags, result.rejected)
        if series_rejected:
            self._metrics.count("radiator.ingest.series_rejected", tags, series_rejected)

    # -- flushing --------------------------------------------------------------------------

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    @property
    def buffer_fill(self) -> float:
        return self._pending_bytes / self._max_buffer

    def flush(self) -> int:
        """Write everything pending to the store in one transaction; returns rows written.

        On a store failure the data stays pending (and in the log) and the error propagates.
        """
        with self._flush_lock:
            with self._lock:
                taken = self._pending
                self._pending = []
                self.flush_wanted.clear()
            if not taken:
                return 0
            started = time.perf_counter()
            grouped: dict[Signal, list[pa.Table]] = defaultdict(list)
            for _seq, signal, table in taken:
                grouped[signal].append(table)
            batches = [(s, pa.concat_tables(t)) for s, t in grouped.items()]
            last_seq = max(seq for seq, _, _ in taken)
            size = sum(table.nbytes for _, _, table in taken)
            try:
                rows = self._append(batches, last_seq)
            except Exception:
                with self._lock:
                    self._pending = taken + self._pending
                raise
            with self._lock:
                self._pending_bytes -= size
            self._wal.truncate(last_seq)
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._metrics.observe("radiator.ingest.flush_ms", {}, elapsed_ms)
            self._metrics.count("radiator.ingest.flushed_rows", {}, rows)
            return rows

    def _append(self, batches: list[tuple[Signal, pa.Table]], last_seq: int) -> int:
        try:
            return self._store.append_many(batches, checkpoint=last_seq)
        except InvalidInputError:
            # Decoders validate everything, so this is a bug; a batch the store refuses must
            # not block everything behind it forever. Store the rest and count the loss.
            rows = 0
            for signal, table in batches:
                try:
                    rows += self._store.append_many([(signal, table)])
                except InvalidInputError:
                    _log.exception("dropping %d %s the store refused", table.num_rows, signal)
                    self._metrics.count(
                        "radiator.ingest.dropped", {"signal": signal.value}, table.num_rows
                    )
            self._store.append_many([], checkpoint=last_seq)
            return rows

    def sync(self) -> None:
        """Push the log to disk (the ``interval`` sync policy calls this every flush)."""
        self._wal.sync()

    def recover(self) -> int:
        """Replay log records the store has not checkpointed; returns rows recovered."""
        after = self._store.checkpoint()
        replayed = 0
        with self._lock:
            for seq, payload in self._wal.replay(after):
                signal, table = decode_record(payload)
                self._pending.append((seq, signal, table))
                self._pending_bytes += table.nbytes
                replayed += table.num_rows
        if replayed:
            _log.info("replaying %d rows from the write-ahead log", replayed)
            self.flush()
        return replayed

    def gauges(self) -> dict[str, float]:
        """Current buffer and log sizes, for self-telemetry."""
        return {
            "radiator.ingest.buffer_bytes": float(self._pending_bytes),
            "radiator.ingest.buffer_fill": self.buffer_fill,
            "radiator.ingest.wal_bytes": float(self._wal.size_bytes()),
        }
