"""How alerts reach people: the pager protocol, the on-call adapter, and timeline events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from radiator.alerts.models import Alert
from radiator.core.caller import Caller
from radiator.core.types import Event, EventKind
from radiator.oncall import OncallService

__all__ = ["AlertPager", "EventSink", "OncallPager", "alert_event", "no_events"]

EventSink = Callable[[Sequence[Event]], None]


def no_events(_events: Sequence[Event]) -> None:
    return None


class AlertPager(Protocol):
    """Pages the person on call for a service.

    ``page`` returns the page id (an open page with the same ``dedup_key`` is reused) and
    raises ``RadiatorError`` when the service cannot be paged (e.g. no escalation policy).
    """

    def page(
        self, service: str, summary: str, details: str, dedup_key: str, now: datetime
    ) -> int: ...

    def acknowledge(self, page_id: int, actor: str, now: datetime) -> None: ...

    def resolve(self, page_id: int, actor: str, now: datetime) -> None: ...


class OncallPager:
    """``AlertPager`` through ``radiator.oncall``: escalation policies, schedules, channels."""

    def __init__(self, oncall: OncallService) -> None:
        self._oncall = oncall

    def page(self, service: str, summary: str, details: str, dedup_key: str, now: datetime) -> int:
        return self._oncall.page(service, summary, details, dedup_key, now).page.id

    def acknowledge(self, page_id: int, actor: str, now: datetime) -> None:
        if self._oncall.get_page(page_id).status == "triggered":
            self._oncall.acknowledge(page_id, Caller(actor), now)

    def resolve(self, page_id: int, actor: str, now: datetime) -> None:
        if self._oncall.get_page(page_id).status != "resolved":
            self._oncall.resolve(page_id, Caller(actor), now)


def alert_event(alert: Alert, transition: str, now: datetime, actor: str = "system") -> Event:
    """One ``alert`` event on the timeline for a transition of ``alert``."""
    return Event(
        kind=EventKind.ALERT,
        title=f"{alert.rule} {transition}: {alert.summary}"[:500],
        time=now,
        service=alert.owner,
        actor=actor,
        attributes={
            "source": "alerts",
            "rule": alert.rule,
            "alert_id": alert.id,
            "fingerprint": alert.fingerprint,
            "transition": transition,
            "state": str(alert.state),
            "severity": str(alert.severity),
            "labels": dict(alert.labels),
            "suppressed_by": alert.suppressed_by,
        },
    )
