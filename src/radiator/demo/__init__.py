"""``radiator demo``: a working Radiator with an organisation and hours of telemetry.

``build_demo`` creates the organisation and seeds history for every domain registered in
``radiator.demo.registry``; ``schedule_demo`` keeps the data flowing while the demo runs.
"""

from __future__ import annotations

from radiator.demo.base import DemoContext, DemoDomain
from radiator.demo.build import (
    FEED_JOB,
    MAX_HISTORY,
    DemoState,
    build_demo,
    schedule_demo,
    seed_demo,
    tick_demo,
)
from radiator.demo.organisation import DemoOrg, demo_org
from radiator.demo.registry import DEMO_DOMAINS

__all__ = [
    "DEMO_DOMAINS",
    "FEED_JOB",
    "MAX_HISTORY",
    "DemoContext",
    "DemoDomain",
    "DemoOrg",
    "DemoState",
    "build_demo",
    "demo_org",
    "schedule_demo",
    "seed_demo",
    "tick_demo",
]
