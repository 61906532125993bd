"""Alerting fixtures: a service owned by a team, a clock tests move, metrics appended to the
real telemetry store, and an alert service over the runtime's real stores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from radiator.alerts import AlertRuleCreate, AlertService, OncallPager
from radiator.catalog import ServiceCreate, TeamCreate
from radiator.core.schema import points_batch
from radiator.core.telemetry import Signal
from radiator.core.types import Event, MetricKind, Point
from radiator.identity import Role, UserCreate
from radiator.oncall import EscalationPolicyCreate, EscalationStep
from radiator.query.engine import Limits
from radiator.query.service import QueryService
from radiator.runtime import Runtime
from radiator.storage.state import SqlAlertStore

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def append_points(
    runtime: Runtime,
    name: str,
    values: Sequence[float],
    start: datetime,
    step: timedelta = timedelta(minutes=1),
    tags: dict[str, str] | None = None,
) -> None:
    """Append one gauge point per ``step`` from ``start`` (NaN values are skipped)."""
    points = [
        Point(name, float(v), start + i * step, dict(tags or {}), MetricKind.GAUGE)
        for i, v in enumerate(values)
        if v == v
    ]
    runtime.telemetry.append(Signal.POINTS, points_batch(points))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def checkout(runtime: Runtime) -> str:
    runtime.catalog.create_team(TeamCreate(name="payments"))
    runtime.catalog.create_service(ServiceCreate(name="checkout", team="payments"))
    return "checkout"


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def alerts(runtime: Runtime, clock: Clock, events: list[Event], checkout: str) -> AlertService:
    """An alert service over the runtime's stores, with the test clock and an event list."""
    return AlertService(
        SqlAlertStore(runtime.db),
        runner=runtime.query,
        backtest_runner=QueryService(runtime.telemetry, Limits(max_steps=200_000)),
        catalog=runtime.catalog,
        audit=runtime.audit,
        pager=OncallPager(runtime.oncall),
        events=events.extend,
        step_seconds=30,
        clock=clock,
    )


@pytest.fixture
def policy(runtime: Runtime, checkout: str) -> str:
    """Pages for checkout go to user ana (no channels: the page is recorded, not sent)."""
    runtime.identity.create_user(
        UserCreate(username="ana", password="a long enough password", role=Role.EDITOR)
    )
    runtime.oncall.create_policy(
        EscalationPolicyCreate(
            name="payments",
            steps=[EscalationStep(target_type="user", target="ana")],
            services=[checkout],
        )
    )
    return "payments"


def threshold_rule(name: str = "cpu-high", **overrides: Any) -> AlertRuleCreate:
    values: dict[str, Any] = {
        "name": name,
        "owner": "checkout",
        "query": "cpu",
        "condition": {"kind": "threshold", "op": ">", "value": 5},
    }
    values.update(overrides)
    return AlertRuleCreate.model_validate(values)
