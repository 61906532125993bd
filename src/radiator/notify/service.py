"""Notification use cases: manage channels, deliver with retries, keep the delivery log."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from radiator.audit import AuditLog, Outcome
from radiator.core.caller import SYSTEM, Caller
from radiator.core.clock import Clock, system_clock
from radiator.errors import InvalidInputError, NotFoundError
from radiator.notify.models import (
    SECRET_SETTINGS,
    SETTINGS_MODELS,
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
from radiator.notify.render import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    email_message,
    sign,
    slack_payload,
    webhook_body,
)
from radiator.notify.store import NotifyStore
from radiator.notify.transport import DeliveryError, Sleep, Transports

__all__ = ["NotifyService", "validate_settings"]

_REDACTED = "***"
_JSON = "application/json"


def validate_settings(type: ChannelType, settings: dict[str, Any]) -> dict[str, Any]:
    """The settings of a ``type`` channel, checked and completed with defaults.

    Raises:
        InvalidInputError: naming the first wrong field, e.g. ``settings.url``.
    """
    model = SETTINGS_MODELS[type]
    try:
        checked = model.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        field = f"settings.{where}" if where else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInputError(f"{type} channel: {field}: {message}", field=field) from exc
    return checked.model_dump(mode="json")


def _redacted(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: (_REDACTED if k in SECRET_SETTINGS and v else v) for k, v in settings.items()}


def _channel(row: dict[str, Any]) -> Channel:
    return Channel(**{**row, "settings": _redacted(row["settings"])})


class NotifyService:
    def __init__(
        self,
        store: NotifyStore,
        transports: Transports,
        audit: AuditLog,
        *,
        max_attempts: int = 3,
        backoff_seconds: float = 1.0,
        sleep: Sleep = time.sleep,
        clock: Clock = system_clock,
    ) -> None:
        self._store = store
        self._transports = transports
        self._audit = audit
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._clock = clock

    # -- channels --------------------------------------------------------------------------

    def create_channel(self, data: ChannelCreate, caller: Caller = SYSTEM) -> Channel:
        settings = validate_settings(data.type, data.settings)
        row = self._store.add_channel(data.name, data.type, settings)
        self._record(caller, "channel.create", data.name, type=str(data.type))
        return _channel(row)

    def get_channel(self, name: str) -> Channel:
        return _channel(self._row(name))

    def list_channels(self) -> list[Channel]:
        return [_channel(row) for row in self._store.list_channels()]

    def update_channel(self, name: str, data: ChannelUpdate, caller: Caller = SYSTEM) -> Channel:
        row = self._row(name)
        settings = dict(data.settings)
        # A secret sent back as "***" (as it was read) keeps its stored value.
        for key in SECRET_SETTINGS:
            if settings.get(key) == _REDACTED and key in row["settings"]:
                settings[key] = row["settings"][key]
        checked = validate_settings(ChannelType(row["type"]), settings)
        updated = self._store.update_channel(name, checked)
        self._record(caller, "channel.update", name)
        return _channel(updated)

    def delete_channel(self, name: str, caller: Caller = SYSTEM) -> None:
        self._row(name)
        self._store.delete_channel(name)
        self._record(caller, "channel.delete", name)

    # -- delivery --------------------------------------------------------------------------

    def deliver(self, channel: str, message: Message, *, page_id: int | None = None) -> Delivery:
        """Send ``message`` through ``channel``, retrying with exponential backoff.

        Failures do not raise: the returned (and logged) delivery says what happened.

        Raises:
            NotFoundError: there is no such channel.
        """
        row = self._row(channel)
        kind = ChannelType(row["type"])
        send = self._sender(kind, row["name"], row["settings"], message)
        attempts: list[Attempt] = []
        for number in range(self._max_attempts):
            if number:
                self._sleep(self._backoff * 2 ** (number - 1))
            moment = self._clock()
            try:
                code = send(moment)
            except DeliveryError as exc:
                attempts.append(
                    Attempt(time=moment, ok=False, status_code=exc.status_code, error=exc.message)
                )
                if not exc.retry:
                    break
            else:
                attempts.append(Attempt(time=moment, ok=True, status_code=code))
                break
        delivered = bool(attempts) and attempts[-1].ok
        return self._store.add_delivery(
            channel=row["name"],
            channel_type=kind,
            title=message.title,
            recipient=message.recipient or message.recipient_email,
            status=DeliveryStatus.DELIVERED if delivered else DeliveryStatus.FAILED,
            attempts=attempts,
            page_id=page_id,
        )

    def test(self, channel: str, caller: Caller = SYSTEM) -> Delivery:
        """Send a test message through ``channel`` and return the delivery."""
        message = Message(
            title=f"Radiator test message for channel {channel!r}",
            text=f"Sent by {caller.name} to check that the channel works.",
            recipient_email="",
        )
        delivery = self.deliver(channel, message)
        self._record(caller, "channel.test", channel, status=str(delivery.status))
        return delivery

    def get_delivery(self, delivery_id: int) -> Delivery:
        found = self._store.get_delivery(delivery_id)
        if found is None:
            raise NotFoundError(f"no delivery with id {delivery_id}")
        return found

    def list_deliveries(
        self, *, channel: str | None = None, page_id: int | None = None, limit: int = 100
    ) -> list[Delivery]:
        return self._store.list_deliveries(channel=channel, page_id=page_id, limit=limit)

    # -- helpers ---------------------------------------------------------------------------

    def _sender(
        self, kind: ChannelType, name: str, settings: dict[str, Any], message: Message
    ) -> Callable[[datetime], int]:
        http, mail = self._transports.http, self._transports.mail
        if kind is ChannelType.WEBHOOK:
            hook = WebhookSettings.model_validate(settings)

            def post_webhook(moment: datetime) -> int:
                body = webhook_body(name, message, moment)
                stamp = str(int(moment.timestamp()))
                headers = {
                    "Content-Type": _JSON,
                    TIMESTAMP_HEADER: stamp,
                    SIGNATURE_HEADER: sign(hook.secret, stamp, body),
                }
                return http.post(hook.url, body, headers, hook.timeout_seconds)

            return post_webhook
        if kind is ChannelType.SLACK:
            slack = SlackSettings.model_validate(settings)
            body = slack_payload(message)
            return lambda _moment: http.post(
                slack.url, body, {"Content-Type": _JSON}, slack.timeout_seconds
            )
        smtp = EmailSettings.model_validate(settings)

        def send_mail(moment: datetime) -> int:
            try:
                mail_message = email_message(smtp, message, moment)
            except ValueError as exc:
                raise DeliveryError(str(exc), retry=False) from exc
            mail.send(
                mail_message,
                host=smtp.host,
                port=smtp.port,
                starttls=smtp.starttls,
                username=smtp.username,
                password=smtp.password,
                timeout=smtp.timeout_seconds,
            )
            return 250

        return send_mail

    def _row(self, name: str) -> dict[str, Any]:
        row = self._store.get_channel(name)
        if row is None:
            raise NotFoundError(f"no notification channel named {name!r}")
        return row

    def _record(self, caller: Caller, action: str, name: str, **detail: object) -> None:
        self._audit.record(
            action,
            actor=caller.name,
            outcome=Outcome.SUCCESS,
            target=f"channel:{name}",
            ip=caller.ip,
            request_id=caller.request_id,
            **detail,
        )
