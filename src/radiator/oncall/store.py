"""What the on-call domain needs from persistence."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from radiator.oncall.models import EscalationPolicy, Page, PageStatus, Schedule

__all__ = ["OncallStore"]


class OncallStore(Protocol):
    """Schedules and escalation policies by name, pages by id, acknowledgement tokens.

    ``add_*`` raise ``ConflictError`` when the name is taken; ``update_*`` and ``delete_*``
    raise ``NotFoundError`` when it is absent. Lists are ordered by name, pages newest first.
    ``changes`` hold model fields already validated (participants and overrides as models).
    """

    def add_schedule(self, values: dict[str, object]) -> Schedule: ...

    def get_schedule(self, name: str) -> Schedule | None: ...

    def list_schedules(self) -> list[Schedule]: ...

    def update_schedule(self, name: str, changes: dict[str, object]) -> Schedule: ...

    def delete_schedule(self, name: str) -> None: ...

    def add_policy(self, values: dict[str, object]) -> EscalationPolicy: ...

    def get_policy(self, name: str) -> EscalationPolicy | None: ...

    def list_policies(self) -> list[EscalationPolicy]: ...

    def update_policy(self, name: str, changes: dict[str, object]) -> EscalationPolicy: ...

    def delete_policy(self, name: str) -> None: ...

    def policy_for_service(self, service: str) -> EscalationPolicy | None: ...

    def add_page(self, values: dict[str, object]) -> Page: ...

    def get_page(self, page_id: int) -> Page | None: ...

    def update_page(self, page_id: int, changes: dict[str, object]) -> Page: ...

    def open_page(self, service: str, dedup_key: str) -> Page | None:
        """The triggered or acknowledged page of ``service`` with ``dedup_key``, if any."""
        ...

    def list_pages(
        self,
        *,
        status: PageStatus | None = None,
        service: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Page]: ...

    def due_pages(self, now: datetime) -> list[Page]:
        """Triggered pages whose ``escalate_at`` is at or before ``now``, oldest first."""
        ...

    def add_ack_token(self, token_hash: str, page_id: int, user: str | None) -> None: ...

    def ack_token(self, token_hash: str) -> tuple[int, str | None] | None:
        """The page id and the person a token was sent to, or ``None``."""
        ...

    def contacts(self, user: str) -> list[str]:
        """The notification channels ``user`` is reached through, in order."""
        ...

    def set_contacts(self, user: str, channels: list[str]) -> list[str]: ...
