"""What every UI page shares: the session check, time ranges from the URL, and templates.

A page reads its time range from ``start``/``end`` query parameters holding the same text the
API accepts: ``now``, ``now-15m`` (units s, m, h, d, w), epoch seconds or RFC 3339 (naive
times are UTC). Times are shown in UTC everywhere in the UI.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from radiator.core.types import TimeRange, utc
from radiator.errors import InvalidInputError
from radiator.identity import Principal, Scope
from radiator.web.deps import SESSION_COOKIE, RuntimeDep, caller_of

__all__ = [
    "PRESETS",
    "PageRange",
    "PageUser",
    "page_user",
    "parse_moment",
    "parse_range",
    "render",
    "service_colour",
    "templates",
    "to_login",
]

# The time-range picker's presets: label -> the ``start`` they set (``end`` is ``now``).
PRESETS = {"15m": "now-15m", "1h": "now-1h", "6h": "now-6h", "24h": "now-24h", "7d": "now-7d"}
_RELATIVE = re.compile(r"^now(?:\s*-\s*(\d+)\s*([smhdw]))?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_MAX_RANGE = timedelta(days=400)
# Colour-blind-friendly palette (Okabe-Ito plus two), shared with chart.js.
_PALETTE = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#6a3d9a",
    "#8c6d31",
)


@dataclass(frozen=True, slots=True)
class PageUser:
    """The logged-in user of a page request, and the CSRF token its forms and scripts send."""

    principal: Principal
    csrf_token: str


@dataclass(frozen=True, slots=True)
class PageRange:
    """A page's time range: the text from the URL (shown back in the picker) and its value."""

    start: str
    end: str
    range: TimeRange


def page_user(request: Request, runtime: RuntimeDep) -> PageUser | None:
    """The session's user, authorized to read (and audited like an API read); None when the
    request carries no valid session, so the page redirects to the login form."""
    cookie = request.cookies.get(SESSION_COOKIE)
    found = runtime.identity.session_principal(cookie) if cookie else None
    if found is None:
        return None
    principal, session = found
    caller = caller_of(request, principal.actor)
    runtime.identity.authorize(principal, Scope.READ, caller, f"GET {request.url.path}")
    return PageUser(principal, session.csrf_token)


def to_login(request: Request) -> RedirectResponse:
    """A redirect to the login form that comes back to this page afterwards."""
    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(f"/login?next={target}", status_code=303)


def parse_moment(text: str, now: datetime, field: str) -> datetime:
    """``now``, ``now-<n><unit>``, epoch seconds or an ISO 8601 time, as aware UTC.

    Raises:
        InvalidInputError: the text is none of those (naming ``field``).
    """
    value = text.strip()
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = relative.groups()
        return now - timedelta(seconds=int(amount) * _UNITS[unit]) if amount else now
    try:
        if re.fullmatch(r"\d+(\.\d+)?", value):
            return datetime.fromtimestamp(float(value), UTC)
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidInputError(
            f"{field} must be 'now', 'now-1h' (s, m, h, d, w), epoch seconds or "
            f"an ISO 8601 time, not {text!r}",
            field=field,
        ) from exc


def parse_range(start: str, end: str) -> PageRange:
    """The page's range from its ``start``/``end`` parameters (defaults: the last hour).

    Raises:
        InvalidInputError: a bound does not parse, the range is empty or longer than 400 days.
    """
    start, end = start.strip() or "now-1h", end.strip() or "now"
    now = datetime.now(UTC)
    since, until = parse_moment(start, now, "start"), parse_moment(end, now, "end")
    if until <= since:
        raise InvalidInputError("end must be after start", field="end")
    if until - since > _MAX_RANGE:
        raise InvalidInputError("the range may span at most 400 days", field="start")
    return PageRange(start, end, TimeRange(since, until))


def service_colour(service: str) -> str:
    """A stable palette colour for ``service`` (the same in every page and chart)."""
    return _PALETTE[zlib.crc32(service.encode()) % len(_PALETTE)]


def _format_time(moment: datetime, precise: bool = False) -> str:
    text = utc(moment).strftime("%Y-%m-%d %H:%M:%S")
    return text + (f".{moment.microsecond // 1000:03d}" if precise else "")


def _duration(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:.2f} ms" if ms < 10 else f"{ms:.0f} ms"


def _safe_url(url: str) -> str | None:
    # Links come from telemetry: only web links and same-site paths may become hrefs, never
    # javascript: or data: URLs.
    if url.startswith("/") and not url.startswith("//"):
        return url
    return url if urlsplit(url).scheme.lower() in {"http", "https"} else None


templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.filters["utc_time"] = _format_time
templates.env.filters["safe_url"] = _safe_url
templates.env.filters["duration"] = _duration
templates.env.filters["service_colour"] = service_colour
templates.env.globals["PRESETS"] = PRESETS


def render(
    request: Request, name: str, user: PageUser, status_code: int = 200, **context: Any
) -> Response:
    """Render template ``name`` for ``user`` with ``context``."""
    values = {"principal": user.principal, "csrf_token": user.csrf_token, **context}
    return templates.TemplateResponse(request, name, values, status_code=status_code)
