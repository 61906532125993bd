"""The error kinds every layer shares.

Each error carries a stable ``code``; only ``radiator.web.errors`` maps codes to HTTP.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RadiatorError",
    "RateLimitedError",
    "StorageError",
]


class RadiatorError(Exception):
    """Root of every error Radiator raises on purpose."""

    code = "radiator_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInputError(RadiatorError):
    """Input was understood but is not acceptable; ``field`` names what is wrong."""

    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message, **details)
        self.field = field


class NotFoundError(RadiatorError):
    code = "not_found"


class ConflictError(RadiatorError):
    code = "conflict"


class AuthenticationError(RadiatorError):
    """No valid credentials were presented."""

    code = "unauthenticated"


class PermissionDeniedError(RadiatorError):
    """Credentials are valid but lack the scope or role the action needs."""

    code = "permission_denied"


class RateLimitedError(RadiatorError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class StorageError(RadiatorError):
    code = "storage_error"


class ConfigError(RadiatorError):
    """A setting has a value Radiator cannot start with."""

    code = "config_error"


class OverloadedError(RadiatorError):
    """Radiator cannot take more data right now (buffer full); retry after a pause."""

    code = "overloaded"

    def __init__(self, message: str, *, retry_after: float, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after
