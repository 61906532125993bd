"""The demo's on-call: a shared dev + ops rotation, a team rotation of developers only
(flagged as not shared), one escalation policy for every service, and past pages.

Pages are opened through ``OncallService.page`` at past times and then acknowledged and
resolved, so the timeline holds their ``alert`` events and the shift report has load.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from radiator.core.caller import SYSTEM, Caller
from radiator.demo.base import DemoContext, Progress
from radiator.oncall import (
    Discipline,
    EscalationPolicyCreate,
    EscalationStep,
    Participant,
    ScheduleCreate,
)

__all__ = ["OncallDemo"]

_DISCIPLINES = {"dev": Discipline.DEVELOPMENT, "ops": Discipline.OPERATIONS}
_PAGES = ("p99 latency above 800 ms", "5xx above 2 %", "queue depth growing", "disk 90 % full")


class OncallDemo:
    """Creates the schedules and policy, and a handful of past pages; nothing live."""

    name = "oncall"

    def seed(self, ctx: DemoContext, start: datetime, end: datetime, progress: Progress) -> None:
        org, oncall = ctx.org, ctx.runtime.oncall
        people = [
            u
            for u in org.users
            if u.discipline in _DISCIPLINES and u.username != org.admin_username
        ]
        monday = (end - timedelta(days=28)).date()
        monday -= timedelta(days=monday.weekday())
        oncall.create_schedule(
            ScheduleCreate(
                name="primary",
                description="The shared rotation: developers and operations engineers in turn.",
                time_zone="Europe/Berlin",
                handoff_time="09:00",
                rotation="weekly",
                start_date=monday,
                participants=[
                    Participant(user=u.username, discipline=_DISCIPLINES[u.discipline])
                    for u in people
                ],
            ),
            SYSTEM,
        )
        payments = [u for u in org.team_people("payments") if u.discipline in _DISCIPLINES]
        oncall.create_schedule(
            ScheduleCreate(
                name="payments-daytime",
                description="Payments' own daytime cover (developers only, so not shared).",
                time_zone="Europe/London",
                handoff_time="08:00",
                rotation="daily",
                start_date=monday,
                participants=[
                    Participant(user=u.username, discipline=_DISCIPLINES[u.discipline])
                    for u in payments
                ],
            ),
            SYSTEM,
        )
        ops = [u for u in org.people("ops") if u.username != org.admin_username]
        steps = [EscalationStep(target_type="schedule", target="primary")]
        if ops:
            steps.append(
                EscalationStep(target_type="user", target=ops[0].username, wait_minutes=10)
            )
        oncall.create_policy(
            EscalationPolicyCreate(
                name="default",
                description="Every service: the primary rotation, then the ops lead.",
                steps=steps,
                repeat=1,
                services=[s.name for s in org.services],
            ),
            SYSTEM,
        )
        self._past_pages(ctx, start, end)
        progress(1, 1)

    def _past_pages(self, ctx: DemoContext, start: datetime, end: datetime) -> None:
        rng = ctx.rng(self.name)
        oncall = ctx.runtime.oncall
        span = (end - start).total_seconds()
        for number, summary in enumerate(_PAGES):
            at = start + timedelta(seconds=span * (number + rng.random()) / (len(_PAGES) + 1))
            service = rng.choice(ctx.org.services).name
            page = oncall.page(service, summary, "Opened by the demo.", now=at).page
            who = Caller(page.target_user or "demo")
            # Within the history even when it is short: nothing may be dated after ``end``.
            left = end - at
            oncall.acknowledge(
                page.id, who, at + min(timedelta(minutes=rng.randint(1, 4)), left / 4)
            )
            oncall.resolve(page.id, who, at + min(timedelta(minutes=rng.randint(10, 40)), left / 2))

    def tick(self, ctx: DemoContext, now: datetime) -> None:
        return None
