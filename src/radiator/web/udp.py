"""The StatsD/DogStatsD UDP listener that ``radiator serve`` runs beside the HTTP API.

A dedicated thread waits until the socket is readable, drains whatever is queued (up to
``_BATCH`` datagrams) with non-blocking ``recvfrom`` calls, and hands the batch to the
aggregator in one call, which parses the batch as one text. On the 2-core reference machine
this received 100,000 one-line datagrams per second without loss. An asyncio datagram
protocol was measured too: on the default event loop (one ``select`` per datagram) it lost
a fifth of them; on uvloop, batching its callbacks, it kept up as well. The thread is used
because it does not depend on which loop the server runs and never stalls the HTTP loop for
a whole batch. See ``benchmarks/bench_statsd.py`` and ``docs/ingest/statsd.md``.

Datagrams the kernel drops because the receive buffer was full are read from the socket's
row in ``/proc/net/udp`` (or ``udp6``) and counted as ``radiator.statsd.kernel_drops``.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import sys
import threading
import time
from pathlib import Path

from radiator.ingest import SelfMetrics
from radiator.ingest.statsd_aggregate import StatsdAggregator
from radiator.jobs.builtin import schedule_statsd_flush
from radiator.jobs.scheduler import Scheduler
from radiator.runtime import Runtime

__all__ = ["StatsdListener", "StatsdServer", "read_kernel_drops"]

_log = logging.getLogger(__name__)
_MAX_DATAGRAM = 65_535
_BATCH = 256  # datagrams parsed together; bounds the latency one batch adds
_POLL_SECONDS = 0.25  # how soon the thread notices ``stop``
_DROPS_EVERY = 1.0  # seconds between reads of the kernel's drop counter
_SO_RCVBUFFORCE = 33 if sys.platform == "linux" else None  # not in the socket module
_FINAL_BATCHES = 1024  # at most this many batches are read after ``stop``
_PROC_TABLES = (Path("/proc/net/udp"), Path("/proc/net/udp6"))


def read_kernel_drops(inode: int, tables: tuple[Path, ...] = _PROC_TABLES) -> int | None:
    """The kernel's count of datagrams dropped for the socket with ``inode``, or None when
    the platform does not say (no ``/proc``, or the socket is not listed)."""
    wanted = str(inode)
    for table in tables:
        try:
            rows = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            columns = row.split()
            # sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            if len(columns) >= 13 and columns[9] == wanted:
                try:
                    return int(columns[12])
                except ValueError:
                    return None
    return None


class StatsdListener:
    """Receives datagrams on ``host:port`` and feeds ``aggregator`` until ``stop``."""

    def __init__(
        self,
        aggregator: StatsdAggregator,
        metrics: SelfMetrics,
        *,
        host: str,
        port: int,
        receive_buffer_bytes: int,
    ) -> None:
        self._aggregator = aggregator
        self._metrics = metrics
        self._host = host
        self._port = port
        self._buffer = receive_buffer_bytes
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._inode = 0
        self._drops_seen: int | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The address the socket is bound to."""
        if self._sock is None:
            raise RuntimeError("the StatsD listener is not running")
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    @property
    def receive_buffer_bytes(self) -> int:
        """The receive buffer the kernel granted (Linux reports twice what it uses)."""
        if self._sock is None:
            return 0
        return int(self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    def start(self) -> None:
        """Bind the socket and start receiving.

        Raises:
            OSError: the address cannot be bound (in use, not local, no permission).
        """
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._size_buffer(sock)
            sock.bind((self._host, self._port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)  # the thread waits in a selector, then drains
        self._sock = sock
        self._inode = os.fstat(sock.fileno()).st_ino
        self._drops_seen = read_kernel_drops(self._inode)
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="statsd-udp", daemon=True)
        self._thread.start()
        host, port = self.address
        _log.info(
            "StatsD listening on udp://%s:%d (receive buffer %d bytes)",
            host,
            port,
            self.receive_buffer_bytes,
        )

    def _size_buffer(self, sock: socket.socket) -> None:
        # SO_RCVBUFFORCE passes net.core.rmem_max when Radiator may (root, CAP_NET_ADMIN).
        force = getattr(socket, "SO_RCVBUFFORCE", _SO_RCVBUFFORCE)
        if force is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, force, self._buffer)
                return
            except OSError:
                pass
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._buffer)
        granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2
        if granted < self._buffer:
            _log.warning(
                "StatsD receive buffer is %d bytes, not the %d asked for "
                "(statsd_receive_buffer_bytes); raise net.core.rmem_max to allow more",
                granted,
                self._buffer,
            )

    def stop(self) -> None:
        """Stop receiving, aggregate what the kernel still holds, and close the socket."""
        self._stopping.set()
        receiving = False
        if self._thread is not None:
            self._thread.join(_POLL_SECONDS * 8)
            receiving = self._thread.is_alive()  # stuck: leave the parser to it
            self._thread = None
        if self._sock is not None:
            # Datagrams that arrived before the stop are part of the last flush.
            for _ in range(0 if receiving else _FINAL_BATCHES):
                if not self._receive_batch(self._sock):
                    break
            self._count_kernel_drops()
            self._sock.close()
            self._sock = None

    # -- the receiving thread --------------------------------------------------------------

    def _run(self) -> None:
        sock = self._sock
        assert sock is not None
        next_drops = time.monotonic() + _DROPS_EVERY
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if selector.select(_POLL_SECONDS):
                    self._receive_batch(sock)
                next_drops = self._maybe_count_drops(next_drops)

    def _receive_batch(self, sock: socket.socket) -> int:
        """Read what is queued (up to ``_BATCH`` datagrams) and aggregate it; returns how
        many datagrams were read."""
        receive = sock.recvfrom
        batch: list[bytes] = []
        peers: list[object] = []
        try:
            while len(batch) < _BATCH:
                data, peer = receive(_MAX_DATAGRAM)
                batch.append(data)
                peers.append(peer)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            if not self._stopping.is_set():
                _log.exception("StatsD receive failed")
        if batch:
            try:
                self._aggregator.add_many(batch, peers)
            except Exception:  # a parser bug must not stop the listener
                _log.exception("StatsD datagrams could not be processed; dropped")
                self._metrics.count("radiator.statsd.failed", {}, len(batch))
        return len(batch)

    def _maybe_count_drops(self, due: float) -> float:
        now = time.monotonic()
        if now < due:
            return due
        self._count_kernel_drops()
        return now + _DROPS_EVERY

    def _count_kernel_drops(self) -> None:
        total = read_kernel_drops(self._inode)
        if total is None:
            return
        previous = self._drops_seen if self._drops_seen is not None else total
        self._drops_seen = total
        if total > previous:
            self._metrics.count("radiator.statsd.kernel_drops", {}, total - previous)


