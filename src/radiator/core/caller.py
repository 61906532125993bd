"""Who is acting, passed from the edges into services so changes can be audited."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SYSTEM", "Caller"]


@dataclass(frozen=True, slots=True)
class Caller:
    """The actor behind a call: a username, ``token:<prefix>`` or ``system``."""

    name: str
    ip: str = ""
    request_id: str = ""


SYSTEM = Caller("system")
