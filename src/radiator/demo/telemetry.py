"""Telemetry of every demo service: metrics, logs, traces and the events of its timeline.

Per service and step (10 seconds of history, or the time since the last tick):

- ``http.server.requests`` (counter; tags service, route, status 2xx/4xx/5xx): requests
  in the step. The home page sums it by service.
- ``http.server.latency_ms`` (gauge; tags service, quantile p50/p95/p99): lognormal, with
  the daily cycle, noise and the story's spike.
- ``process.cpu.percent`` and ``process.memory.mb`` (gauges; tags service, host); memory
  creeps up between deploys and drops back after one.
- A business counter where the profile names one (``checkout.completed`` …).
- Sampled traces with one log line per span, plus error traces in step with the 5xx counts.

Events (deploys, the incident, the config change) come from ``radiator.demo.story``.
Everything is drawn from ``ctx.rng("telemetry")``, so a seed always gives the same data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from random import Random

from radiator.core.types import LogRecord, MetricKind
from radiator.demo.base import (
    STEP,
    DemoContext,
    PointBatch,
    PointSeries,
    Progress,
    poisson,
    to_us,
)
from radiator.demo.organisation import DemoOrg, DemoService, Route
from radiator.demo.story import Timeline, live_deploys, plan_history
from radiator.demo.traces import Conditions, TraceWriter, roots_reaching

__all__ = [
    "BUSINESS_KIND",
    "CPU_METRIC",
    "LATENCY_METRIC",
    "MEMORY_METRIC",
    "REQUESTS_METRIC",
    "TelemetryDemo",
]

REQUESTS_METRIC = "http.server.requests"
LATENCY_METRIC = "http.server.latency_ms"
CPU_METRIC = "process.cpu.percent"
MEMORY_METRIC = "process.memory.mb"
BUSINESS_KIND = MetricKind.COUNTER

_STEP_US = STEP // STEP.resolution
_STEP_S = STEP.total_seconds()
_CHUNK_STEPS = 180  # 30 minutes of history per append
_MAX_TICK_S = 60.0  # a tick after a long pause covers at most this much
_HOUR_US = 3_600_000_000
_STATUSES = ("2xx", "4xx", "5xx")
_QUANTILES = (("p50", 0.0), ("p95", 1.645), ("p99", 2.326))
_CLIENT_ERROR_RATE = 0.012
_TRACES_PER_S = 0.3
_ERROR_TRACE_RATIO = 0.03  # error traces per 5xx response
_MAX_ERROR_TRACES = 3  # per service and step


@dataclass(frozen=True, slots=True)
class _Model:
    """A service's series, prepared once: building tags per point would dominate seeding."""

    service: DemoService
    requests: tuple[tuple[PointSeries, ...], ...]  # per route: 2xx, 4xx, 5xx
    latency: tuple[PointSeries, ...]  # per quantile
    cpu: tuple[PointSeries, ...]  # per host
    memory: tuple[PointSeries, ...]  # per host
    business: PointSeries | None
    business_route: int

    @classmethod
    def of(cls, service: DemoService) -> _Model:
        name = service.name
        routes = service.traffic.routes
        business = service.traffic.business
        route_index = next(
            (i for i, r in enumerate(routes) if business and r.template == business.route), -1
        )
        return cls(
            service=service,
            requests=tuple(
                tuple(
                    PointSeries.of(
                        REQUESTS_METRIC,
                        {"service": name, "route": route.template, "status": status},
                        MetricKind.COUNTER,
                    )
                    for status in _STATUSES
                )
                for route in routes
            ),
            latency=tuple(
                PointSeries.of(LATENCY_METRIC, {"service": name, "quantile": q}, MetricKind.GAUGE)
                for q, _ in _QUANTILES
            ),
            cpu=tuple(
                PointSeries.of(CPU_METRIC, {"service": name, "host": h}, MetricKind.GAUGE)
                for h in service.hosts
            ),
            memory=tuple(
                PointSeries.of(MEMORY_METRIC, {"service": name, "host": h}, MetricKind.GAUGE)
                for h in service.hosts
            ),
            business=(
                PointSeries.of(business.name, {"service": name}, BUSINESS_KIND)
                if business
                else None
            ),
            business_route=route_index,
        )


