"""Paging: trigger, notify, escalate, acknowledge and resolve, one event per transition.

A page walks its policy's steps: each step notifies the person it reaches (a schedule's
on-call person, or a named user) and waits ``wait_minutes`` for an acknowledgement before
the next. After the last step the steps run again ``repeat`` more times. A step that
reaches nobody (a gap in its schedule) is passed over at once.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from radiator.core.types import Event, EventKind
from radiator.errors import ConflictError, NotFoundError
from radiator.identity import IdentityService
from radiator.notify import Message, NotifyService
from radiator.oncall.models import EscalationPolicy, Page, PageStatus, PageTriggered
from radiator.oncall.store import OncallStore

__all__ = ["Pager", "token_hash"]

StepUser = Callable[[str, str, datetime], str | None]
Sink = Callable[[Sequence[Event]], None]


def token_hash(token: str) -> str:
    """Acknowledgement links are stored as SHA-256 hashes: the raw token is only sent."""
    return hashlib.sha256(token.encode()).hexdigest()


class Pager:
    def __init__(
        self,
        store: OncallStore,
        *,
        identity: IdentityService,
        notify: NotifyService,
        events: Sink,
        ack_url: Callable[[str], str],
        oncall: StepUser,
    ) -> None:
        self._store = store
        self._identity = identity
        self._notify = notify
        self._events = events
        self._ack_url = ack_url
        self._oncall = oncall

    def page(
        self,
        policy: EscalationPolicy,
        service: str,
        summary: str,
        details: str,
        dedup_key: str,
        now: datetime,
    ) -> PageTriggered:
        """Open a page (or return the open one with the same ``dedup_key``) and notify."""
        if dedup_key:
            existing = self._store.open_page(service, dedup_key)
            if existing is not None:
                return PageTriggered(page=existing, created=False)
        step, round_, user, escalate_at = self._reach(policy, 0, 0, now)
        page = self._store.add_page(
            {
                "service": service,
                "summary": summary,
                "details": details,
                "dedup_key": dedup_key,
                "policy": policy.name,
                "status": PageStatus.TRIGGERED,
                "step": step,
                "round": round_,
                "target_user": user,
                "triggered_at": now,
                "escalate_at": escalate_at,
            }
        )
        self._emit(page, "triggered", "system", now)
        self._send(page, policy)
        return PageTriggered(page=page, created=True)

    def advance(
        self, now: datetime, policy_of: Callable[[str], EscalationPolicy | None]
    ) -> list[Page]:
        moved = []
        for page in self._store.due_pages(now):
            policy = policy_of(page.policy)
            position = self._next(policy, page.step, page.round) if policy else None
            if policy is None or position is None:
                # Nowhere left to escalate: stays triggered, waiting for someone to notice.
                self._store.update_page(page.id, {"escalate_at": None})
                continue
            step, round_, user, escalate_at = self._reach(policy, *position, now)
            page = self._store.update_page(
                page.id,
                {"step": step, "round": round_, "target_user": user, "escalate_at": escalate_at},
            )
            self._emit(page, "escalated", "system", now)
            self._send(page, policy)
            moved.append(page)
        return moved

    def acknowledge(self, page: Page, actor: str, now: datetime) -> Page:
        if page.status is PageStatus.RESOLVED:
            raise ConflictError(f"page {page.id} is already resolved")
        if page.status is PageStatus.ACKNOWLEDGED:
            return page
        page = self._store.update_page(
            page.id,
            {
                "status": PageStatus.ACKNOWLEDGED,
                "acknowledged_at": now,
                "acknowledged_by": actor,
                "escalate_at": None,
            },
        )
        self._emit(page, "acknowledged", actor, now)
        return page

    def resolve(self, page: Page, actor: str, now: datetime) -> Page:
        if page.status is PageStatus.RESOLVED:
            return page
        page = self._store.update_page(
            page.id,
            {
                "status": PageStatus.RESOLVED,
                "resolved_at": now,
                "resolved_by": actor,
                "escalate_at": None,
            },
        )
        self._emit(page, "resolved", actor, now)
        return page

    def page_for_token(self, token: str) -> tuple[Page, str | None]:
        found = self._store.ack_token(token_hash(token)) if token else None
        page = self._store.get_page(found[0]) if found else None
        if found is None or page is None:
            raise NotFoundError("this acknowledgement link is unknown")
        return page, found[1]

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _next(policy: EscalationPolicy, step: int, round_: int) -> tuple[int, int] | None:
        if step + 1 < len(policy.steps):
            return step + 1, round_
        if round_ < policy.repeat:
            return 0, round_ + 1
        return None

    def _reach(
        self, policy: EscalationPolicy, step: int, round_: int, now: datetime
    ) -> tuple[int, int, str | None, datetime | None]:
        """From position (step, round) on, the first step that reaches someone."""
        position: tuple[int, int] | None = (step, round_)
        while position is not None:
            target = policy.steps[position[0]]
            user = self._oncall(target.target_type, target.target, now)
            if user is not None:
                more = self._next(policy, *position) is not None
                wait = timedelta(minutes=target.wait_minutes)
                return position[0], position[1], user, (now + wait) if more else None
            position = self._next(policy, *position)
        return step, round_, None, None

    def _send(self, page: Page, policy: EscalationPolicy) -> None:
        if page.target_user is None:
            return
        token = secrets.token_urlsafe(32)
        self._store.add_ack_token(token_hash(token), page.id, page.target_user)
        try:
            email = self._identity.get_user(page.target_user).email
        except NotFoundError:
            email = ""
        message = Message(
            title=f"[{page.service}] {page.summary}",
            text=page.details,
            link=self._ack_url(token),
            severity="page",
            service=page.service,
            recipient=page.target_user,
            recipient_email=email,
            attributes={"page_id": page.id, "step": page.step, "round": page.round},
        )
        # The policy's channels, then the paged person's own contact channels.
        channels = dict.fromkeys([*policy.channels, *self._store.contacts(page.target_user)])
        for channel in channels:
            try:
                self._notify.deliver(channel, message, page_id=page.id)
            except NotFoundError:
                continue  # a channel deleted since; the policy's other channels still go

    def _emit(self, page: Page, transition: str, actor: str, now: datetime) -> None:
        event = Event(
            kind=EventKind.ALERT,
            title=f"page {transition}: {page.summary}",
            time=now,
            service=page.service,
            actor=actor,
            attributes={
                "source": "oncall",
                "page_id": page.id,
                "transition": transition,
                "status": str(page.status),
                "step": page.step,
                "round": page.round,
                "target_user": page.target_user or "",
                "dedup_key": page.dedup_key,
                "policy": page.policy,
            },
        )
        self._events([event])
