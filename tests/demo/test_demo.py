"""``radiator demo``: the organisation, seeded telemetry of all four signals, the live feed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import radiator.demo as demo
from radiator.audit import AuditQuery
from radiator.config import Settings
from radiator.core.caller import Caller
from radiator.core.telemetry import Aggregation, BucketQuery, Series, Signal
from radiator.core.types import MetricKind, TimeRange
from radiator.demo import (
    DEMO_DOMAINS,
    FEED_JOB,
    DemoContext,
    DemoDomain,
    DemoState,
    build_demo,
    demo_org,
    schedule_demo,
    seed_demo,
    tick_demo,
)
from radiator.demo.base import PointBatch, PointSeries, to_us
from radiator.demo.telemetry import LATENCY_METRIC, REQUESTS_METRIC
from radiator.errors import ConflictError, InvalidInputError
from radiator.identity import Role
from radiator.jobs import Scheduler
from radiator.runtime import Runtime
from radiator.web.ui.pages import HTTP_REQUESTS_METRIC

HISTORY = timedelta(hours=1)
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def built(runtime: Runtime) -> DemoState:
    return build_demo(runtime, history=HISTORY)


@pytest.fixture
def other_runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(
        Settings(
            data_dir=tmp_path / "other", telemetry_path=":memory:", session_cookie_secure=False
        )
    )
    yield rt
    rt.close()


def requests_by_service(runtime: Runtime, window: TimeRange) -> dict[str, float]:
    query = BucketQuery(
        name=HTTP_REQUESTS_METRIC,
        range=window,
        step=window.duration,
        aggregation=Aggregation.SUM,
        group_by=("service",),
    )
    return {s.tags["service"]: sum(s.values) for s in runtime.telemetry.query_buckets(query)}


def every_series(runtime: Runtime, window: TimeRange) -> dict[str, list[Series]]:
    return {
        name: runtime.telemetry.query_buckets(
            BucketQuery(name=name, range=window, step=timedelta(minutes=1))
        )
        for name in runtime.telemetry.metric_names()
    }


def test_public_names_are_pinned() -> None:
    assert sorted(demo.__all__) == [
        "DEMO_DOMAINS",
        "DemoContext",
        "DemoDomain",
        "DemoOrg",
        "DemoState",
        "FEED_JOB",
        "MAX_HISTORY",
        "build_demo",
        "demo_org",
        "schedule_demo",
        "seed_demo",
        "tick_demo",
    ]


def test_registry_lists_organisation_first() -> None:
    assert DEMO_DOMAINS[0].name == "organisation"
    assert [d.name for d in DEMO_DOMAINS][:2] == ["organisation", "telemetry"]
    assert all(isinstance(d, DemoDomain) for d in DEMO_DOMAINS)
    assert len({d.name for d in DEMO_DOMAINS}) == len(DEMO_DOMAINS)


def test_demo_org_refers_only_to_things_it_defines() -> None:
    org = demo_org()
    usernames = {u.username for u in org.users}
    teams = {t.name for t in org.teams}
    assert org.user(org.admin_username).role is Role.ADMIN
    assert {m for t in org.teams for m in t.members} <= usernames
    assert {s.team for s in org.services} <= teams
    for service in org.services:
        assert 2 <= len(service.traffic.routes) <= 3
        assert sum(r.weight for r in service.traffic.routes) == pytest.approx(1.0)
        for route in service.traffic.routes:
            for callee, template in route.calls:
                org.service(callee).route(template)  # raises when the target is missing
    org.service(org.incident_service)


def test_build_demo_creates_the_organisation_and_an_admin_who_can_log_in(
    runtime: Runtime, built: DemoState
) -> None:
    services = runtime.catalog.list_services()
    teams = runtime.catalog.list_teams()
    assert len(services) >= 4
    assert len(teams) >= 2
    assert all(s.team and s.links and s.description for s in services)
    assert all(t.members for t in teams)
    assert built.admin_username == "demo"
    assert runtime.identity.get_user("demo").role is Role.ADMIN
    assert {"alice", "omar"} <= {u.username for u in runtime.identity.list_users()}
    caller = Caller("demo", ip="127.0.0.1")
    session = runtime.identity.login(built.admin_username, built.admin_password, caller)
    assert session.principal.role is Role.ADMIN
    assert built.admin_password not in repr(built)


def test_build_demo_changes_are_audited_as_system(runtime: Runtime, built: DemoState) -> None:
    records = runtime.audit.search(AuditQuery(actor="system", limit=1000))
    audited = {(r.action, r.actor, r.target) for r in records}
    assert ("service.create", "system", "service:checkout") in audited
    assert ("user.create", "system", "user:demo") in audited


def test_demo_passwords_are_random(runtime: Runtime, other_runtime: Runtime) -> None:
    first = build_demo(runtime, history=timedelta(minutes=5))
    second = build_demo(other_runtime, history=timedelta(minutes=5))
    assert first.admin_password != second.admin_password
    assert len(first.admin_password) >= 16


def test_building_the_demo_twice_fails_clearly(runtime: Runtime, built: DemoState) -> None:
    with pytest.raises(ConflictError, match="already exists"):
        build_demo(runtime, history=HISTORY)


@pytest.mark.parametrize("history", [timedelta(0), timedelta(days=8)])
def test_history_out_of_range_is_refused(runtime: Runtime, history: timedelta) -> None:
    with pytest.raises(InvalidInputError):
        build_demo(runtime, history=history)


def test_telemetry_of_all_four_signals_covers_the_history(
    runtime: Runtime, built: DemoState
) -> None:
    end = built.ctx.fed_until
    assert end is not None
    first_part = TimeRange(end - HISTORY, end - HISTORY + timedelta(minutes=10))
    last_part = TimeRange(end - timedelta(minutes=10), end)
    for signal in (Signal.POINTS, Signal.LOGS, Signal.SPANS):
        assert runtime.telemetry.count(signal, first_part) > 0, signal
        assert runtime.telemetry.count(signal, last_part) > 0, signal
    assert runtime.telemetry.count(Signal.EVENTS, TimeRange(end - HISTORY, end)) >= 6
    assert runtime.telemetry.count(Signal.POINTS, TimeRange(end, end + HISTORY)) == 0
    names = set(runtime.telemetry.metric_names())
    assert {
        "http.server.requests",
        "http.server.latency_ms",
        "process.cpu.percent",
        "process.memory.mb",
        "checkout.completed",
        "signup.completed",
        "search.queries",
    } <= names


def test_requests_of_the_last_five_minutes_are_positive_for_every_service(
    runtime: Runtime, built: DemoState
) -> None:
    traffic = requests_by_service(runtime, TimeRange.last(timedelta(minutes=5)))
    assert set(traffic) == {s.name for s in built.org.services}
    assert all(total > 0 for total in traffic.values())


def test_progress_is_reported_per_domain_and_finishes(runtime: Runtime) -> None:
    seen: list[tuple[str, int, int]] = []
    build_demo(runtime, history=timedelta(minutes=45), on_progress=lambda *a: seen.append(a))
    for domain in DEMO_DOMAINS:
        reports = [(done, total) for name, done, total in seen if name == domain.name]
        assert reports, domain.name
        assert reports[-1][0] == reports[-1][1]
        assert [done for done, _ in reports] == sorted(done for done, _ in reports)


def test_a_tick_appends_points_at_now(runtime: Runtime, built: DemoState) -> None:
    ctx = built.ctx
    assert ctx.fed_until is not None
    now = ctx.fed_until + timedelta(seconds=5)
    tick_demo(ctx, now)
    at_now = TimeRange(now, now + timedelta(microseconds=1))
    assert runtime.telemetry.count(Signal.POINTS, at_now) > 0
    assert ctx.fed_until == now
    traffic = requests_by_service(runtime, at_now)
    assert set(traffic) == {s.name for s in built.org.services}
    assert sum(traffic.values()) > 0


def test_a_tick_never_writes_into_the_future(runtime: Runtime, built: DemoState) -> None:
    ctx = built.ctx
    assert ctx.fed_until is not None
    now = ctx.fed_until + timedelta(seconds=30)
    tick_demo(ctx, now)
    later = TimeRange(now + timedelta(microseconds=1), now + timedelta(hours=1))
    assert all(runtime.telemetry.count(signal, later) == 0 for signal in Signal)
    before = runtime.telemetry.count(Signal.POINTS)
    tick_demo(ctx, now)  # nothing new has happened since
    assert runtime.telemetry.count(Signal.POINTS) == before


def test_same_seed_gives_the_same_numbers(runtime: Runtime, other_runtime: Runtime) -> None:
    window = TimeRange(T0, T0 + HISTORY)
    for rt in (runtime, other_runtime):
        ctx = DemoContext.create(rt, demo_org(), seed=11)
        seed_demo(ctx, window.start, window.end)
        tick_demo(ctx, window.end + timedelta(seconds=5))
    wide = TimeRange(T0, T0 + 2 * HISTORY)
    assert every_series(runtime, wide) == every_series(other_runtime, wide)
    for signal in Signal:
        assert runtime.telemetry.count(signal) == other_runtime.telemetry.count(signal)


def test_another_seed_gives_other_numbers(runtime: Runtime, other_runtime: Runtime) -> None:
    window = TimeRange(T0, T0 + timedelta(minutes=20))
    for rt, seed in ((runtime, 1), (other_runtime, 2)):
        seed_demo(DemoContext.create(rt, demo_org(), seed), window.start, window.end)
    assert requests_by_service(runtime, window) != requests_by_service(other_runtime, window)


def test_the_story_shows_a_bad_deploy_a_spike_an_incident_and_a_rollback(
    runtime: Runtime,
) -> None:
    window = TimeRange(T0, T0 + timedelta(hours=6))
    ctx = DemoContext.create(runtime, demo_org(), seed=7)
    seed_demo(ctx, window.start, window.end, domains=[DEMO_DOMAINS[1]])
    story = ctx.org.incident_service
    p99 = runtime.telemetry.query_buckets(
        BucketQuery(
            name=LATENCY_METRIC,
            range=window,
            step=timedelta(minutes=10),
            aggregation=Aggregation.MAX,
            tags={"service": story, "quantile": "p99"},
        )
    )[0].values
    normal = sorted(p99)[len(p99) // 2]
    assert max(p99) > 3 * normal
    assert p99[-1] < 1.5 * normal  # recovered by the end
    errors = requests_by_service_status(runtime, window, story)
    assert errors["5xx"] > 0
    # 4 events of the story plus at least 2 routine deploys per service.
    assert runtime.telemetry.count(Signal.EVENTS, window) >= 4 + 2 * len(ctx.org.services)


def requests_by_service_status(
    runtime: Runtime, window: TimeRange, service: str
) -> dict[str, float]:
    query = BucketQuery(
        name=REQUESTS_METRIC,
        range=window,
        step=window.duration,
        aggregation=Aggregation.SUM,
        tags={"service": service},
        group_by=("status",),
    )
    return {s.tags["status"]: sum(s.values) for s in runtime.telemetry.query_buckets(query)}


def test_schedule_demo_registers_the_demo_feed_job(runtime: Runtime, built: DemoState) -> None:
    scheduler = Scheduler()
    schedule_demo(scheduler, runtime, built, interval=5.0)
    jobs = {job.name: job for job in scheduler.jobs}
    assert FEED_JOB == "demo-feed"
    assert set(jobs) == {"demo-feed"}
    assert jobs["demo-feed"].interval == 5.0
    before = runtime.telemetry.count(Signal.POINTS)
    scheduler.run_once(jobs["demo-feed"])
    assert jobs["demo-feed"].stats.failures == 0, jobs["demo-feed"].stats.last_error
    assert runtime.telemetry.count(Signal.POINTS) > before


def test_the_feed_writes_to_the_runtime_it_is_scheduled_with(
    built: DemoState, other_runtime: Runtime
) -> None:
    scheduler = Scheduler()
    schedule_demo(scheduler, other_runtime, built, interval=5.0)
    scheduler.run_once(scheduler.jobs[0])
    assert scheduler.jobs[0].stats.failures == 0, scheduler.jobs[0].stats.last_error
    assert other_runtime.telemetry.count(Signal.POINTS) > 0


def test_schedule_demo_refuses_a_non_positive_interval(runtime: Runtime, built: DemoState) -> None:
    with pytest.raises(InvalidInputError):
        schedule_demo(Scheduler(), runtime, built, interval=0)


class _Broken:
    name = "broken"

    def seed(self, ctx: DemoContext, start: datetime, end: datetime, progress: object) -> None:
        raise AssertionError("not used")

    def tick(self, ctx: DemoContext, now: datetime) -> None:
        raise RuntimeError("boom")


def test_a_failing_domain_does_not_stop_the_others_from_ticking(
    runtime: Runtime, built: DemoState, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = built.ctx
    assert ctx.fed_until is not None
    now = ctx.fed_until + timedelta(seconds=5)
    with pytest.raises(RuntimeError, match="boom"):
        tick_demo(ctx, now, domains=[_Broken(), DEMO_DOMAINS[1]])
    assert runtime.telemetry.count(Signal.POINTS, TimeRange(now, now + HISTORY)) > 0
    assert ctx.fed_until == now
    assert "broken" in caplog.text


def test_point_batch_matches_the_points_schema(runtime: Runtime) -> None:
    batch = PointBatch()
    series = PointSeries.of("demo.test", {"b": "2", "a": "1"}, MetricKind.GAUGE)
    batch.add(series, to_us(T0), 1.5)
    table = batch.to_table()
    assert table.column("tags").to_pylist() == [[("a", "1"), ("b", "2")]]
    assert runtime.telemetry.append(Signal.POINTS, table) == 1
