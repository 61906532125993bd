"""On-call rules that protect the configuration: policies must point at real things, a
service pages through one policy, schedules in use stay, and the escalation job runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from radiator.errors import ConflictError, InvalidInputError
from radiator.jobs import Scheduler, schedule_builtin_jobs
from radiator.oncall import (
    EscalationPolicyCreate,
    EscalationPolicyUpdate,
    EscalationStep,
    PageStatus,
    Participant,
    ScheduleCreate,
)
from radiator.runtime import Runtime


@pytest.fixture
def schedule(runtime: Runtime, people: dict[str, str], checkout: str) -> str:
    runtime.oncall.create_schedule(
        ScheduleCreate(
            name="primary",
            start_date=date(2026, 1, 1),
            participants=[Participant(user="ana", discipline="development")],
        )
    )
    return "primary"


def _policy(name: str = "p", **changes: object) -> EscalationPolicyCreate:
    values: dict[str, object] = {
        "name": name,
        "steps": [EscalationStep(target_type="schedule", target="primary")],
        "services": ["checkout"],
    }
    values.update(changes)
    return EscalationPolicyCreate.model_validate(values)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"steps": [EscalationStep(target_type="schedule", target="nope")]}, "steps.0.target"),
        ({"steps": [EscalationStep(target_type="user", target="nobody")]}, "steps.0.target"),
        ({"services": ["checkout", "unknown"]}, "services.1"),
        ({"channels": ["missing"]}, "channels.0"),
    ],
)
def test_policy_pointing_at_nothing_is_refused_naming_the_field(
    runtime: Runtime, schedule: str, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        runtime.oncall.create_policy(_policy(**changes))
    assert caught.value.field == field


def test_a_service_pages_through_one_policy_only(runtime: Runtime, schedule: str) -> None:
    runtime.oncall.create_policy(_policy("first"))
    with pytest.raises(ConflictError) as caught:
        runtime.oncall.create_policy(_policy("second"))
    assert caught.value.details["field"] == "services.0"
    assert "first" in caught.value.message

    runtime.oncall.update_policy("first", EscalationPolicyUpdate(services=[]))
    runtime.oncall.create_policy(_policy("second"))
    assert runtime.oncall.oncall_now("checkout")[0].policy == "second"


def test_a_schedule_in_use_cannot_be_deleted(runtime: Runtime, schedule: str) -> None:
    runtime.oncall.create_policy(_policy())
    with pytest.raises(ConflictError, match="used by escalation policies: p"):
        runtime.oncall.delete_schedule("primary")
    runtime.oncall.delete_policy("p")
    runtime.oncall.delete_schedule("primary")
    assert runtime.oncall.list_schedules() == []


def test_the_escalation_job_escalates_due_pages(runtime: Runtime, schedule: str) -> None:
    steps = [
        EscalationStep(target_type="schedule", target="primary", wait_minutes=1),
        EscalationStep(target_type="user", target="dee"),
    ]
    runtime.oncall.create_policy(_policy(steps=steps))
    started = datetime.now(UTC) - timedelta(minutes=2)
    page = runtime.oncall.page("checkout", "old and unanswered", now=started).page
    scheduler = Scheduler()
    schedule_builtin_jobs(scheduler, runtime)
    [job] = [j for j in scheduler.jobs if j.name == "oncall-escalate"]

    job.work()

    moved = runtime.oncall.get_page(page.id)
    assert (moved.status, moved.step, moved.target_user) == (PageStatus.TRIGGERED, 1, "dee")
