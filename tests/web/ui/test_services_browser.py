"""Service pages and the coverage matrix in Debian's Chromium, on the demo organisation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import Site, screenshot

pytestmark = pytest.mark.browser


def test_services_show_a_state_for_every_service(page: Page, site: Site) -> None:
    page.goto("/services")
    rows = page.get_by_test_id("service-state-row")
    expect(rows).to_have_count(len(site.runtime.catalog.list_services()))
    states = set(rows.locator("[data-state]").evaluate_all("els => els.map(e => e.dataset.state)"))
    assert states <= {"green", "amber", "red"} and states


def test_a_service_page_has_golden_signals_owner_logs_traces_and_dependencies(
    page: Page, site: Site
) -> None:
    service = site.runtime.catalog.get_service("checkout")
    page.goto("/services/checkout")
    signals = page.get_by_test_id("golden-signals")
    expect(signals.locator("[data-panel=traffic] canvas").first).to_be_visible()
    expect(signals.locator("[data-panel=latency] canvas").first).to_be_visible()
    expect(signals.locator("[data-testid=event-marker][data-kind=deploy]").first).to_be_attached()
    team = site.runtime.catalog.get_team(service.team) if service.team else None
    expect(page.get_by_test_id("owner")).to_have_text(team.display_name if team else "no team")
    expect(page.get_by_test_id("log-levels").locator("tr").first).to_be_visible()
    expect(page.get_by_test_id("slowest-traces").locator("a").first).to_be_visible()
    expect(page.get_by_test_id("dependencies").locator("a").first).to_be_visible()
    screenshot(page, "service")


def test_coverage_shows_every_service_by_the_five_levels(page: Page, site: Site) -> None:
    page.goto("/coverage")
    rows = page.get_by_test_id("coverage-row")
    expect(rows.first).to_be_visible()
    checkout = page.locator("[data-testid=coverage-row][data-service=checkout]")
    expect(checkout.locator("[data-level=application]")).to_have_attribute(
        "data-state", "reporting"
    )
    expect(checkout.locator("td[data-level]")).to_have_count(5)
    screenshot(page, "coverage")
