"""Paging end to end on the runtime: the person on call is notified through a real webhook,
escalation moves on after the wait, the link acknowledges, every transition is an event."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from notify.servers import Mailbox, Receiver
from radiator.core.caller import Caller
from radiator.core.telemetry import EventFilter
from radiator.core.types import TimeRange
from radiator.errors import ConflictError, InvalidInputError, NotFoundError
from radiator.notify import ChannelCreate, verify
from radiator.oncall import (
    ContactsUpdate,
    EscalationPolicyCreate,
    EscalationStep,
    PageStatus,
    Participant,
    ScheduleCreate,
)
from radiator.runtime import Runtime

from .conftest import HOOK_SECRET

NOON = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def policy(runtime: Runtime, people: dict[str, str], checkout: str, hook: str) -> str:
    runtime.oncall.create_schedule(
        ScheduleCreate(
            name="primary",
            time_zone="UTC",
            rotation="daily",
            start_date=date(2026, 1, 1),
            participants=[
                Participant(user="ana", discipline="development"),
                Participant(user="ben", discipline="operations"),
            ],
        )
    )
    runtime.oncall.create_policy(
        EscalationPolicyCreate(
            name="payments",
            steps=[
                EscalationStep(target_type="schedule", target="primary"),
                EscalationStep(target_type="user", target="dee", wait_minutes=10),
            ],
            services=[checkout],
            channels=[hook],
        )
    )
    return "payments"


def _token(request_body: bytes) -> str:
    link: str = json.loads(request_body)["link"]
    assert "/ack/" in link
    return link.rsplit("/", 1)[1]


def _events(runtime: Runtime) -> list[tuple[str, str]]:
    rows = runtime.telemetry.query_events(
        EventFilter(
            range=TimeRange(NOON - timedelta(days=1), NOON + timedelta(days=1)), kinds=("alert",)
        )
    )
    return sorted((r.attributes["transition"], r.actor) for r in rows)


def test_page_reaches_the_person_on_call_and_escalates_after_the_wait(
    runtime: Runtime, policy: str, receiver: Receiver
) -> None:
    triggered = runtime.oncall.page("checkout", "checkout 5xx", "40 % errors", "rule-1", NOON)

    page = triggered.page
    assert triggered.created
    assert (page.status, page.target_user, page.step) == (PageStatus.TRIGGERED, "ana", 0)
    assert page.escalate_at == NOON + timedelta(minutes=5)
    [first] = receiver.requests
    body = json.loads(first.body)
    assert body["recipient"] == "ana"
    assert body["title"] == "[checkout] checkout 5xx"
    assert verify(
        HOOK_SECRET,
        first.headers["X-Radiator-Timestamp"],
        first.body,
        first.headers["X-Radiator-Signature"],
    )

    assert runtime.oncall.advance(NOON + timedelta(minutes=4)) == []
    [moved] = runtime.oncall.advance(NOON + timedelta(minutes=5))

    assert (moved.target_user, moved.step, moved.escalate_at) == ("dee", 1, None)
    assert json.loads(receiver.requests[1].body)["recipient"] == "dee"
    assert runtime.oncall.advance(NOON + timedelta(hours=1)) == []

    acked = runtime.oncall.acknowledge_link(
        _token(receiver.requests[1].body), NOON + timedelta(minutes=7)
    )
    assert (acked.status, acked.acknowledged_by) == (PageStatus.ACKNOWLEDGED, "dee")
    resolved = runtime.oncall.resolve(page.id, Caller("ben"), NOON + timedelta(minutes=30))
    assert (resolved.status, resolved.resolved_by) == (PageStatus.RESOLVED, "ben")
    assert _events(runtime) == [
        ("acknowledged", "dee"),
        ("escalated", "system"),
        ("resolved", "ben"),
        ("triggered", "system"),
    ]
    deliveries = runtime.notify.list_deliveries(page_id=page.id)
    assert [d.recipient for d in deliveries] == ["dee", "ana"]


def test_acknowledged_page_does_not_escalate(
    runtime: Runtime, policy: str, receiver: Receiver
) -> None:
    page = runtime.oncall.page("checkout", "slow", now=NOON).page
    runtime.oncall.acknowledge(page.id, Caller("ana"), NOON + timedelta(minutes=1))

    assert runtime.oncall.advance(NOON + timedelta(minutes=30)) == []
    assert len(receiver.requests) == 1


def test_same_dedup_key_returns_the_open_page_without_notifying_again(
    runtime: Runtime, policy: str, receiver: Receiver
) -> None:
    first = runtime.oncall.page("checkout", "slow", dedup_key="k", now=NOON)
    again = runtime.oncall.page("checkout", "slow", dedup_key="k", now=NOON + timedelta(minutes=1))

    assert not again.created
    assert again.page.id == first.page.id
    assert len(receiver.requests) == 1


def test_next_day_pages_the_next_person_in_the_rotation(runtime: Runtime, policy: str) -> None:
    page = runtime.oncall.page("checkout", "slow", now=NOON + timedelta(days=1)).page
    assert page.target_user == "ben"


def test_a_gap_in_the_schedule_passes_straight_to_the_next_step(
    runtime: Runtime, policy: str
) -> None:
    before_start = datetime(2025, 12, 31, 12, tzinfo=UTC)
    page = runtime.oncall.page("checkout", "slow", now=before_start).page
    assert (page.target_user, page.step, page.escalate_at) == ("dee", 1, None)


def test_unknown_and_resolved_acknowledgements_are_refused(
    runtime: Runtime, policy: str, receiver: Receiver
) -> None:
    page = runtime.oncall.page("checkout", "slow", now=NOON).page
    with pytest.raises(NotFoundError):
        runtime.oncall.acknowledge_link("not-a-token")
    runtime.oncall.resolve(page.id, Caller("ana"), NOON)
    with pytest.raises(ConflictError):
        runtime.oncall.acknowledge_link(_token(receiver.requests[0].body))


def test_a_service_without_a_policy_cannot_be_paged(
    runtime: Runtime, people: dict[str, str], checkout: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        runtime.oncall.page("checkout", "slow")
    assert caught.value.field == "service"
    assert "no escalation policy" in caught.value.message


def test_who_is_on_call_now_per_service_shows_the_discipline(runtime: Runtime, policy: str) -> None:
    [entry] = runtime.oncall.oncall_now("checkout", NOON + timedelta(days=1))
    assert entry.user == "ben"
    assert entry.oncall is not None
    assert entry.oncall.discipline == "operations"
    assert entry.oncall.shared
    assert entry.oncall.display_name == "Ben"


def test_a_page_also_goes_through_the_persons_own_contact_channels(
    runtime: Runtime, policy: str, receiver: Receiver, smtp_server: Mailbox
) -> None:
    settings = {"host": smtp_server.host, "port": smtp_server.port, "sender": "r@example.com"}
    runtime.notify.create_channel(ChannelCreate(name="mail", type="email", settings=settings))
    runtime.oncall.set_contacts("ben", ContactsUpdate(channels=["mail", "ops-hook"]))
    assert runtime.oncall.get_contacts("ben").channels == ["mail", "ops-hook"]

    runtime.oncall.page("checkout", "slow", now=NOON + timedelta(days=1))

    # ben's mail channel has no "to": the mail goes to his own address.
    [(_, recipients, content)] = smtp_server.messages
    assert recipients == ["ben@example.com"]
    assert b"/ack/" in content
    assert len(receiver.requests) == 1  # the policy's webhook, not sent twice


def test_contacts_name_existing_channels(runtime: Runtime, people: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        runtime.oncall.set_contacts("ana", ContactsUpdate(channels=["missing"]))
    assert caught.value.field == "channels.0"
    with pytest.raises(NotFoundError):
        runtime.oncall.get_contacts("nobody")
