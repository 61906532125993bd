"""What the alerts domain needs from persistence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from radiator.alerts.models import (
    Alert,
    AlertNote,
    AlertRule,
    AlertState,
    MaintenanceWindow,
    Silence,
)

__all__ = ["AlertStore"]


class AlertStore(Protocol):
    """Rules by name, alerts (with their notes), silences and maintenance windows by id.

    ``add_rule`` raises ``ConflictError`` when the name is taken; ``update_*`` raise
    ``NotFoundError`` when the row is absent. ``values``/``changes`` hold model fields
    (conditions and matchers as plain data). Rules are listed by name; alerts newest first.
    """

    def list_rules(self, *, enabled_only: bool = False) -> list[AlertRule]: ...

    def get_rule(self, name: str) -> AlertRule | None: ...

    def rules_stamp(self) -> tuple[int, int, datetime | None]:
        """How many rules, the highest id and the latest ``updated_at``: it changes when a
        rule is created, deleted or changed (changes set ``updated_at``), so a reader may
        keep its rules until it does."""
        ...

    def add_rule(self, values: dict[str, Any]) -> AlertRule: ...

    def update_rule(self, name: str, changes: dict[str, Any]) -> AlertRule: ...

    def delete_rule(self, name: str) -> None: ...

    def open_alerts(self) -> list[Alert]:
        """Every alert not yet resolved (without notes)."""
        ...

    def list_alerts(
        self,
        *,
        states: Sequence[AlertState] = (),
        rule: str | None = None,
        owner: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """Alerts started at or after ``since``, newest first, with their notes."""
        ...

    def get_alert(self, alert_id: int) -> Alert | None: ...

    def add_alerts(self, values: Sequence[dict[str, Any]]) -> list[Alert]: ...

    def update_alerts(self, changes: Sequence[tuple[int, dict[str, Any]]]) -> list[Alert]:
        """Apply several alerts' changes in one transaction; returns them changed."""
        ...

    def delete_alerts(self, alert_ids: Sequence[int]) -> None: ...

    def add_note(self, alert_id: int, author: str, text: str, at: datetime) -> AlertNote: ...

    def add_silence(self, values: dict[str, Any]) -> Silence: ...

    def get_silence(self, silence_id: int) -> Silence | None: ...

    def list_silences(self, *, active_at: datetime | None = None) -> list[Silence]: ...

    def update_silence(self, silence_id: int, changes: dict[str, Any]) -> Silence: ...

    def add_window(self, values: dict[str, Any]) -> MaintenanceWindow: ...

    def get_window(self, window_id: int) -> MaintenanceWindow | None: ...

    def list_windows(self, *, active_at: datetime | None = None) -> list[MaintenanceWindow]: ...

    def delete_window(self, window_id: int) -> None: ...
