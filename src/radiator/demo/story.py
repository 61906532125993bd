"""The demo's timeline: routine deploys of every service, and the story of one bad deploy.

The story, on ``DemoOrg.incident_service`` (payments-api) about 40 % of the history ago: a
deploy, latency and errors climbing on it and its callers, an incident opened by on-call, a
config change that does not help, a rollback, recovery. The telemetry generator reads the
``Timeline`` to shape its numbers (the spike, memory growing between deploys).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from random import Random

from radiator.core.types import Event, EventKind, LogLevel, LogRecord
from radiator.demo.base import from_us
from radiator.demo.organisation import DemoOrg, DemoService

__all__ = ["LIVE_DEPLOY_EVERY_S", "Spike", "Timeline", "live_deploys", "plan_history"]

LIVE_DEPLOY_EVERY_S = 3 * 3600.0
"""While the demo runs, each service deploys about once in this many seconds."""

_US = 1_000_000
_HOUR_US = 3600 * _US
_MAX_SPIKE_US = 30 * 60 * _US
_ENVIRONMENT = "production"


@dataclass(frozen=True, slots=True)
class Spike:
    """The bad deploy's effect: 0 outside ``[start_us, end_us)``, up to 1 on ``service``.

    Intensity ramps up after the deploy, holds until just after the rollback and fades
    out; the callers of ``service`` feel 60 % of it.
    """

    service: str
    callers: frozenset[str]
    start_us: int
    rollback_us: int
    end_us: int

    def intensity(self, service: str, t_us: int) -> float:
        if service == self.service:
            scale = 1.0
        elif service in self.callers:
            scale = 0.6
        else:
            return 0.0
        if not self.start_us <= t_us < self.end_us:
            return 0.0
        length = self.end_us - self.start_us
        rise_from, full_at = self.start_us + length * 0.05, self.start_us + length * 0.15
        fall_from = self.rollback_us + length * 0.03
        if t_us < rise_from:
            level = 0.0
        elif t_us < full_at:
            level = (t_us - rise_from) / (full_at - rise_from)
        elif t_us < fall_from:
            level = 1.0
        else:
            level = max(0.0, (self.end_us - t_us) / (self.end_us - fall_from))
        return scale * level


@dataclass(slots=True)
class Timeline:
    """What the generator needs to know about deploys, kept between seed and ticks."""

    deploys: dict[str, list[int]]
    """Deploy times per service, sorted, starting with one before the history."""
    versions: dict[str, str]
    """The version each service runs after its latest deploy."""
    spike: Spike | None = None
    wander: dict[str, float] = field(default_factory=dict)
    """Slow drift of each service's load around its profile, carried from step to step."""

    @classmethod
    def starting(cls, org: DemoOrg, rng: Random, start_us: int) -> Timeline:
        """A timeline where every service was last deployed 1 to 20 hours before ``start_us``."""
        return cls(
            deploys={s.name: [start_us - int(rng.uniform(1, 20) * _HOUR_US)] for s in org.services},
            versions={s.name: s.version for s in org.services},
            wander={s.name: 0.0 for s in org.services},
        )

    def last_deploy(self, service: str, t_us: int) -> int:
        times = self.deploys[service]
        index = bisect.bisect_right(times, t_us)
        return times[index - 1] if index else times[0]

    def intensity(self, service: str, t_us: int) -> float:
        return self.spike.intensity(service, t_us) if self.spike else 0.0


def _bump(version: str, *, minor: bool) -> str:
    major, mid, patch = (int(part) for part in version.split("."))
    return f"{major}.{mid + 1}.0" if minor else f"{major}.{mid}.{patch + 1}"


def _deployer(org: DemoOrg, service: DemoService, rng: Random) -> str:
    people = org.team_people(service.team, "dev") or org.people("dev")
    return rng.choice(people).username if people else "ci"


def _on_call(org: DemoOrg) -> str:
    ops = [u for u in org.people("ops") if u.username != org.admin_username]
    return ops[0].username if ops else org.admin_username


class _Recorder:
    """Collects deploy events and the start-up logs each deploy causes, advancing versions."""

    def __init__(self, org: DemoOrg, timeline: Timeline, rng: Random) -> None:
        self.org, self.timeline, self.rng = org, timeline, rng
        self.events: list[Event] = []
        self.logs: list[LogRecord] = []

    def _pipeline(
        self, service: DemoService, at_us: int, version: str, commit: str, actor: str
    ) -> None:
        """The build and test run that came before a deploy, as CI would report them."""
        link = f"https://ci.example.com/acme/{service.name}/{commit}"
        passed = 180 + self.rng.randrange(60)
        for kind, minutes, title, attributes in (
            (EventKind.BUILD, 9, f"Build {service.name} {version}",
             {"status": "passed", "commit": commit, "duration_s": 140 + self.rng.randrange(60)}),
            (EventKind.TEST_RUN, 6, f"Tests {service.name} {version}",
             {"status": "passed", "passed": passed, "failed": 0, "commit": commit}),
        ):  # fmt: skip
            self.events.append(
                Event(
                    kind=kind,
                    title=title,
                    time=from_us(at_us - minutes * 60_000_000),
                    service=service.name,
                    environment="ci",
                    actor=actor,
                    attributes=attributes,
                    links=[link],
                )
            )

    def deploy(
        self, service: DemoService, at_us: int, version: str, actor: str, **extra: object
    ) -> None:
        previous = self.timeline.versions[service.name]
        commit = f"{self.rng.getrandbits(28):07x}"
        rollback = bool(extra.get("rollback"))
        title = (
            f"Roll back {service.name} to {version}"
            if rollback
            else f"Deploy {service.name} {version}"
        )
        if not rollback:
            self._pipeline(service, at_us, version, commit, actor)
        self.events.append(
            Event(
                kind=EventKind.DEPLOY,
                title=title,
                time=from_us(at_us),
                service=service.name,
                environment=_ENVIRONMENT,
                actor=actor,
                attributes={
                    "version": version,
                    "commit": commit,
                    "previous_version": previous,
                    **extra,
                },
                links=[f"https://git.example.com/acme/{service.name}/commit/{commit}"],
            )
        )
        for host in service.hosts:
            self.logs.append(
                LogRecord(
                    time=from_us(at_us),
                    service=service.name,
                    level=LogLevel.INFO,
                    message=f"starting {service.name} {version} (commit {commit})",
                    attributes={"host": host, "version": version},
                )
            )
        self.timeline.versions[service.name] = version
        bisect.insort(self.timeline.deploys[service.name], at_us)


