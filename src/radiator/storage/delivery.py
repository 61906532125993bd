"""The network side of notifications: HTTP POST through httpx, e-mail through smtplib.

These implement the transports ``radiator.notify`` declares; every failure becomes a
``DeliveryError`` whose message says what failed where, for the delivery log.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

import httpx

from radiator.notify import DeliveryError, Transports

__all__ = ["HttpxTransport", "SmtpTransport", "default_transports"]

_USER_AGENT = "Radiator-Notify/1"


def _permanent(status: int) -> bool:
    """4xx answers other than 408 (timeout) and 429 (slow down) will not change on retry."""
    return 400 <= status < 500 and status not in (408, 429)


class HttpxTransport:
    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
        try:
            response = httpx.post(
                url,
                content=body,
                headers={"User-Agent": _USER_AGENT, **headers},
                timeout=timeout,
                follow_redirects=False,
            )
        except httpx.ConnectError as exc:
            raise DeliveryError(f"HTTP connection to {url} failed: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"HTTP request to {url} timed out after {timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"HTTP request to {url} failed: {exc}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return status
        raise DeliveryError(
            f"HTTP {status} from {url}: {response.text[:200]}".rstrip(": "),
            status_code=status,
            retry=not _permanent(status),
        )


class SmtpTransport:
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
        where = f"{host}:{port}"
        try:
            with smtplib.SMTP(host, port, timeout=timeout) as smtp:
                if starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if username:
                    smtp.login(username, password)
                smtp.send_message(message)
        except ConnectionRefusedError as exc:
            raise DeliveryError(f"SMTP connection refused at {where}") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"SMTP login refused at {where}: check username and password", retry=False
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(sorted(exc.recipients))
            raise DeliveryError(f"SMTP server at {where} refused {refused}", retry=False) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP error {exc.smtp_code} at {where}: {exc.smtp_error!r}",
                status_code=exc.smtp_code,
                retry=exc.smtp_code >= 400 and exc.smtp_code < 500,
            ) from exc
        except TimeoutError as exc:
            raise DeliveryError(f"SMTP server at {where} timed out after {timeout:g} s") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP delivery to {where} failed: {exc}") from exc


def default_transports() -> Transports:
    return Transports(http=HttpxTransport(), mail=SmtpTransport())
