"""Turning a message into what each kind of channel sends: signed JSON, Slack blocks, e-mail."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from radiator.notify.models import EmailSettings, Message

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "email_message",
    "sign",
    "slack_payload",
    "verify",
    "webhook_body",
]

SIGNATURE_HEADER = "X-Radiator-Signature"
TIMESTAMP_HEADER = "X-Radiator-Timestamp"


def webhook_body(channel: str, message: Message, sent_at: datetime) -> bytes:
    payload = {
        "channel": channel,
        "sent_at": sent_at.isoformat(),
        **message.model_dump(mode="json", exclude={"recipient_email"}),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 over ``<timestamp>.<body>`` keyed by ``secret``.

    The timestamp is signed too, so a receiver can refuse replays of old deliveries.
    """
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def slack_payload(message: Message) -> bytes:
    """An incoming-webhook payload: ``text`` for every client, ``blocks`` for richer ones."""
    headline = f"*{message.title}*" + (f" ({message.service})" if message.service else "")
    lines = [headline]
    if message.text:
        lines.append(message.text)
    if message.link:
        lines.append(f"<{message.link}|Acknowledge or open>")
    text = "\n".join(lines)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    return json.dumps({"text": text, "blocks": blocks}).encode()


def email_message(settings: EmailSettings, message: Message, sent_at: datetime) -> EmailMessage:
    """The e-mail for ``message``; raises ``ValueError`` when there is nobody to send it to."""
    recipients = list(settings.to) or ([message.recipient_email] if message.recipient_email else [])
    if not recipients:
        raise ValueError(
            "the channel has no 'to' addresses and the person addressed has no e-mail address"
        )
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = settings.sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = format_datetime(sent_at)
    mail["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    body = [message.text] if message.text else []
    if message.service:
        body.append(f"Service: {message.service}")
    if message.link:
        body.append(f"Acknowledge: {message.link}")
    mail.set_content("\n\n".join(body) or message.title)
    return mail
