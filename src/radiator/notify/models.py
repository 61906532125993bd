"""Notification channels, messages and the delivery log."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "Attempt",
    "Channel",
    "ChannelCreate",
    "ChannelType",
    "ChannelUpdate",
    "Delivery",
    "DeliveryStatus",
    "EmailSettings",
    "Message",
    "SlackSettings",
    "WebhookSettings",
]

_SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_SLUG_RE = re.compile(_SLUG_PATTERN)
_EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,253}$")


def _check_http_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.split("/", 1)[0]:
        raise ValueError("must be an http:// or https:// URL with a host")
    if any(c.isspace() for c in value):
        raise ValueError("must not contain spaces")
    return value


def _check_email(value: str) -> str:
    if not _EMAIL_RE.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


class ChannelType(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    SLACK = "slack"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookSettings(_Strict):
    """JSON POSTed to ``url``, signed with HMAC-SHA256 of ``secret``."""

    url: str = Field(max_length=2000)
    secret: str = Field(min_length=16, max_length=200)
    timeout_seconds: float = Field(10.0, gt=0, le=60)

    _url = field_validator("url")(_check_http_url)


class SlackSettings(_Strict):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, ...)."""

    url: str = Field(max_length=2000)
    timeout_seconds: float = Field(10.0, gt=0, le=60)

    _url = field_validator("url")(_check_http_url)


class EmailSettings(_Strict):
    """E-mail over SMTP. Without ``to`` a page goes to the paged person's address."""

    host: str = Field(max_length=253)
    port: int = Field(25, ge=1, le=65535)
    sender: str = Field(max_length=320, description="The From address.")
    to: list[Annotated[str, AfterValidator(_check_email)]] = Field(
        default_factory=list, max_length=50
    )
    starttls: bool = False
    username: str = Field("", max_length=200)
    password: str = Field("", max_length=200)
    timeout_seconds: float = Field(10.0, gt=0, le=60)

    _sender = field_validator("sender")(_check_email)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not _HOST_RE.match(value):
            raise ValueError("must be a host name or IP address")
        return value


SETTINGS_MODELS: dict[ChannelType, type[_Strict]] = {
    ChannelType.WEBHOOK: WebhookSettings,
    ChannelType.SLACK: SlackSettings,
    ChannelType.EMAIL: EmailSettings,
}
# Settings never shown back to clients.
SECRET_SETTINGS = frozenset({"secret", "password"})


class ChannelCreate(_Strict):
    name: str = Field(examples=["ops-webhook"], json_schema_extra={"pattern": _SLUG_PATTERN})
    type: ChannelType
    settings: dict[str, Any] = Field(
        description="webhook: url, secret; slack: url; email: host, port, sender, to."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _SLUG_RE.match(value):
            raise ValueError(
                "must be 1-63 characters of lower-case letters, digits and '-', "
                "starting with a letter or digit"
            )
        return value


class ChannelUpdate(_Strict):
    settings: dict[str, Any] = Field(description="The channel's settings, replaced whole.")


class Channel(BaseModel):
    """A stored channel; ``settings`` have secrets replaced by ``"***"`` when read back."""

    name: str
    type: ChannelType
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class Message(BaseModel):
    """What a channel sends: a title, a text, an optional link (e.g. to acknowledge)."""

    title: str
    text: str = ""
    link: str = ""
    severity: str = "info"
    service: str = ""
    recipient: str = Field("", description="Username of the person addressed, if any.")
    recipient_email: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict)


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"


class Attempt(BaseModel):
    time: datetime
    ok: bool
    status_code: int | None = None
    error: str = ""


class Delivery(BaseModel):
    """One message through one channel: every attempt, and how it ended."""

    id: int
    channel: str
    channel_type: ChannelType
    title: str
    recipient: str
    status: DeliveryStatus
    attempts: list[Attempt]
    page_id: int | None
    created_at: datetime

    @property
    def error(self) -> str:
        return self.attempts[-1].error if self.attempts else ""
