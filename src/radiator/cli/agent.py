"""`radiator agent`: the infrastructure level. Host metrics from psutil, shipped by the SDK.

Every ``--interval`` seconds it records, tagged ``host``:

- CPU: ``system.cpu.percent`` (all cores), ``system.cpu.core.percent`` (tag ``cpu``),
  ``system.cpu.mode.percent`` (tag ``mode``: user, system, iowait, steal, idle).
- Memory and swap: ``system.memory.{total,available,used}_bytes``, ``system.memory.percent``,
  ``system.swap.{total,used}_bytes``, ``system.swap.percent``.
- Disks: ``system.disk.{total,used,free}_bytes`` and ``system.disk.percent`` per mount (tags
  ``mount``, ``device``, ``fstype``); ``system.disk.{read,write}_bytes``,
  ``system.disk.{read,write}_ops`` and ``system.disk.busy_ms`` per device (tag ``device``).
- Network per interface (tag ``interface``): ``system.net.bytes_{sent,recv}``,
  ``system.net.packets_{sent,recv}``, ``system.net.errors_{in,out}``,
  ``system.net.drops_{in,out}``.
- ``system.load.1``, ``system.load.5``, ``system.load.15``, ``system.uptime_s``,
  ``system.processes``.
- The top ``--top`` process names by CPU and by resident memory (tag ``process``; processes
  of one name are summed): ``process.cpu.percent``, ``process.memory.rss_bytes``.

I/O figures are cumulative in the kernel; the agent sends the increase since its previous
collection as a counter (a delta), so sums over any window are right.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Annotated

import psutil
import typer

from radiator.cli.common import console, fail
from radiator.core.types import MetricKind
from radiator.sdk import Client

__all__ = ["HostCollector", "Sample", "agent"]

_MAX_DEVICES = 50  # mounts, disks and interfaces each; a host with more is unusual
_SKIP_DEVICES = ("loop", "ram", "zram")
_CPU_MODES = ("user", "system", "iowait", "steal", "idle")
_DISK_IO = (
    ("read_bytes", "system.disk.read_bytes"),
    ("write_bytes", "system.disk.write_bytes"),
    ("read_count", "system.disk.read_ops"),
    ("write_count", "system.disk.write_ops"),
    ("busy_time", "system.disk.busy_ms"),
)
_NET_IO = (
    ("bytes_sent", "system.net.bytes_sent"),
    ("bytes_recv", "system.net.bytes_recv"),
    ("packets_sent", "system.net.packets_sent"),
    ("packets_recv", "system.net.packets_recv"),
    ("errin", "system.net.errors_in"),
    ("errout", "system.net.errors_out"),
    ("dropin", "system.net.drops_in"),
    ("dropout", "system.net.drops_out"),
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One value to record: a gauge (a level) or a counter (an increase since last time)."""

    name: str
    value: float
    kind: MetricKind
    tags: dict[str, str] = field(default_factory=dict)


