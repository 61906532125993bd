"""`radiator oncall ...` and `radiator channel ...`: who is on call, schedules, channels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from radiator.cli.common import console, fail, open_runtime, settings_or_exit
from radiator.core.caller import Caller
from radiator.notify import DeliveryStatus
from radiator.oncall import ServiceOnCall

__all__ = ["app", "channel_app"]

app = typer.Typer(help="Who is on call, and the on-call schedules.", no_args_is_help=True)
channel_app = typer.Typer(
    help="Notification channels: list them, send a test message.", no_args_is_help=True
)
_CLI = Caller("cli")


def _who(entry: ServiceOnCall) -> str:
    if entry.policy is None:
        return "[red]no escalation policy[/]"
    if entry.oncall is not None:
        found = entry.oncall
        if found.user is None:
            return f"[red]gap[/] on schedule {escape(found.schedule)}"
        return f"{escape(found.display_name or found.user)} ({found.discipline})"
    return escape(entry.user or "")


@app.command("now")
def now(
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only this catalog service.")
    ] = None,
) -> None:
    """Show who a page for each service would reach right now."""
    with open_runtime(settings_or_exit()) as runtime:
        entries = runtime.oncall.oncall_now(service)
    table = Table("service", "policy", "on call", "until (UTC)")
    for entry in entries:
        until = entry.oncall.shift_end.strftime("%Y-%m-%d %H:%M") if entry.oncall else ""
        table.add_row(escape(entry.service), escape(entry.policy or ""), _who(entry), until)
    if not entries:
        console.print("no services in the catalog yet")
        return
    console.print(table)


@app.command("schedules")
def schedules() -> None:
    """List schedules with who is on call on each now, disciplines and gaps."""
    with open_runtime(settings_or_exit()) as runtime:
        rows = [(s, runtime.oncall.oncall_at(s.name)) for s in runtime.oncall.list_schedules()]
    if not rows:
        console.print("no schedules yet: create one with POST /api/v1/schedules")
        return
    table = Table("schedule", "rotation", "participants", "on call now", "shared")
    for schedule, current in rows:
        people = ", ".join(f"{p.user} ({p.discipline})" for p in schedule.participants)
        who = (
            f"{escape(current.user)} ({current.discipline})"
            if current.user
            else "[red]gap: nobody[/]"
        )
        rotation = f"{schedule.rotation} at {schedule.handoff_time} {schedule.time_zone}"
        shared = "yes" if schedule.shared else "[yellow]no: one discipline[/]"
        table.add_row(escape(schedule.name), rotation, escape(people), who, shared)
    console.print(table)
    for schedule, _ in rows:
        if not schedule.shared:
            only = ", ".join(schedule.disciplines) or "nobody"
            console.print(
                f"[yellow]{escape(schedule.name)}: not shared, only {only} takes part[/]",
                soft_wrap=True,
            )


@app.command("report")
def report(
    schedule: Annotated[str, typer.Argument(help="Schedule name.")],
    days: Annotated[int, typer.Option(min=1, max=400, help="Days back from now.")] = 28,
) -> None:
    """Shift load against the SRE ceilings: pages per 12-hour shift, share of time on call."""
    end = datetime.now(UTC)
    with open_runtime(settings_or_exit()) as runtime:
        load = runtime.oncall.report(schedule, end - timedelta(days=days), end)
    table = Table("person", "discipline", "hours on call", "share")
    for person in load.people:
        share = f"{person.share:.1%}" + (" [red]over 25 %[/]" if person.over else "")
        table.add_row(escape(person.user), str(person.discipline or ""), f"{person.hours:g}", share)
    console.print(table)
    busy = [s for s in load.shifts if s.over]
    for shift in busy:
        console.print(
            f"[red]{shift.start:%Y-%m-%d %H:%M} {escape(shift.user or 'gap')}: "
            f"{shift.pages} pages in 12 hours (ceiling {load.max_pages_per_shift})[/]",
            soft_wrap=True,
        )
    if not busy:
        console.print(f"no 12-hour shift had more than {load.max_pages_per_shift} pages")


@channel_app.command("list")
def list_channels() -> None:
    """List notification channels (secrets hidden)."""
    with open_runtime(settings_or_exit()) as runtime:
        channels = runtime.notify.list_channels()
    if not channels:
        console.print("no channels yet: create one with POST /api/v1/channels")
        return
    table = Table("name", "type", "target")
    for channel in channels:
        settings = channel.settings
        target = settings.get("url") or f"{settings.get('host')}:{settings.get('port')}"
        table.add_row(escape(channel.name), str(channel.type), escape(str(target)))
    console.print(table)


@channel_app.command("test")
def test_channel(name: Annotated[str, typer.Argument(help="Channel name.")]) -> None:
    """Send a test message through a channel and say whether it arrived, and if not, why."""
    with open_runtime(settings_or_exit()) as runtime:
        delivery = runtime.notify.test(name, _CLI)
    for number, attempt in enumerate(delivery.attempts, 1):
        outcome = "ok" if attempt.ok else escape(attempt.error)
        code = f" ({attempt.status_code})" if attempt.status_code else ""
        console.print(f"attempt {number}: {outcome}{code}")
    if delivery.status is not DeliveryStatus.DELIVERED:
        fail(
            f"channel {name!r}: {delivery.attempts[-1].error}",
            "check the channel's settings with `radiator channel list`",
        )
    console.print(f"[green]delivered[/] through {escape(name)}")
