"""Dashboards in Debian's Chromium: built-in ones draw, a panel is built in the UI, Explore
adds a panel in two clicks, and a TV link shows dashboards without a login until revoked."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import Site, screenshot

pytestmark = pytest.mark.browser


def new_dashboard(page: Page) -> str:
    slug = f"team-{uuid.uuid4().hex[:6]}"
    page.goto("/dashboards")
    form = page.get_by_test_id("new-dashboard")
    form.get_by_label("Title").fill(f"Team board {slug}")
    form.get_by_label("Slug").fill(slug)
    form.get_by_role("button", name="Create").click()
    page.wait_for_url(f"**/dashboards/{slug}?*")
    return slug


def test_the_service_overview_draws_golden_signals_for_a_chosen_service(
    page: Page, site: Site
) -> None:
    page.goto("/dashboards/service-overview?var-service=checkout&start=now-1h&end=now")
    panels = page.get_by_test_id("panel")
    expect(panels).to_have_count(5)
    traffic = page.locator("[data-panel=traffic]")
    expect(traffic.locator("canvas").first).to_be_visible()
    expect(page.locator("[data-variable=service]")).to_have_value("checkout")
    # Deploys of checkout are overlaid on its charts.
    expect(traffic.locator("[data-testid=event-marker][data-kind=deploy]").first).to_be_attached()
    screenshot(page, "dashboard")


def test_building_a_panel_in_the_ui_saves_it_and_keeps_the_view_in_the_url(page: Page) -> None:
    new_dashboard(page)
    page.get_by_test_id("add-panel-button").click()
    editor = page.get_by_test_id("panel-editor")
    editor.get_by_label("Title").fill("Requests by service")
    page.get_by_test_id("panel-expr").fill("sum by (service) (rate(http.server.requests[5m]))")
    page.get_by_test_id("panel-save").click()
    panel = page.locator("[data-panel=requests-by-service]")
    expect(panel.locator("canvas").first).to_be_visible()
    # Move it right and make it wider with the keyboard-reachable tools.
    panel.get_by_role("button", name="Move or resize Requests by service: wider").click()
    expect(page.locator("#dash-status")).to_contain_text("Saved (version 3)")
    page.get_by_role("button", name="24h").click()
    expect(page).to_have_url(re.compile(r"start=now-24h"))
    page.reload()
    saved = page.locator("[data-panel=requests-by-service]")
    expect(saved.locator("canvas").first).to_be_visible()
    assert "span 7" in (saved.get_attribute("style") or "")
    expect(page.locator("#range-start")).to_have_value("now-24h")


def test_a_bad_query_in_the_panel_editor_is_refused_with_its_column(page: Page) -> None:
    new_dashboard(page)
    page.get_by_test_id("add-panel-button").click()
    page.get_by_test_id("panel-editor").get_by_label("Title").fill("Broken")
    page.get_by_test_id("panel-expr").fill("sum(rate(x[5m])")
    page.get_by_test_id("panel-save").click()
    expect(page.locator("#editor-error")).to_contain_text("column")
    expect(page.get_by_test_id("panel")).to_have_count(0)


def test_explore_adds_a_panel_to_a_dashboard_in_two_clicks(page: Page) -> None:
    slug = new_dashboard(page)
    expr = "sum(rate(http.server.requests[5m]))"
    page.goto(f"/explore?expr={quote(expr)}&start=now-1h&end=now")
    page.get_by_test_id("add-panel").get_by_role("button", name="Add to dashboard").click()
    page.get_by_test_id("choose-dashboard").get_by_role("button", name=f"Team board {slug}").click()
    page.wait_for_url(f"**/dashboards/{slug}?*")
    expect(page.get_by_test_id("panel").locator("canvas").first).to_be_visible()


def test_a_tv_link_shows_dashboards_full_screen_without_login_until_revoked(
    page: Page, browser: Browser, site: Site
) -> None:
    page.goto("/dashboards")
    form = page.get_by_test_id("new-kiosk")
    form.get_by_label("Name").fill("Lobby TV")
    form.get_by_label("Radiator health").check()
    form.get_by_label("Service overview").check()
    form.get_by_role("button", name="Create TV link").click()
    url = page.get_by_test_id("kiosk-url").locator("a").get_attribute("href")
    assert url and url.startswith("/tv/kiosk_")

    tv = browser.new_context(viewport={"width": 1920, "height": 1080}, base_url=site.url)
    screen = tv.new_page()
    screen.goto(url)
    expect(screen.get_by_test_id("tv")).to_be_visible()
    expect(screen.locator("#tv-title")).to_contain_text("Radiator health")
    expect(screen.get_by_test_id("panel").first).to_be_visible()
    assert screen.evaluate("document.documentElement.getAttribute('data-theme')") == "dark"
    screenshot(screen, "tv")

    page.goto("/dashboards")
    page.get_by_role("row", name="Lobby TV").get_by_role("button", name="Revoke").click()
    response = screen.goto(url)
    assert response is not None and response.status == 404
    tv.close()
