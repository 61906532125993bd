"""The demo organisation: teams, people and services, with a traffic profile per service.

``demo_org()`` describes it as plain data; ``OrganisationDemo`` creates it through the
catalog and identity services (as ``SYSTEM``, so every change is audited). Other demo
domains read ``ctx.org`` to know which services exist and how busy they are.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from radiator.catalog import Link, ServiceCreate, TeamCreate, Tier
from radiator.core.caller import SYSTEM
from radiator.demo.base import DemoContext, Progress
from radiator.errors import ConflictError, NotFoundError
from radiator.identity import Role, UserCreate

__all__ = [
    "BusinessMetric",
    "DemoOrg",
    "DemoService",
    "DemoTeam",
    "DemoUser",
    "OrganisationDemo",
    "Route",
    "TrafficProfile",
    "demo_org",
]

Discipline = Literal["dev", "ops", "product"]


@dataclass(frozen=True, slots=True)
class Route:
    """An HTTP route a service serves, and the routes of other services it calls."""

    method: str
    template: str
    weight: float = 1.0
    calls: tuple[tuple[str, str], ...] = ()
    """``(service, template)`` pairs called, in order, while serving this route."""

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(frozen=True, slots=True)
class BusinessMetric:
    """A business counter driven by the successful requests of one route."""

    name: str
    route: str
    ratio: float


@dataclass(frozen=True, slots=True)
class TrafficProfile:
    """How busy and how healthy a service normally is.

    Attributes:
        base_rps: requests per second at the daily mean.
        p50_ms: median latency at the daily mean, in milliseconds.
        error_rate: fraction of requests answered with a 5xx.
        seasonality: amplitude of the daily cycle (0.4 means ±40 % around the mean).
        cpu_percent: CPU use of one host at the daily mean.
        memory_mb: resident memory of one host just after a deploy.
        routes: the routes served; ``weight`` is each one's share of requests.
        business: the business metric this service drives, if any.
        hosts: how many hosts run the service.
    """

    base_rps: float
    p50_ms: float
    error_rate: float
    seasonality: float
    cpu_percent: float
    memory_mb: float
    routes: tuple[Route, ...]
    business: BusinessMetric | None = None
    hosts: int = 2


@dataclass(frozen=True, slots=True)
class DemoService:
    name: str
    display_name: str
    team: str
    tier: Tier
    description: str
    version: str
    """The version running when the history starts."""
    traffic: TrafficProfile
    errors: tuple[str, ...]
    """Messages the service logs when it fails on its own (not because of a callee)."""

    @property
    def links(self) -> list[Link]:
        return [
            Link.model_validate({"title": title, "url": url})
            for title, url in (
                ("Runbook", f"https://runbooks.example.com/{self.name}"),
                ("Repository", f"https://git.example.com/acme/{self.name}"),
                ("Dashboard", f"https://dashboards.example.com/d/{self.name}"),
            )
        ]

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(f"{self.name}-{i + 1:02d}" for i in range(self.traffic.hosts))

    def route(self, template: str) -> Route:
        for route in self.traffic.routes:
            if route.template == template:
                return route
        raise NotFoundError(f"service {self.name!r} has no route {template!r}")


@dataclass(frozen=True, slots=True)
class DemoTeam:
    name: str
    display_name: str
    description: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    discipline: Discipline

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"


@dataclass(frozen=True, slots=True)
class DemoOrg:
    """The whole demo organisation.

    ``incident_service`` is the service whose bad deploy tells the demo's story
    (deploy, latency and error spike, incident, rollback).
    """

    teams: tuple[DemoTeam, ...]
    users: tuple[DemoUser, ...]
    services: tuple[DemoService, ...]
    admin_username: str
    incident_service: str

    def service(self, name: str) -> DemoService:
        for service in self.services:
            if service.name == name:
                return service
        raise NotFoundError(f"the demo has no service named {name!r}")

    def user(self, username: str) -> DemoUser:
        for user in self.users:
            if user.username == username:
                return user
        raise NotFoundError(f"the demo has no user named {username!r}")

    def team_people(self, team: str, discipline: Discipline | None = None) -> list[DemoUser]:
        """Members of ``team``, optionally only those of one discipline."""
        members = next((t.members for t in self.teams if t.name == team), ())
        people = [self.user(name) for name in members]
        return [u for u in people if discipline is None or u.discipline == discipline]

    def people(self, discipline: Discipline) -> list[DemoUser]:
        return [u for u in self.users if u.discipline == discipline]

    def callers(self, service: str) -> list[str]:
        """Services with a route that calls ``service``, in catalog order."""
        return [
            s.name
            for s in self.services
            if any(callee == service for r in s.traffic.routes for callee, _ in r.calls)
        ]

    def entry_services(self) -> list[DemoService]:
        """Services no other service calls: where requests from outside arrive."""
        return [s for s in self.services if not self.callers(s.name)]


def _r(method: str, template: str, weight: float, *calls: tuple[str, str]) -> Route:
    return Route(method, template, weight, tuple(calls))


_SERVICES = (
    DemoService(
        name="web-frontend",
        display_name="Web frontend",
        team="growth",
        tier=Tier.CRITICAL,
        description="Server-rendered storefront: product pages, sign-up and the checkout flow "
        "customers see. Calls search, checkout and accounts.",
        version="5.31.0",
        traffic=TrafficProfile(
            base_rps=180,
            p50_ms=45,
            error_rate=0.002,
            seasonality=0.45,
            cpu_percent=38,
            memory_mb=620,
            routes=(
                _r("GET", "/products/{id}", 0.72, ("search", "/api/search")),
                _r("POST", "/checkout", 0.2, ("checkout", "/api/checkout")),
                _r("POST", "/signup", 0.08, ("accounts", "/api/signup")),
            ),
        ),
        errors=("template render failed: KeyError 'price'", "session store timeout"),
    ),
    DemoService(
        name="checkout",
        display_name="Checkout",
        team="payments",
        tier=Tier.CRITICAL,
        description="Prices carts, creates orders and runs the checkout API; charges cards "
        "through payments-api and sends receipts through notifications.",
        version="1.42.3",
        traffic=TrafficProfile(
            base_rps=45,
            p50_ms=85,
            error_rate=0.003,
            seasonality=0.5,
            cpu_percent=42,
            memory_mb=900,
            routes=(
                _r(
                    "POST",
                    "/api/checkout",
                    0.45,
                    ("payments-api", "/v1/charges"),
                    ("notifications", "/internal/send"),
                ),
                _r("GET", "/api/cart", 0.45),
                _r("GET", "/api/orders/{id}", 0.1),
            ),
            business=BusinessMetric("checkout.completed", "/api/checkout", 0.92),
        ),
        errors=("order creation failed: deadlock detected on table orders",),
    ),
    DemoService(
        name="payments-api",
        display_name="Payments API",
        team="payments",
        tier=Tier.CRITICAL,
        description="Card charges and refunds through the acquiring bank. PCI-scoped: "
        "changes need a second reviewer from the payments team.",
        version="2.13.2",
        traffic=TrafficProfile(
            base_rps=22,
            p50_ms=120,
            error_rate=0.002,
            seasonality=0.5,
            cpu_percent=30,
            memory_mb=750,
            routes=(
                _r("POST", "/v1/charges", 0.8),
                _r("POST", "/v1/refunds", 0.05),
                _r("GET", "/v1/charges/{id}", 0.15),
            ),
        ),
        errors=(
            "charge failed: acquirer connection pool exhausted (20/20 in use)",
            "charge declined: issuer unavailable (acquirer code 91)",
        ),
    ),
    DemoService(
        name="search",
        display_name="Search",
        team="growth",
        tier=Tier.HIGH,
        description="Product search and autocomplete over the catalogue index, rebuilt "
        "every night.",
        version="3.8.1",
        traffic=TrafficProfile(
            base_rps=140,
            p50_ms=28,
            error_rate=0.001,
            seasonality=0.4,
            cpu_percent=55,
            memory_mb=2400,
            routes=(_r("GET", "/api/search", 0.6), _r("GET", "/api/suggest", 0.4)),
            business=BusinessMetric("search.queries", "/api/search", 1.0),
        ),
        errors=("query timed out after 800 ms on shard 3",),
    ),
    DemoService(
        name="accounts",
        display_name="Accounts",
        team="platform",
        tier=Tier.HIGH,
        description="Customer sign-up, login and profiles; sends confirmation email through "
        "notifications.",
        version="4.2.0",
        traffic=TrafficProfile(
            base_rps=35,
            p50_ms=60,
            error_rate=0.002,
            seasonality=0.35,
            cpu_percent=25,
            memory_mb=540,
            routes=(
                _r("POST", "/api/signup", 0.1, ("notifications", "/internal/send")),
                _r("POST", "/api/login", 0.5),
                _r("GET", "/api/me", 0.4),
            ),
            business=BusinessMetric("signup.completed", "/api/signup", 0.85),
        ),
        errors=("database connection reset by peer",),
    ),
    DemoService(
        name="notifications",
        display_name="Notifications",
        team="platform",
        tier=Tier.MEDIUM,
        description="Sends transactional email and SMS (receipts, sign-up confirmations) "
        "through external providers, with retries.",
        version="0.19.4",
        traffic=TrafficProfile(
            base_rps=8,
            p50_ms=140,
            error_rate=0.004,
            seasonality=0.3,
            cpu_percent=12,
            memory_mb=380,
            routes=(
                _r("POST", "/internal/send", 0.9),
                _r("GET", "/internal/templates/{name}", 0.1),
            ),
        ),
        errors=("SMTP provider answered 421: try again later",),
    ),
)

_TEAMS = (
    DemoTeam(
        "payments",
        "Payments",
        "Owns checkout and the payments API: everything between the cart and the bank.",
        ("alice", "ben"),
    ),
    DemoTeam(
        "growth",
        "Growth",
        "Owns the storefront and search: getting customers to the products they want.",
        ("priya", "li"),
    ),
    DemoTeam(
        "platform",
        "Platform",
        "Owns accounts, notifications and the shared infrastructure; runs the on-call rota.",
        ("omar", "jonas", "sara"),
    ),
)

_USERS = (
    DemoUser("demo", "Demo Admin", Role.ADMIN, "ops"),
    DemoUser("alice", "Alice Martin", Role.EDITOR, "dev"),
    DemoUser("ben", "Ben Okafor", Role.EDITOR, "dev"),
    DemoUser("priya", "Priya Raman", Role.EDITOR, "dev"),
    DemoUser("omar", "Omar Haddad", Role.EDITOR, "ops"),
    DemoUser("jonas", "Jonas Berg", Role.EDITOR, "ops"),
    DemoUser("sara", "Sara Lindqvist", Role.VIEWER, "ops"),
    DemoUser("li", "Li Wei", Role.VIEWER, "product"),
)


def demo_org() -> DemoOrg:
    """The organisation every demo starts with."""
    return DemoOrg(
        teams=_TEAMS,
        users=_USERS,
        services=_SERVICES,
        admin_username="demo",
        incident_service="payments-api",
    )


class OrganisationDemo:
    """Creates the demo's users, teams and services; has nothing to feed live."""

    name = "organisation"

    def seed(self, ctx: DemoContext, start: datetime, end: datetime, progress: Progress) -> None:
        org = ctx.org
        self._refuse_existing(ctx)
        total = len(org.users) + len(org.teams) + len(org.services)
        done = 0
        for user in org.users:
            # Random even for the non-admin users: a demo reachable from a network must not
            # come with guessable logins. Only the admin's password is ever shown.
            password = secrets.token_urlsafe(15)
            ctx.runtime.identity.create_user(
                UserCreate(
                    username=user.username,
                    password=password,
                    role=user.role,
                    display_name=user.display_name,
                    email=user.email,
                ),
                SYSTEM,
            )
            ctx.passwords[user.username] = password
            done += 1
            progress(done, total)
        for team in org.teams:
            ctx.runtime.catalog.create_team(
                TeamCreate(
                    name=team.name,
                    display_name=team.display_name,
                    description=team.description,
                    members=list(team.members),
                ),
                SYSTEM,
            )
            done += 1
            progress(done, total)
        for service in org.services:
            ctx.runtime.catalog.create_service(
                ServiceCreate(
                    name=service.name,
                    display_name=service.display_name,
                    team=service.team,
                    tier=service.tier,
                    description=service.description,
                    links=service.links,
                ),
                SYSTEM,
            )
            done += 1
            progress(done, total)

    def tick(self, ctx: DemoContext, now: datetime) -> None:
        return None

    @staticmethod
    def _refuse_existing(ctx: DemoContext) -> None:
        """Fail before creating anything when the demo organisation is already there."""
        identity, catalog = ctx.runtime.identity, ctx.runtime.catalog
        taken = [
            f"user {u.username!r}" for u in ctx.org.users if _exists(identity.get_user, u.username)
        ]
        taken += [f"team {t.name!r}" for t in ctx.org.teams if _exists(catalog.get_team, t.name)]
        taken += [
            f"service {s.name!r}" for s in ctx.org.services if _exists(catalog.get_service, s.name)
        ]
        if taken:
            raise ConflictError(
                "the demo organisation already exists here ("
                + ", ".join(taken[:3])
                + (", …" if len(taken) > 3 else "")
                + "); run the demo on an empty data directory",
                existing=taken,
            )


def _exists(lookup: Callable[[str], object], name: str) -> bool:
    try:
        lookup(name)
    except NotFoundError:
        return False
    return True
