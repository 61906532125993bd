"""The demo domains, in the order they seed and tick.

Adding a domain's demo data is one new module plus one line here, for example::

    # src/radiator/demo/flags.py: a class with name, seed(ctx, start, end, progress)
    # and tick(ctx, now), as described by radiator.demo.base.DemoDomain
    from radiator.demo.flags import FlagsDemo

    DEMO_DOMAINS = [OrganisationDemo(), TelemetryDemo(), FlagsDemo()]

The organisation comes first: every other domain refers to its teams, users and services.
"""

from __future__ import annotations

from radiator.demo.base import DemoDomain
from radiator.demo.oncall import OncallDemo
from radiator.demo.organisation import OrganisationDemo
from radiator.demo.telemetry import TelemetryDemo

__all__ = ["DEMO_DOMAINS"]

DEMO_DOMAINS: list[DemoDomain] = [
    OrganisationDemo(),
    TelemetryDemo(),
    OncallDemo(),
]
