"""What the notify domain needs from persistence."""

from __future__ import annotations

from typing import Any, Protocol

from radiator.notify.models import Attempt, ChannelType, Delivery, DeliveryStatus

__all__ = ["NotifyStore"]


class NotifyStore(Protocol):
    """Channels by name (settings stored whole, secrets included) and the delivery log.

    ``add_channel`` raises ``ConflictError`` on a taken name; ``update_channel`` and
    ``delete_channel`` raise ``NotFoundError`` on an unknown one. Channel dicts have the keys
    name, type, settings, created_at, updated_at. Deliveries are listed newest first.
    """

    def add_channel(
        self, name: str, type: ChannelType, settings: dict[str, Any]
    ) -> dict[str, Any]: ...

    def get_channel(self, name: str) -> dict[str, Any] | None: ...

    def list_channels(self) -> list[dict[str, Any]]: ...

    def update_channel(self, name: str, settings: dict[str, Any]) -> dict[str, Any]: ...

    def delete_channel(self, name: str) -> None: ...

    def add_delivery(
        self,
        *,
        channel: str,
        channel_type: ChannelType,
        title: str,
        recipient: str,
        status: DeliveryStatus,
        attempts: list[Attempt],
        page_id: int | None,
    ) -> Delivery: ...

    def get_delivery(self, delivery_id: int) -> Delivery | None: ...

    def list_deliveries(
        self, *, channel: str | None = None, page_id: int | None = None, limit: int = 100
    ) -> list[Delivery]: ...
