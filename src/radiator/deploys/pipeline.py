"""What the deployment pipeline's events say today: deploys and roll-backs, builds, tests,
and incidents still open — the numbers the home radiator shows in red, amber and green.

Read from events (docs/ingest: kind ``deploy``, ``build``, ``test_run``, ``incident``):
- a deploy whose attributes have ``rollback: true`` (or whose title starts "Roll back") is a
  roll-back;
- a build or test run failed when ``attributes.status`` (or ``result``) is ``failed``,
  ``failure`` or ``error``; a test run's ``passed``/``failed`` attributes are its counts;
- an incident is open until an incident event of the same title says ``status: resolved``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from radiator.core.telemetry import EventRow

__all__ = ["PipelineSummary", "State", "summarise_pipeline"]

State = Literal["green", "amber", "red"]
_FAILED = frozenset({"failed", "failure", "error", "errored"})


def _failed(attributes: dict[str, Any]) -> bool:
    status = str(attributes.get("status", attributes.get("result", ""))).lower()
    return status in _FAILED


def _count(value: object) -> int:
    try:
        return max(int(float(str(value))), 0)
    except ValueError:
        return 0


@dataclass(slots=True)
class PipelineSummary:
    deploys: int = 0
    rollbacks: int = 0
    builds: int = 0
    failed_builds: int = 0
    last_build_failed: dict[str, bool] = field(default_factory=dict)
    tests_passed: int = 0
    tests_failed: int = 0
    open_incidents: list[EventRow] = field(default_factory=list)
    recent_deploys: list[EventRow] = field(default_factory=list)

    @property
    def deploy_state(self) -> State:
        return "amber" if self.rollbacks else "green"

    @property
    def build_state(self) -> State:
        if any(self.last_build_failed.values()):
            return "red"
        return "amber" if self.failed_builds else "green"

    @property
    def test_state(self) -> State:
        return "red" if self.tests_failed else "green"

    @property
    def incident_state(self) -> State:
        return "red" if self.open_incidents else "green"

    @property
    def broken_pipelines(self) -> list[str]:
        return sorted(s for s, failed in self.last_build_failed.items() if failed)


def summarise_pipeline(events: Iterable[EventRow]) -> PipelineSummary:
    """Summarise events (any order) of one period, e.g. today."""
    summary = PipelineSummary()
    incidents: dict[str, EventRow] = {}
    for event in sorted(events, key=lambda e: e.time):
        if event.kind == "deploy":
            summary.deploys += 1
            rollback = bool(event.attributes.get("rollback")) or event.title.startswith("Roll back")
            summary.rollbacks += rollback
            summary.recent_deploys.append(event)
        elif event.kind == "build":
            summary.builds += 1
            failed = _failed(event.attributes)
            summary.failed_builds += failed
            summary.last_build_failed[event.service or "(none)"] = failed
        elif event.kind == "test_run":
            summary.tests_passed += _count(event.attributes.get("passed", 0))
            summary.tests_failed += _count(event.attributes.get("failed", 0))
            if _failed(event.attributes) and not event.attributes.get("failed"):
                summary.tests_failed += 1
        elif event.kind == "incident":
            incidents[event.title] = event
    summary.recent_deploys = summary.recent_deploys[-5:][::-1]
    summary.open_incidents = [
        e for e in incidents.values() if str(e.attributes.get("status", "")).lower() != "resolved"
    ]
    return summary
