"""Random secrets for API tokens and sessions, and the hashes stored in their place.

Secrets carry 256 bits of entropy, so a fast SHA-256 hash is safe to store and cheap to
check on every request (argon2 is for low-entropy passwords).
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["TOKEN_PREFIX", "hash_secret", "new_secret", "new_token_secret"]

TOKEN_PREFIX = "rad_"  # noqa: S105 - a public marker, not a secret


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_token_secret() -> str:
    """An API token: recognisable prefix, then the random part."""
    return TOKEN_PREFIX + new_secret()


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
