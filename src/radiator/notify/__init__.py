"""Notifications: webhook (signed JSON), e-mail over SMTP and Slack-compatible channels,
delivered with retries and backoff, every attempt kept in a delivery log."""

from __future__ import annotations

from radiator.notify.models import (
    Attempt,
    Channel,
    ChannelCreate,
    ChannelType,
    ChannelUpdate,
    Delivery,
    DeliveryStatus,
    EmailSettings,
    Message,
    SlackSettings,
    WebhookSettings,
)
from radiator.notify.render import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from radiator.notify.service import NotifyService, validate_settings
from radiator.notify.store import NotifyStore
from radiator.notify.transport import DeliveryError, HttpTransport, MailTransport, Transports

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Attempt",
    "Channel",
    "ChannelCreate",
    "ChannelType",
    "ChannelUpdate",
    "Delivery",
    "DeliveryError",
    "DeliveryStatus",
    "EmailSettings",
    "HttpTransport",
    "MailTransport",
    "Message",
    "NotifyService",
    "NotifyStore",
    "SlackSettings",
    "Transports",
    "WebhookSettings",
    "sign",
    "validate_settings",
    "verify",
]
