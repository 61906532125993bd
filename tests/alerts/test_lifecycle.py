"""The alert lifecycle on real stores with a moving clock: pending, firing, acknowledged,
resolved; pages through on-call; dedup and grouping; silences, maintenance, inhibition;
broken rules; every transition an event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from radiator.alerts import (
    AlertRuleUpdate,
    AlertService,
    AlertState,
    MaintenanceWindowCreate,
    Matcher,
    SilenceCreate,
)
from radiator.core.caller import Caller
from radiator.core.telemetry import EventFilter
from radiator.core.types import Event, EventKind, TimeRange
from radiator.errors import ConflictError
from radiator.oncall import PageStatus
from radiator.runtime import Runtime

from .conftest import T0, Clock, append_points, threshold_rule

ANA = Caller("ana")


def _spike(runtime: Runtime, hosts: tuple[str, ...] = ("a",), high: int = 10) -> None:
    """cpu per host: 1 for 30 minutes before T0, then 10 for ``high`` minutes, then 1."""
    for host in hosts:
        values = [1.0] * 30 + [10.0] * high + [1.0] * 30
        append_points(runtime, "cpu", values, T0 - timedelta(minutes=30), tags={"host": host})


def _run(alerts: AlertService, clock: Clock, minutes: int) -> None:
    for _ in range(minutes):
        alerts.evaluate(clock.advance(minutes=1))


def _transitions(events: list[Event]) -> list[str]:
    return [e.attributes["transition"] for e in events if e.kind is EventKind.ALERT]


def test_alert_goes_pending_then_firing_after_for_then_resolves(
    runtime: Runtime, alerts: AlertService, clock: Clock, events: list[Event]
) -> None:
    _spike(runtime)
    alerts.create_rule(threshold_rule(for_seconds="2m"))
    alerts.evaluate(clock.advance(minutes=1))
    (alert,) = alerts.list_alerts()
    assert alert.state is AlertState.PENDING
    _run(alerts, clock, 1)
    assert alerts.get_alert(alert.id).state is AlertState.PENDING
    _run(alerts, clock, 1)
    firing = alerts.get_alert(alert.id)
    assert firing.state is AlertState.FIRING
    assert firing.fired_at == T0 + timedelta(minutes=3)
    assert firing.labels == {
        "host": "a",
        "alertname": "cpu-high",
        "severity": "warning",
        "service": "checkout",
    }
    _run(alerts, clock, 10)
    resolved = alerts.get_alert(alert.id)
    assert resolved.state is AlertState.RESOLVED
    assert resolved.resolved_by == ""  # cleared on its own
    assert _transitions(events) == ["pending", "firing", "resolved"]


def test_pending_alert_that_clears_before_its_for_duration_never_fires(
    runtime: Runtime, alerts: AlertService, clock: Clock, events: list[Event]
) -> None:
    _spike(runtime, high=2)
    alerts.create_rule(threshold_rule(for_seconds="5m"))
    _run(alerts, clock, 6)
    assert alerts.list_alerts() == []
    assert _transitions(events) == ["pending", "cleared"]


def test_one_alert_per_label_set_is_kept_across_cycles(
    runtime: Runtime, alerts: AlertService, clock: Clock
) -> None:
    _spike(runtime, hosts=("a", "b"))
    alerts.create_rule(threshold_rule())
    _run(alerts, clock, 5)
    open_alerts = alerts.list_alerts(states=[AlertState.FIRING])
    assert sorted(a.labels["host"] for a in open_alerts) == ["a", "b"]
    assert len({a.fingerprint for a in open_alerts}) == 2


def test_page_severity_pages_on_call_once_per_group_and_ack_reaches_the_page(
    runtime: Runtime, alerts: AlertService, clock: Clock, policy: str
) -> None:
    _spike(runtime, hosts=("a", "b", "c"))
    alerts.create_rule(threshold_rule(severity="page"))
    _run(alerts, clock, 1)
    firing = alerts.list_alerts(states=[AlertState.FIRING])
    assert len(firing) == 3
    page_ids = {a.page_id for a in firing}
    assert len(page_ids) == 1 and None not in page_ids  # grouped by rule: one page
    (page,) = runtime.oncall.list_pages()
    assert page.service == "checkout" and page.target_user == "ana"
    alerts.acknowledge(firing[0].id, ANA)
    assert runtime.oncall.get_page(page.id).status is PageStatus.ACKNOWLEDGED
    _run(alerts, clock, 12)
    assert runtime.oncall.get_page(page.id).status is PageStatus.RESOLVED


def test_group_by_label_sends_one_page_per_group(
    runtime: Runtime, alerts: AlertService, clock: Clock, policy: str
) -> None:
    _spike(runtime, hosts=("a", "b"))
    alerts.create_rule(threshold_rule(severity="page", group_by=["host"]))
    _run(alerts, clock, 1)
    assert len(runtime.oncall.list_pages()) == 2


def test_acknowledge_then_resolve_by_hand_with_notes(
    runtime: Runtime, alerts: AlertService, clock: Clock, events: list[Event]
) -> None:
    _spike(runtime)
    alerts.create_rule(threshold_rule())
    _run(alerts, clock, 1)
    (alert,) = alerts.list_alerts()
    acked = alerts.acknowledge(alert.id, ANA)
    assert acked.state is AlertState.ACKNOWLEDGED and acked.acknowledged_by == "ana"
    alerts.add_note(alert.id, "looking at the GC logs", ANA)
    _run(alerts, clock, 1)
    assert alerts.get_alert(alert.id).state is AlertState.ACKNOWLEDGED
    done = alerts.resolve(alert.id, ANA)
    assert done.state is AlertState.RESOLVED and done.resolved_by == "ana"
    assert [n.text for n in done.notes] == ["looking at the GC logs"]
    with pytest.raises(ConflictError):
        alerts.acknowledge(alert.id, ANA)
    assert _transitions(events) == ["firing", "acknowledged", "note", "resolved"]


def test_silence_holds_back_the_page_until_it_ends(
    runtime: Runtime, alerts: AlertService, clock: Clock, policy: str
) -> None:
    _spike(runtime, high=20)
    alerts.create_rule(threshold_rule(severity="page"))
    silence = alerts.create_silence(
        SilenceCreate(
            matchers=[Matcher(label="host", op="=~", value="a|b")],
            ends_at=T0 + timedelta(minutes=5),
        ),
        ANA,
    )
    _run(alerts, clock, 2)
    (alert,) = alerts.list_alerts()
    assert alert.suppressed_by == f"silence:{silence.id}"
    assert alert.page_id is None and runtime.oncall.list_pages() == []
    _run(alerts, clock, 4)  # the silence ended at T0+5m
    alert = alerts.get_alert(alert.id)
    assert alert.suppressed_by == "" and alert.page_id is not None


def test_maintenance_window_of_the_owner_holds_back_pages(
    runtime: Runtime, alerts: AlertService, clock: Clock, policy: str
) -> None:
    _spike(runtime)
    alerts.create_rule(threshold_rule(severity="page"))
    window = alerts.create_window(
        MaintenanceWindowCreate(service="checkout", ends_at=T0 + timedelta(hours=1)), ANA
    )
    _run(alerts, clock, 2)
    (alert,) = alerts.list_alerts()
    assert alert.suppressed_by == f"maintenance:{window.id}"
    assert runtime.oncall.list_pages() == []


def test_firing_parent_inhibits_its_children(
    runtime: Runtime, alerts: AlertService, clock: Clock, policy: str
) -> None:
    _spike(runtime)
    append_points(runtime, "up", [0.0] * 70, T0 - timedelta(minutes=30), tags={"host": "a"})
    alerts.create_rule(
        threshold_rule(
            "host-down",
            query="up",
            condition={"kind": "threshold", "op": "<", "value": 1},
            severity="page",
            inhibits=[{"label": "alertname", "op": "=", "value": "cpu-high"}],
            inhibit_equal=["host"],
        )
    )
    alerts.create_rule(threshold_rule(severity="page"))
    _run(alerts, clock, 1)
    parent = alerts.list_alerts(rule="host-down")[0]
    child = alerts.list_alerts(rule="cpu-high")[0]
    assert parent.suppressed_by == "" and parent.page_id is not None
    assert child.suppressed_by == f"inhibited:{parent.id}" and child.page_id is None


def test_rule_whose_query_fails_is_broken_pages_owner_once_and_recovers(
    runtime: Runtime, alerts: AlertService, clock: Clock, events: list[Event], policy: str
) -> None:
    append_points(runtime, "cpu", [1.0] * 60, T0 - timedelta(minutes=30), tags={"host": "a"})
    # Valid when created; fails at evaluation: more series than the limit of one selector.
    for host in range(3):
        append_points(runtime, "wide", [1.0], T0, tags={"host": str(host)})
    narrow = AlertService(
        alerts.store,
        runner=_LimitedRunner(runtime),
        catalog=runtime.catalog,
        audit=runtime.audit,
        pager=alerts._pager,
        events=events.extend,
        clock=clock,
    )
    narrow.create_rule(threshold_rule("wide-rule", query="wide"))
    _run(narrow, clock, 3)
    rule = narrow.get_rule("wide-rule")
    assert rule.broken and "series" in rule.broken_error
    pages = runtime.oncall.list_pages()
    assert len(pages) == 1 and "wide-rule" in pages[0].summary
    narrow.update_rule("wide-rule", AlertRuleUpdate(query='wide{host="1"}'))
    _run(narrow, clock, 1)
    assert not narrow.get_rule("wide-rule").broken
    assert _transitions(events).count("broken") == 1
    assert _transitions(events).count("recovered") == 1


class _LimitedRunner:
    """The runtime's query service with a limit of 2 series per selector."""

    def __init__(self, runtime: Runtime) -> None:
        from radiator.query.engine import Limits
        from radiator.query.service import QueryService

        self._service = QueryService(runtime.telemetry, Limits(max_series=2))

    def run(self, expr, spec, query_id="A"):  # type: ignore[no-untyped-def]
        return self._service.run(expr, spec, query_id)


def test_disabling_a_rule_resolves_its_alerts(
    runtime: Runtime, alerts: AlertService, clock: Clock
) -> None:
    _spike(runtime, high=30)
    alerts.create_rule(threshold_rule())
    _run(alerts, clock, 1)
    alerts.set_enabled("cpu-high", False)
    _run(alerts, clock, 1)
    (alert,) = alerts.list_alerts()
    assert alert.state is AlertState.RESOLVED and alert.resolved_by == "rule disabled"


def test_transitions_land_on_the_timeline(runtime: Runtime, checkout: str) -> None:
    _spike(runtime)
    runtime.alerts.create_rule(threshold_rule())
    runtime.alerts.evaluate(T0 + timedelta(minutes=1))
    found = runtime.telemetry.query_events(
        EventFilter(
            range=TimeRange(T0, T0 + timedelta(hours=1)), kinds=(EventKind.ALERT,), limit=10
        )
    )
    assert [e.attributes["transition"] for e in found] == ["firing"]
    assert found[0].service == "checkout"
