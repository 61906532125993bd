"""Delivery through real servers: a signed webhook, Slack payloads, e-mail over SMTP, and
retries with exponential backoff recorded in the delivery log."""

from __future__ import annotations

import json
from email import message_from_bytes

from radiator.notify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ChannelCreate,
    DeliveryStatus,
    Message,
    NotifyService,
    verify,
)
from support import free_port

from .servers import Mailbox, Receiver

SECRET = "a-shared-secret-of-some-length"


def _webhook(notify: NotifyService, url: str, name: str = "ops-hook") -> None:
    notify.create_channel(
        ChannelCreate(name=name, type="webhook", settings={"url": url, "secret": SECRET})
    )


def test_webhook_posts_json_signed_with_hmac_sha256(
    notify: NotifyService, receiver: Receiver
) -> None:
    _webhook(notify, receiver.url)

    delivery = notify.deliver(
        "ops-hook", Message(title="checkout is down", text="5xx at 40 %", service="checkout")
    )

    assert delivery.status is DeliveryStatus.DELIVERED
    assert [a.status_code for a in delivery.attempts] == [200]
    [request] = receiver.requests
    payload = json.loads(request.body)
    assert payload["title"] == "checkout is down"
    assert payload["service"] == "checkout"
    assert payload["channel"] == "ops-hook"
    stamp, signature = request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER]
    assert verify(SECRET, stamp, request.body, signature)
    assert not verify("another-secret-entirely", stamp, request.body, signature)
    assert not verify(SECRET, stamp, request.body + b" ", signature)


def test_failing_endpoint_is_retried_with_backoff_and_logged(
    notify: NotifyService, receiver: Receiver, sleeps: list[float]
) -> None:
    _webhook(notify, receiver.url)
    receiver.statuses = [500, 503, 200]

    delivery = notify.deliver("ops-hook", Message(title="flaky"))

    assert delivery.status is DeliveryStatus.DELIVERED
    assert [(a.ok, a.status_code) for a in delivery.attempts] == [
        (False, 500),
        (False, 503),
        (True, 200),
    ]
    assert "HTTP 500" in delivery.attempts[0].error
    assert sleeps == [0.5, 1.0]
    assert len(receiver.requests) == 3
    [logged] = notify.list_deliveries(channel="ops-hook")
    assert logged == delivery


def test_endpoint_failing_every_time_ends_failed_after_all_attempts(
    notify: NotifyService, receiver: Receiver, sleeps: list[float]
) -> None:
    _webhook(notify, receiver.url)
    receiver.statuses = [502] * 10

    delivery = notify.deliver("ops-hook", Message(title="down"))

    assert delivery.status is DeliveryStatus.FAILED
    assert len(delivery.attempts) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_client_error_is_not_retried(notify: NotifyService, receiver: Receiver) -> None:
    _webhook(notify, receiver.url)
    receiver.statuses = [400]

    delivery = notify.deliver("ops-hook", Message(title="bad"))

    assert delivery.status is DeliveryStatus.FAILED
    assert len(delivery.attempts) == 1
    assert delivery.attempts[0].status_code == 400


def test_unreachable_webhook_reports_the_connection_failure(notify: NotifyService) -> None:
    _webhook(notify, f"http://127.0.0.1:{free_port()}/nothing-here")

    delivery = notify.deliver("ops-hook", Message(title="nobody listens"))

    assert delivery.status is DeliveryStatus.FAILED
    assert len(delivery.attempts) == 4
    assert "connection to http://127.0.0.1" in delivery.attempts[-1].error


def test_slack_channel_posts_an_incoming_webhook_payload(
    notify: NotifyService, receiver: Receiver
) -> None:
    notify.create_channel(ChannelCreate(name="chat", type="slack", settings={"url": receiver.url}))

    notify.deliver("chat", Message(title="disk full", text="/var at 99 %", link="http://x/ack/1"))

    payload = json.loads(receiver.requests[0].body)
    assert payload["text"].startswith("*disk full*")
    assert "<http://x/ack/1|" in payload["text"]
    assert payload["blocks"][0]["text"]["type"] == "mrkdwn"


def test_email_reaches_a_real_smtp_server(notify: NotifyService, smtp_server: Mailbox) -> None:
    notify.create_channel(
        ChannelCreate(
            name="mail",
            type="email",
            settings={
                "host": smtp_server.host,
                "port": smtp_server.port,
                "sender": "radiator@example.com",
                "to": ["oncall@example.com"],
            },
        )
    )

    delivery = notify.deliver("mail", Message(title="page: api slow", text="p99 at 2 s"))

    assert delivery.status is DeliveryStatus.DELIVERED
    [(sender, recipients, content)] = smtp_server.messages
    assert sender == "radiator@example.com"
    assert recipients == ["oncall@example.com"]
    mail = message_from_bytes(content)
    assert mail["Subject"] == "page: api slow"
    assert "p99 at 2 s" in mail.get_payload()


def test_email_without_to_goes_to_the_person_addressed(
    notify: NotifyService, smtp_server: Mailbox
) -> None:
    settings = {"host": smtp_server.host, "port": smtp_server.port, "sender": "r@example.com"}
    notify.create_channel(ChannelCreate(name="mail", type="email", settings=settings))

    notify.deliver("mail", Message(title="t", recipient="ana", recipient_email="ana@example.com"))
    nobody = notify.deliver("mail", Message(title="t"))

    assert smtp_server.messages[0][1] == ["ana@example.com"]
    assert nobody.status is DeliveryStatus.FAILED
    assert "no 'to' addresses" in nobody.attempts[0].error
    assert len(nobody.attempts) == 1


def test_channel_test_names_the_refused_smtp_address(notify: NotifyService) -> None:
    port = free_port()
    settings = {"host": "127.0.0.1", "port": port, "sender": "r@example.com", "to": ["a@b.c"]}
    notify.create_channel(ChannelCreate(name="mail", type="email", settings=settings))

    delivery = notify.test("mail")

    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts[-1].error == f"SMTP connection refused at 127.0.0.1:{port}"
