"""Today's pipeline from events: deploys and roll-backs, builds, tests, open incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from radiator.core.telemetry import EventRow
from radiator.deploys.pipeline import summarise_pipeline

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)


def event(
    kind: str, minute: int, service: str = "shop", title: str = "", **attributes: Any
) -> EventRow:
    return EventRow(
        T0 + timedelta(minutes=minute), kind, service, "prod", title or kind, "ci", attributes, ()
    )


def test_counts_and_states() -> None:
    summary = summarise_pipeline([
        event("deploy", 1, title="Deploy shop 1.2"),
        event("deploy", 5, title="Roll back shop to 1.1", rollback=True),
        event("build", 0, status="passed"),
        event("build", 2, service="cart", status="failed"),
        event("test_run", 3, passed=120, failed=2),
        event("test_run", 4, status="error"),
        event("incident", 6, title="Checkout slow", status="investigating"),
        event("incident", 7, title="Search down", status="investigating"),
        event("incident", 9, title="Search down", status="resolved"),
    ])  # fmt: skip
    assert (summary.deploys, summary.rollbacks) == (2, 1)
    assert summary.deploy_state == "amber"
    assert (summary.builds, summary.failed_builds) == (2, 1)
    assert summary.broken_pipelines == ["cart"] and summary.build_state == "red"
    assert (summary.tests_passed, summary.tests_failed) == (120, 3)
    assert [e.title for e in summary.open_incidents] == ["Checkout slow"]
    assert summary.recent_deploys[0].title == "Roll back shop to 1.1"


def test_a_later_green_build_mends_the_pipeline() -> None:
    summary = summarise_pipeline(
        [
            event("build", 2, status="failed"),
            event("build", 1, status="passed"),
            event("build", 3, status="passed"),
        ]
    )
    assert summary.build_state == "amber" and not summary.broken_pipelines
    assert summarise_pipeline([]).incident_state == "green"