class HostCollector:
    """Reads the host with psutil; ``collect`` returns what changed since the last call.

    Counters need a previous reading and CPU percentages a previous call, so ``prime``
    takes one silent reading; the first ``collect`` after it covers the time in between.
    """

    def __init__(self, host: str, *, top: int = 5) -> None:
        self.host = host
        self.top = max(0, top)
        self._previous: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def prime(self) -> None:
        psutil.cpu_percent(percpu=True)
        psutil.cpu_percent()
        psutil.cpu_times_percent()
        for _ in psutil.process_iter(["cpu_percent"]):
            pass
        list(self._io_counters())

    def collect(self) -> list[Sample]:
        samples: list[Sample] = []
        samples.extend(self._cpu())
        samples.extend(self._memory())
        samples.extend(self._disks())
        samples.extend(self._io_counters())
        samples.extend(self._load())
        samples.extend(self._processes())
        return samples

    def _gauge(self, name: str, value: float, **tags: str) -> Sample:
        return Sample(name, float(value), MetricKind.GAUGE, {"host": self.host, **tags})

    def _delta(self, name: str, total: float, **tags: str) -> Sample | None:
        key = (name, tuple(sorted(tags.items())))
        previous = self._previous.get(key)
        self._previous[key] = total
        if previous is None:
            return None
        # A smaller total means the counter restarted (a re-created interface).
        increase = total - previous if total >= previous else total
        return Sample(name, float(increase), MetricKind.COUNTER, {"host": self.host, **tags})

    def _cpu(self) -> Iterator[Sample]:
        yield self._gauge("system.cpu.percent", psutil.cpu_percent())
        for index, percent in enumerate(psutil.cpu_percent(percpu=True)):
            yield self._gauge("system.cpu.core.percent", percent, cpu=str(index))
        modes = psutil.cpu_times_percent()._asdict()
        for mode in _CPU_MODES:
            if mode in modes:
                yield self._gauge("system.cpu.mode.percent", modes[mode], mode=mode)

    def _memory(self) -> Iterator[Sample]:
        memory = psutil.virtual_memory()
        yield self._gauge("system.memory.total_bytes", memory.total)
        yield self._gauge("system.memory.available_bytes", memory.available)
        yield self._gauge("system.memory.used_bytes", memory.used)
        yield self._gauge("system.memory.percent", memory.percent)
        swap = psutil.swap_memory()
        yield self._gauge("system.swap.total_bytes", swap.total)
        yield self._gauge("system.swap.used_bytes", swap.used)
        yield self._gauge("system.swap.percent", swap.percent)

    def _disks(self) -> Iterator[Sample]:
        for partition in psutil.disk_partitions(all=False)[:_MAX_DEVICES]:
            try:
                usage = psutil.disk_usage(partition.mountpoint)
            except OSError:
                continue  # unmounted meanwhile, or not readable by this user
            tags = {
                "mount": partition.mountpoint,
                "device": partition.device,
                "fstype": partition.fstype,
            }
            yield self._gauge("system.disk.total_bytes", usage.total, **tags)
            yield self._gauge("system.disk.used_bytes", usage.used, **tags)
            yield self._gauge("system.disk.free_bytes", usage.free, **tags)
            yield self._gauge("system.disk.percent", usage.percent, **tags)

    def _io_counters(self) -> Iterator[Sample]:
        disks = psutil.disk_io_counters(perdisk=True) or {}
        wanted = [d for d in sorted(disks) if not d.startswith(_SKIP_DEVICES)][:_MAX_DEVICES]
        for device in wanted:
            yield from self._deltas(disks[device]._asdict(), _DISK_IO, device=device)
        interfaces = psutil.net_io_counters(pernic=True) or {}
        for interface in sorted(interfaces)[:_MAX_DEVICES]:
            yield from self._deltas(interfaces[interface]._asdict(), _NET_IO, interface=interface)

    def _deltas(
        self, values: Mapping[str, float], fields: tuple[tuple[str, str], ...], **tags: str
    ) -> Iterator[Sample]:
        for attribute, name in fields:
            if attribute in values:
                sample = self._delta(name, values[attribute], **tags)
                if sample is not None:
                    yield sample

    def _load(self) -> Iterator[Sample]:
        one, five, fifteen = psutil.getloadavg()
        yield self._gauge("system.load.1", one)
        yield self._gauge("system.load.5", five)
        yield self._gauge("system.load.15", fifteen)
        yield self._gauge("system.uptime_s", time.time() - psutil.boot_time())

    def _processes(self) -> Iterator[Sample]:
        cpu: dict[str, float] = {}
        rss: dict[str, float] = {}
        count = 0
        for process in psutil.process_iter(["name", "cpu_percent", "memory_info"]):
            info = process.info
            count += 1
            name = str(info.get("name") or "unknown")[:100]
            cpu[name] = cpu.get(name, 0.0) + float(info.get("cpu_percent") or 0.0)
            memory = info.get("memory_info")
            rss[name] = rss.get(name, 0.0) + float(memory.rss if memory is not None else 0)
        yield self._gauge("system.processes", count)
        for name in sorted(cpu, key=cpu.__getitem__, reverse=True)[: self.top]:
            yield self._gauge("process.cpu.percent", cpu[name], process=name)
        for name in sorted(rss, key=rss.__getitem__, reverse=True)[: self.top]:
            yield self._gauge("process.memory.rss_bytes", rss[name], process=name)


def _record(client: Client, samples: list[Sample]) -> None:
    for sample in samples:
        if sample.kind is MetricKind.COUNTER:
            client.count(sample.name, sample.value, tags=sample.tags)
        else:
            client.gauge(sample.name, sample.value, tags=sample.tags)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def agent(
    url: Annotated[
        str, typer.Option(envvar="RADIATOR_URL", help="Radiator's URL, e.g. http://host:8080.")
    ],
    token: Annotated[
        str,
        typer.Option(envvar="RADIATOR_TOKEN", help="API token with the ingest scope."),
    ],
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between collections.")] = 10.0,
    host_tag: Annotated[
        str | None,
        typer.Option("--host-tag", help="Value of the host tag (default: the hostname)."),
    ] = None,
    service: Annotated[str, typer.Option(help="Service tag of every point.")] = "host",
    environment: Annotated[
        str, typer.Option(envvar="RADIATOR_ENVIRONMENT", help="Environment tag, if any.")
    ] = "",
    top: Annotated[
        int, typer.Option(min=0, max=50, help="Process names to report by CPU and by memory.")
    ] = 5,
    once: Annotated[
        bool, typer.Option("--once", help="Collect once (over min(interval, 1) s), send, exit.")
    ] = False,
) -> None:
    """Ship host CPU, memory, disk, network and process metrics until Ctrl-C."""
    host = host_tag or socket.gethostname()
    client = Client(url, token, service=service, environment=environment)
    collector = HostCollector(host, top=top)
    collector.prime()
    if once:
        time.sleep(min(interval, 1.0))
        samples = collector.collect()
        _record(client, samples)
        sent = client.flush(timeout=10)
        stats = client.stats
        client.close(timeout=1)
        if not sent or stats.dropped:
            fail(f"could not send to {url}: {stats}", "check --url, --token and the server log")
        console.print(f"sent {stats.sent} points for host {host} to {url}")
        return
    console.print(f"radiator agent: host {host} → {url} every {interval:g}s; Ctrl-C stops")
    if os.name == "posix":
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    due = time.monotonic() + interval
    try:
        while True:
            time.sleep(max(0.0, due - time.monotonic()))
            due = max(due + interval, time.monotonic())
            _record(client, collector.collect())
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
        console.print(f"stopped; {client.stats}")