def plan_history(
    org: DemoOrg, rng: Random, start_us: int, end_us: int
) -> tuple[Timeline, list[Event], list[LogRecord]]:
    """Plan the deploys and the story in ``[start_us, end_us)``.

    Returns:
        The timeline at ``end_us``, the events to append and the deploys' start-up logs.
    """
    timeline = Timeline.starting(org, rng, start_us)
    recorder = _Recorder(org, timeline, rng)
    history = end_us - start_us
    story = org.service(org.incident_service)
    length = min(_MAX_SPIKE_US, int(history * 0.12))
    bad_us = start_us + int(history * 0.6)
    # Keep the story readable: no routine deploy of the culprit or its callers near it.
    quiet = (bad_us - int(history * 0.1), bad_us + length + int(history * 0.05))
    near_story = {story.name, *org.callers(story.name)}
    for service in org.services:
        times = sorted(
            int(rng.uniform(start_us + history * 0.03, end_us - history * 0.03))
            for _ in range(rng.randint(2, 4))
        )
        if service.name in near_story:
            times = [t for t in times if not quiet[0] <= t < quiet[1]]
        if service is story:
            times = sorted([*times, bad_us])
        for at_us in times:
            if at_us == bad_us and service is story:
                _tell_story(org, recorder, story, bad_us, length)
            else:
                minor = rng.random() < 0.3
                version = _bump(timeline.versions[service.name], minor=minor)
                recorder.deploy(service, at_us, version, _deployer(org, service, rng))
    recorder.events.sort(key=lambda e: e.time)
    return timeline, recorder.events, recorder.logs


def _tell_story(
    org: DemoOrg, recorder: _Recorder, story: DemoService, bad_us: int, length: int
) -> None:
    timeline = recorder.timeline
    good = timeline.versions[story.name]
    bad = _bump(good, minor=True)
    developer = _deployer(org, story, recorder.rng)
    recorder.deploy(
        story, bad_us, bad, developer, change="Share one HTTP client for acquirer calls"
    )
    callers = org.callers(story.name)
    rollback_us = bad_us + int(length * 0.75)
    timeline.spike = Spike(story.name, frozenset(callers), bad_us, rollback_us, bad_us + length)
    on_call = _on_call(org)
    recorder.events.append(
        Event(
            kind=EventKind.INCIDENT,
            title=f"{story.display_name} slow and failing",
            time=from_us(bad_us + int(length * 0.2)),
            service=story.name,
            environment=_ENVIRONMENT,
            actor=on_call,
            attributes={
                "severity": "SEV2",
                "status": "investigating",
                "commander": on_call,
                "affected_services": [story.name, *callers],
            },
            links=[f"https://runbooks.example.com/{story.name}"],
        )
    )
    target = callers[0] if callers else story.name
    key = f"{story.name.replace('-', '_')}.client.timeout_ms"
    recorder.events.append(
        Event(
            kind=EventKind.CONFIG_CHANGE,
            title=f"Raise {story.name} client timeout from 2000 to 5000 ms",
            time=from_us(bad_us + int(length * 0.45)),
            service=target,
            environment=_ENVIRONMENT,
            actor=on_call,
            attributes={"key": key, "old": "2000", "new": "5000"},
        )
    )
    recorder.deploy(
        story,
        rollback_us,
        good,
        developer,
        rollback=True,
        rolled_back_version=bad,
        reason="latency and 5xx on charges since the deploy",
    )


def live_deploys(
    org: DemoOrg, timeline: Timeline, rng: Random, now_us: int, seconds: float
) -> tuple[list[Event], list[LogRecord]]:
    """Deploys that happen while the demo runs, over the ``seconds`` before ``now_us``."""
    recorder = _Recorder(org, timeline, rng)
    for service in org.services:
        if rng.random() < seconds / LIVE_DEPLOY_EVERY_S:
            version = _bump(timeline.versions[service.name], minor=rng.random() < 0.3)
            recorder.deploy(service, now_us, version, _deployer(org, service, rng))
    return recorder.events, recorder.logs