@dataclass(slots=True)
class _Output:
    points: PointBatch = field(default_factory=PointBatch)
    writer: TraceWriter | None = None
    logs: list[LogRecord] = field(default_factory=list)

    def flush(self, ctx: DemoContext) -> None:
        ctx.append_points(self.points)
        if self.writer is not None:
            ctx.append_spans(self.writer.spans)
            self.logs.extend(self.writer.logs)
        ctx.append_logs(self.logs)


class _Generator:
    """Draws one step of every service's telemetry."""

    def __init__(self, org: DemoOrg, timeline: Timeline, rng: Random) -> None:
        self.org, self.timeline, self.rng = org, timeline, rng
        self.models = [_Model.of(s) for s in org.services]
        self.roots = roots_reaching(org)
        entries = [(s, r) for s in org.entry_services() for r in s.traffic.routes]
        self.entry_roots: list[tuple[str, Route]] = [(s.name, r) for s, r in entries]
        self.entry_weights = [s.traffic.base_rps * r.weight for s, r in entries]

    def step(self, out: _Output, t_us: int, seconds: float) -> None:
        """Everything for the ``seconds`` up to ``t_us``; point times are ``t_us``."""
        hour = (t_us / _HOUR_US) % 24
        phase = math.sin(2 * math.pi * (hour - 9) / 24)  # busiest at 15:00 UTC
        conditions: dict[str, Conditions] = {}
        server_errors: dict[str, int] = {}
        for model in self.models:
            name = model.service.name
            conditions[name], server_errors[name] = self._metrics(
                out.points, model, t_us, seconds, phase
            )
        self._traces(out, t_us, seconds, conditions, server_errors)

    def _metrics(
        self, points: PointBatch, model: _Model, t_us: int, seconds: float, phase: float
    ) -> tuple[Conditions, int]:
        rng, service = self.rng, model.service
        profile = service.traffic
        spike = self.timeline.intensity(service.name, t_us)
        wander = 0.97 * self.timeline.wander.get(service.name, 0.0) + rng.gauss(0, 0.01)
        self.timeline.wander[service.name] = wander
        load = (1 + profile.seasonality * phase) * (1 + wander) * (1 + rng.gauss(0, 0.03))
        error_rate = min(0.5, profile.error_rate * (1 + 30 * spike))
        expected = profile.base_rps * max(load, 0.05) * seconds
        server_errors = 0
        for index, route in enumerate(profile.routes):
            count = poisson(rng, expected * route.weight)
            failed = min(count, poisson(rng, count * error_rate))
            refused = min(count - failed, poisson(rng, count * _CLIENT_ERROR_RATE))
            ok = count - failed - refused
            for series, value in zip(model.requests[index], (ok, refused, failed), strict=True):
                points.add(series, t_us, float(value))
            server_errors += failed
            if model.business is not None and index == model.business_route:
                ratio = profile.business.ratio if profile.business else 1.0
                done = ok if ratio >= 1 else min(ok, poisson(rng, ok * ratio))
                points.add(model.business, t_us, float(done))
        p50 = profile.p50_ms * (0.85 + 0.15 * load) * (1 + 3 * spike)
        p50 *= math.exp(rng.gauss(0, 0.04))
        sigma = 0.45 * (1 + 0.5 * spike)
        latest = 0.0
        for series, (_, z) in zip(model.latency, _QUANTILES, strict=True):
            noise = rng.gauss(0, 0.03 + 0.03 * z)
            latest = max(latest, p50 * math.exp(z * sigma + noise))
            points.add(series, t_us, round(latest, 2))
        self._hosts(points, model, t_us, load, spike)
        return Conditions(p50, error_rate, incident=spike > 0.3), server_errors

    def _hosts(
        self, points: PointBatch, model: _Model, t_us: int, load: float, spike: float
    ) -> None:
        rng, service = self.rng, model.service
        profile = service.traffic
        up_hours = (t_us - self.timeline.last_deploy(service.name, t_us)) / _HOUR_US
        creep = 1 + 0.15 * min(1.0, up_hours / 8)
        for index, (cpu, memory) in enumerate(zip(model.cpu, model.memory, strict=True)):
            bias = 1.06 if index % 2 == 0 else 0.94  # load balancers are never quite even
            busy = profile.cpu_percent * (0.55 + 0.45 * load) * (1 + 0.4 * spike) * bias
            points.add(cpu, t_us, round(min(99.0, max(0.5, busy + rng.gauss(0, 1.5))), 2))
            resident = profile.memory_mb * creep * (2 - bias)
            points.add(memory, t_us, round(resident + rng.gauss(0, profile.memory_mb * 0.005), 1))

    def _traces(
        self,
        out: _Output,
        t_us: int,
        seconds: float,
        conditions: dict[str, Conditions],
        server_errors: dict[str, int],
    ) -> None:
        rng = self.rng
        if out.writer is None:
            out.writer = TraceWriter(self.org, rng)
        window_us = int(seconds * 1_000_000)
        for _ in range(poisson(rng, seconds * _TRACES_PER_S)):
            root = rng.choices(self.entry_roots, weights=self.entry_weights)[0]
            out.writer.trace(root, t_us - int(rng.random() * window_us), t_us, conditions)
        for service, failed in server_errors.items():
            wanted = poisson(rng, failed * _ERROR_TRACE_RATIO)
            for _ in range(min(_MAX_ERROR_TRACES, wanted)):
                root = rng.choice(self.roots[service])
                start = t_us - int(rng.random() * window_us)
                out.writer.trace(root, start, t_us, conditions, fail_at=service)


