"""Build a demo Radiator and keep it fed: what ``radiator demo`` runs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from radiator.core.clock import system_clock
from radiator.demo.base import DemoContext, DemoDomain
from radiator.demo.organisation import DemoOrg, demo_org
from radiator.demo.registry import DEMO_DOMAINS
from radiator.errors import InvalidInputError
from radiator.jobs import Scheduler
from radiator.runtime import Runtime

__all__ = [
    "FEED_JOB",
    "MAX_HISTORY",
    "DemoState",
    "build_demo",
    "schedule_demo",
    "seed_demo",
    "tick_demo",
]

FEED_JOB = "demo-feed"
MAX_HISTORY = timedelta(days=7)

_log = logging.getLogger(__name__)

OnProgress = Callable[[str, int, int], None]


@dataclass(slots=True)
class DemoState:
    """A built demo: its organisation, the admin's login (shown once) and the live context."""

    org: DemoOrg
    admin_username: str
    admin_password: str = field(repr=False)
    ctx: DemoContext


def seed_demo(
    ctx: DemoContext,
    start: datetime,
    end: datetime,
    on_progress: OnProgress | None = None,
    domains: Sequence[DemoDomain] | None = None,
) -> None:
    """Seed ``[start, end)`` for every domain in turn, then mark the data fed up to ``end``.

    Raises:
        ConflictError: the demo organisation already exists in ``ctx.runtime``.
    """
    for domain in DEMO_DOMAINS if domains is None else domains:

        def progress(done: int, total: int, name: str = domain.name) -> None:
            if on_progress is not None:
                on_progress(name, done, total)

        domain.seed(ctx, start, end, progress)
    ctx.fed_until = end


def tick_demo(ctx: DemoContext, now: datetime, domains: Sequence[DemoDomain] | None = None) -> None:
    """Feed every domain the data for ``(ctx.fed_until, now]``.

    A failing domain does not starve the others: they all tick, then the first error is
    raised so the scheduler counts the failure.
    """
    if ctx.fed_until is not None and now <= ctx.fed_until:
        return
    first_error: Exception | None = None
    for domain in DEMO_DOMAINS if domains is None else domains:
        try:
            domain.tick(ctx, now)
        except Exception as exc:  # one broken domain must not stop the live feed
            _log.exception("demo domain %s failed to tick", domain.name)
            first_error = first_error or exc
    ctx.fed_until = now
    if first_error is not None:
        raise first_error


def build_demo(
    runtime: Runtime,
    *,
    history: timedelta = timedelta(hours=6),
    seed: int = 7,
    on_progress: OnProgress | None = None,
) -> DemoState:
    """Create the demo organisation in ``runtime`` and seed ``history`` of past telemetry.

    Args:
        history: how far back the seeded data reaches, up to ``MAX_HISTORY``.
        seed: the same seed always gives the same numbers for the same time range.
        on_progress: called as ``on_progress(domain_name, done, total)`` while seeding.

    Returns:
        The demo; its admin password is random and appears nowhere else.

    Raises:
        InvalidInputError: ``history`` is not positive or exceeds ``MAX_HISTORY``.
        ConflictError: the demo was already built in this runtime's stores.
    """
    if not timedelta(0) < history <= MAX_HISTORY:
        raise InvalidInputError(
            f"history must be positive and at most {MAX_HISTORY.days} days", field="history"
        )
    org = demo_org()
    ctx = DemoContext.create(runtime, org, seed)
    end = system_clock()
    seed_demo(ctx, end - history, end, on_progress)
    return DemoState(
        org=org,
        admin_username=org.admin_username,
        admin_password=ctx.passwords[org.admin_username],
        ctx=ctx,
    )


def schedule_demo(
    scheduler: Scheduler, runtime: Runtime, state: DemoState, interval: float
) -> None:
    """Register the ``demo-feed`` job: every domain ticks every ``interval`` seconds.

    Data goes to ``runtime``, even when the demo was built with another ``Runtime`` on the
    same stores.

    Raises:
        InvalidInputError: ``interval`` is not positive.
    """
    if interval <= 0:
        raise InvalidInputError("the demo feed interval must be positive", field="interval")
    ctx = state.ctx if state.ctx.runtime is runtime else replace(state.ctx, runtime=runtime)

    def feed() -> None:
        tick_demo(ctx, system_clock())

    scheduler.every(interval, FEED_JOB, feed)