class StatsdServer:
    """StatsD in one object for the app's lifespan: the aggregator and its flush job (set up
    at once) and the listener (``start``/``stop``; off when ``statsd_port`` is 0)."""

    def __init__(self, runtime: Runtime, scheduler: Scheduler) -> None:
        settings = runtime.settings
        self._settings = settings
        self._metrics = runtime.self_metrics
        self.aggregator = StatsdAggregator(
            runtime.self_metrics,
            max_keys=settings.statsd_max_keys,
            gauge_ttl_seconds=settings.statsd_gauge_ttl_seconds,
        )
        self.listener: StatsdListener | None = None
        schedule_statsd_flush(scheduler, runtime, self.aggregator)

    def start(self) -> None:
        """Start listening. A port that cannot be bound is logged and counted
        (``radiator.statsd.listen_failed``) but does not stop the HTTP server."""
        settings = self._settings
        if settings.statsd_port == 0:
            return
        listener = StatsdListener(
            self.aggregator,
            self._metrics,
            host=settings.statsd_host,
            port=settings.statsd_port,
            receive_buffer_bytes=settings.statsd_receive_buffer_bytes,
        )
        try:
            listener.start()
        except OSError as exc:
            self._metrics.count("radiator.statsd.listen_failed", {})
            _log.error(
                "StatsD is off: cannot listen on udp://%s:%d (%s); free the port or set "
                "statsd_port (0 turns StatsD off)",
                settings.statsd_host,
                settings.statsd_port,
                exc,
            )
            return
        self.listener = listener

    def stop(self) -> None:
        """Stop listening; what was received is still written by the flush job's last run."""
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