@dataclass(slots=True)
class _Feed:
    """Telemetry's state between seed and ticks."""

    timeline: Timeline
    generator: _Generator


class TelemetryDemo:
    """Seeds and feeds metrics, logs, spans and events for every service in ``ctx.org``."""

    name = "telemetry"

    def seed(self, ctx: DemoContext, start: datetime, end: datetime, progress: Progress) -> None:
        rng = ctx.rng(self.name)
        start_us, end_us = to_us(start), to_us(end)
        timeline, events, deploy_logs = plan_history(ctx.org, rng, start_us, end_us)
        feed = _Feed(timeline, _Generator(ctx.org, timeline, rng))
        ctx.set_state(feed)
        # Steps sit on a 10-second grid and each covers the step before it, so the history
        # stays inside [start, end).
        first = -(-(start_us + _STEP_US) // _STEP_US) * _STEP_US
        times = range(first, end_us, _STEP_US)
        chunks = [times[i : i + _CHUNK_STEPS] for i in range(0, len(times), _CHUNK_STEPS)]
        ctx.append_events(events)
        pending_logs = deploy_logs
        for done, chunk in enumerate(chunks, start=1):
            out = _Output(logs=pending_logs)
            pending_logs = []
            for t_us in chunk:
                feed.generator.step(out, t_us, _STEP_S)
            out.flush(ctx)
            progress(done, len(chunks))
        if not chunks:
            ctx.append_logs(pending_logs)
            progress(1, 1)

    def tick(self, ctx: DemoContext, now: datetime) -> None:
        now_us = to_us(now)
        since = ctx.fed_until
        seconds = _STEP_S if since is None else (now_us - to_us(since)) / 1_000_000
        if seconds <= 0:
            return
        seconds = min(seconds, _MAX_TICK_S)
        rng = ctx.rng(self.name)
        feed = ctx.state(_Feed, lambda: self._fresh_feed(ctx, rng, now_us))
        events, logs = live_deploys(ctx.org, feed.timeline, rng, now_us, seconds)
        out = _Output(logs=logs)
        feed.generator.step(out, now_us, seconds)
        out.flush(ctx)
        ctx.append_events(events)

    @staticmethod
    def _fresh_feed(ctx: DemoContext, rng: Random, now_us: int) -> _Feed:
        timeline = Timeline.starting(ctx.org, rng, now_us)
        return _Feed(timeline, _Generator(ctx.org, timeline, rng))
