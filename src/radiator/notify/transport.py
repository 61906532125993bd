"""What delivering a notification needs from the network, stated as Protocols.

The notify domain does no I/O: the edge passes implementations (see
``radiator.storage.delivery``), and tests may pass their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

__all__ = ["DeliveryError", "HttpTransport", "MailTransport", "Sleep", "Transports"]

Sleep = Callable[[float], None]


class DeliveryError(Exception):
    """One attempt failed. ``retry`` is False when trying again cannot help (e.g. HTTP 400).

    ``message`` says what failed and where, for people: "SMTP connection refused at
    127.0.0.1:2525", "HTTP 500 from https://hooks.example.com/x".
    """

    def __init__(self, message: str, *, status_code: int | None = None, retry: bool = True):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry = retry


class HttpTransport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        """POST ``body``; return the 2xx status, or raise ``DeliveryError``."""
        ...


class MailTransport(Protocol):
    def send(
        self,
        message: EmailMessage,
        *,
        host: str,
        port: int,
        starttls: bool,
        username: str,
        password: str,
        timeout: float,
    ) -> None:
        """Hand ``message`` to the SMTP server, or raise ``DeliveryError``."""
        ...


@dataclass(frozen=True, slots=True)
class Transports:
    http: HttpTransport
    mail: MailTransport
