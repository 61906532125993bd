"""On-call use cases: schedules, escalation policies, who is on call, shift load."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from radiator.audit import AuditLog, Outcome
from radiator.catalog import CatalogService
from radiator.core.caller import SYSTEM, Caller
from radiator.core.clock import Clock, system_clock
from radiator.core.types import Event
from radiator.errors import ConflictError, InvalidInputError, NotFoundError
from radiator.identity import IdentityService
from radiator.notify import NotifyService
from radiator.oncall.models import (
    Contacts,
    ContactsUpdate,
    EscalationPolicy,
    EscalationPolicyCreate,
    EscalationPolicyUpdate,
    OnCall,
    Page,
    PageStatus,
    PageTriggered,
    Schedule,
    ScheduleCreate,
    ScheduleUpdate,
    ServiceOnCall,
    Shift,
    ShiftReport,
)
from radiator.oncall.paging import Pager
from radiator.oncall.shifts import oncall_of, shift_report, shifts_of
from radiator.oncall.store import OncallStore

__all__ = ["EventSink", "OncallService"]

EventSink = Callable[[Sequence[Event]], None]


def _no_events(_events: Sequence[Event]) -> None:
    return None


class OncallService:
    """Schedules and policies (audited), who is on call, and paging (see ``Pager``).

    Args:
        events: receives one ``alert`` event per page transition (the edge writes them to
            the telemetry store).
        ack_url: turns an acknowledgement token into the link sent with a page.
    """

    def __init__(
        self,
        store: OncallStore,
        *,
        identity: IdentityService,
        catalog: CatalogService,
        notify: NotifyService,
        audit: AuditLog,
        events: EventSink = _no_events,
        ack_url: Callable[[str], str] = lambda token: f"/ack/{token}",
        clock: Clock = system_clock,
    ) -> None:
        self._store = store
        self._identity = identity
        self._catalog = catalog
        self._notify = notify
        self._audit = audit
        self._clock = clock
        self.pager = Pager(
            store,
            identity=identity,
            notify=notify,
            events=events,
            ack_url=ack_url,
            oncall=self._step_user,
        )

    # -- schedules -------------------------------------------------------------------------

    def create_schedule(self, data: ScheduleCreate, caller: Caller = SYSTEM) -> Schedule:
        if self._store.get_schedule(data.name) is not None:
            raise ConflictError(f"schedule {data.name!r} already exists", field="name")
        self._check_people(data.participants, data.overrides)
        schedule = self._store.add_schedule(data.model_dump())
        self._record(caller, "schedule.create", f"schedule:{data.name}")
        return schedule

    def get_schedule(self, name: str) -> Schedule:
        found = self._store.get_schedule(name)
        if found is None:
            raise NotFoundError(f"no schedule named {name!r}")
        return found

    def list_schedules(self) -> list[Schedule]:
        return self._store.list_schedules()

    def update_schedule(self, name: str, data: ScheduleUpdate, caller: Caller = SYSTEM) -> Schedule:
        current = self.get_schedule(name)
        changes = {
            key: getattr(data, key)
            for key in data.model_fields_set
            if getattr(data, key) is not None
        }
        self._check_people(
            changes.get("participants", current.participants),
            changes.get("overrides", current.overrides),
        )
        if not changes:
            return current
        schedule = self._store.update_schedule(
            name, {key: data.model_dump()[key] for key in changes}
        )
        self._record(caller, "schedule.update", f"schedule:{name}", fields=sorted(changes))
        return schedule

    def delete_schedule(self, name: str, caller: Caller = SYSTEM) -> None:
        self.get_schedule(name)
        users = [
            p.name
            for p in self._store.list_policies()
            if any(s.target_type == "schedule" and s.target == name for s in p.steps)
        ]
        if users:
            raise ConflictError(
                f"schedule {name!r} is used by escalation policies: {', '.join(users)}"
            )
        self._store.delete_schedule(name)
        self._record(caller, "schedule.delete", f"schedule:{name}")

    def oncall_at(self, name: str, at: datetime | None = None) -> OnCall:
        """Who is on call on schedule ``name`` at ``at`` (default now)."""
        found = oncall_of(self.get_schedule(name), at or self._clock())
        return self._named(found)

    def shifts(self, name: str, start: datetime, end: datetime) -> list[Shift]:
        schedule = self.get_schedule(name)
        try:
            return shifts_of(schedule, start, end)
        except ValueError as exc:
            raise InvalidInputError(str(exc), field="end") from exc

    # -- escalation policies ---------------------------------------------------------------

    def create_policy(
        self, data: EscalationPolicyCreate, caller: Caller = SYSTEM
    ) -> EscalationPolicy:
        if self._store.get_policy(data.name) is not None:
            raise ConflictError(f"escalation policy {data.name!r} already exists", field="name")
        values = data.model_dump()
        self._check_policy(data.name, values)
        policy = self._store.add_policy(values)
        self._record(caller, "escalation_policy.create", f"escalation_policy:{data.name}")
        return policy

    def get_policy(self, name: str) -> EscalationPolicy:
        found = self._store.get_policy(name)
        if found is None:
            raise NotFoundError(f"no escalation policy named {name!r}")
        return found

    def list_policies(self) -> list[EscalationPolicy]:
        return self._store.list_policies()

    def update_policy(
        self, name: str, data: EscalationPolicyUpdate, caller: Caller = SYSTEM
    ) -> EscalationPolicy:
        current = self.get_policy(name)
        dumped = data.model_dump()
        changes = {k: dumped[k] for k in data.model_fields_set if dumped[k] is not None}
        if not changes:
            return current
        self._check_policy(name, {**current.model_dump(), **changes})
        policy = self._store.update_policy(name, changes)
        self._record(
            caller, "escalation_policy.update", f"escalation_policy:{name}", fields=sorted(changes)
        )
        return policy

    def delete_policy(self, name: str, caller: Caller = SYSTEM) -> None:
        self.get_policy(name)
        self._store.delete_policy(name)
        self._record(caller, "escalation_policy.delete", f"escalation_policy:{name}")

    # -- contact channels ------------------------------------------------------------------

    def get_contacts(self, user: str) -> Contacts:
        self._identity.get_user(user)
        return Contacts(user=user, channels=self._store.contacts(user))

    def set_contacts(self, user: str, data: ContactsUpdate, caller: Caller = SYSTEM) -> Contacts:
        """Set the channels that reach ``user`` when a page goes to them."""
        self._identity.get_user(user)
        channels = list(dict.fromkeys(data.channels))
        self._check_channels(channels)
        saved = self._store.set_contacts(user, channels)
        self._record(caller, "oncall_contacts.update", f"user:{user}", channels=saved)
        return Contacts(user=user, channels=saved)

    # -- who is on call --------------------------------------------------------------------

    def oncall_now(
        self, service: str | None = None, at: datetime | None = None
    ) -> list[ServiceOnCall]:
        """Who a page would reach now, for ``service`` or for every service in the catalog."""
        moment = at or self._clock()
        if service is not None:
            try:
                names = [self._catalog.get_service(service).name]
            except NotFoundError as exc:
                raise InvalidInputError(f"no service named {service!r}", field="service") from exc
        else:
            names = [s.name for s in self._catalog.list_services()]
        return [self._service_oncall(name, moment) for name in names]

    def _service_oncall(self, service: str, at: datetime) -> ServiceOnCall:
        policy = self._store.policy_for_service(service)
        if policy is None:
            return ServiceOnCall(service=service, policy=None, oncall=None, user=None)
        step = policy.steps[0]
        if step.target_type == "user":
            return ServiceOnCall(service=service, policy=policy.name, oncall=None, user=step.target)
        found = self.oncall_at(step.target, at)
        return ServiceOnCall(service=service, policy=policy.name, oncall=found, user=found.user)

    def _step_user(self, target_type: str, target: str, at: datetime) -> str | None:
        """The person an escalation step reaches at ``at`` (``None``: a gap, or gone)."""
        if target_type == "user":
            return target
        schedule = self._store.get_schedule(target)
        return None if schedule is None else oncall_of(schedule, at).user

    # -- paging ----------------------------------------------------------------------------

    def page(
        self,
        service: str,
        summary: str,
        details: str = "",
        dedup_key: str = "",
        now: datetime | None = None,
    ) -> PageTriggered:
        """Page the person on call for ``service`` (see ``Pager.page``)."""
        try:
            self._catalog.get_service(service)
        except NotFoundError as exc:
            raise InvalidInputError(f"no service named {service!r}", field="service") from exc
        policy = self._store.policy_for_service(service)
        if policy is None:
            raise InvalidInputError(
                f"service {service!r} has no escalation policy; add it to one's services",
                field="service",
            )
        # Alert rules may send long texts: the page keeps what its columns hold.
        return self.pager.page(
            policy, service, summary[:500], details[:10_000], dedup_key[:200], now or self._clock()
        )

    def advance(self, now: datetime | None = None) -> list[Page]:
        """Escalate every triggered page whose wait has run out; returns the pages moved."""
        return self.pager.advance(now or self._clock(), self._store.get_policy)

    def acknowledge(
        self, page_id: int, caller: Caller = SYSTEM, now: datetime | None = None
    ) -> Page:
        return self.pager.acknowledge(self.get_page(page_id), caller.name, now or self._clock())

    def acknowledge_link(self, token: str, now: datetime | None = None) -> Page:
        page, user = self.page_for_token(token)
        return self.pager.acknowledge(page, user or "ack-link", now or self._clock())

    def page_for_token(self, token: str) -> tuple[Page, str | None]:
        """The page an acknowledgement link belongs to, and whom it was sent to."""
        return self.pager.page_for_token(token)

    def resolve(self, page_id: int, caller: Caller = SYSTEM, now: datetime | None = None) -> Page:
        return self.pager.resolve(self.get_page(page_id), caller.name, now or self._clock())

    def get_page(self, page_id: int) -> Page:
        found = self._store.get_page(page_id)
        if found is None:
            raise NotFoundError(f"no page with id {page_id}")
        return found

    def list_pages(
        self, *, status: PageStatus | None = None, service: str | None = None, limit: int = 100
    ) -> list[Page]:
        return self._store.list_pages(status=status, service=service, limit=limit)

    # -- shift load ------------------------------------------------------------------------

    def report(self, name: str, start: datetime, end: datetime) -> ShiftReport:
        """Shift load of schedule ``name`` against the SRE ceilings: pages of the services
        whose escalation policies go to this schedule count against its shifts."""
        schedule = self.get_schedule(name)
        services = {
            service
            for policy in self._store.list_policies()
            if any(s.target_type == "schedule" and s.target == name for s in policy.steps)
            for service in policy.services
        }
        pages = [
            p.triggered_at
            for p in self._store.list_pages(since=start, limit=100_000)
            if p.service in services and start <= p.triggered_at < end
        ]
        try:
            return shift_report(schedule, start, end, pages)
        except ValueError as exc:
            raise InvalidInputError(str(exc), field="end") from exc

    # -- helpers ---------------------------------------------------------------------------

    def _named(self, found: OnCall) -> OnCall:
        if found.user is None:
            return found
        try:
            name = self._identity.get_user(found.user).display_name
        except NotFoundError:
            name = ""
        return found.model_copy(update={"display_name": name or found.user})

    def _check_user(self, user: str, field: str) -> None:
        try:
            self._identity.get_user(user)
        except NotFoundError as exc:
            raise InvalidInputError(f"no user named {user!r}", field=field) from exc

    def _check_people(self, participants: Sequence[Any], overrides: Sequence[Any]) -> None:
        for index, participant in enumerate(participants):
            self._check_user(participant.user, f"participants.{index}.user")
        for index, override in enumerate(overrides):
            if override.user is not None:
                self._check_user(override.user, f"overrides.{index}.user")

    def _check_policy(self, name: str, values: dict[str, Any]) -> None:
        for index, step in enumerate(values["steps"]):
            field = f"steps.{index}.target"
            if step["target_type"] == "user":
                self._check_user(step["target"], field)
            elif self._store.get_schedule(step["target"]) is None:
                raise InvalidInputError(f"no schedule named {step['target']!r}", field=field)
        for index, service in enumerate(values["services"]):
            try:
                self._catalog.get_service(service)
            except NotFoundError as exc:
                raise InvalidInputError(
                    f"no service named {service!r}", field=f"services.{index}"
                ) from exc
            owner = self._store.policy_for_service(service)
            if owner is not None and owner.name != name:
                raise ConflictError(
                    f"service {service!r} already pages through policy {owner.name!r}",
                    field=f"services.{index}",
                )
        self._check_channels(values["channels"])

    def _check_channels(self, channels: Sequence[str]) -> None:
        for index, channel in enumerate(channels):
            try:
                self._notify.get_channel(channel)
            except NotFoundError as exc:
                raise InvalidInputError(
                    f"no notification channel named {channel!r}", field=f"channels.{index}"
                ) from exc

    def _record(self, caller: Caller, action: str, target: str, **detail: object) -> None:
        self._audit.record(
            action,
            actor=caller.name,
            outcome=Outcome.SUCCESS,
            target=target,
            ip=caller.ip,
            request_id=caller.request_id,
            **detail,
        )
