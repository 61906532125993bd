"""Explore in Debian's Chromium against the real query API: a chart with the change overlay,
hovering a deploy marker, hiding the markers, zooming by dragging, completion and errors."""

from __future__ import annotations

import itertools
import re
import time
import uuid
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Page, expect

from radiator.core.caller import SYSTEM
from radiator.identity import ApiTokenCreate, Scope
from radiator.sdk import Client

from .conftest import HOSTILE_TITLE, Site, screenshot

pytestmark = pytest.mark.browser

EXPR = "sum by (service) (rate(http.server.requests[5m]))"


def open_explore(page: Page, expr: str = EXPR, start: str = "now-1h") -> None:
    page.goto(f"/explore?expr={quote(expr)}&start={start}&end=now")
    expect(page.locator("[data-testid=chart] canvas").first).to_be_visible()


def test_a_query_draws_a_chart_and_a_table_of_last_values(page: Page, site: Site) -> None:
    open_explore(page)
    services = {s.name for s in site.runtime.catalog.list_services()}
    rows = page.get_by_test_id("series-row")
    expect(rows).to_have_count(len(services))
    labels = " ".join(rows.locator("td.mono").all_inner_texts())
    assert all(f'service="{name}"' in labels for name in services)
    lasts = rows.locator("td.num").first.inner_text()
    assert lasts not in {"", "—"}


def test_hovering_a_deploy_marker_shows_what_who_when_and_links(page: Page, site: Site) -> None:
    open_explore(page)
    markers = page.locator("[data-testid=event-marker][data-kind=deploy]:visible")
    expect(markers.first).to_be_visible()
    hostile = page.locator("[data-testid=event-marker][aria-label*='window.__pwned']")
    expect(hostile).to_have_count(1)
    hostile.hover()
    tip = page.get_by_test_id("event-tip")
    expect(tip).to_be_visible()
    # Events closer together than a marker's width share one marker; the tooltip lists each.
    entries = tip.locator(".tip-event")
    expect(entries).to_have_count(int(hostile.get_attribute("data-count") or "0"))
    entry = entries.filter(has_text="mallory")
    expect(entry.locator(".tip-title")).to_have_text(HOSTILE_TITLE)
    expect(entry.locator(".kind")).to_have_text("deploy")
    expect(entry).to_contain_text("checkout · production · by mallory")
    expect(entry).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"))
    hrefs = [a.get_attribute("href") or "" for a in entry.get_by_role("link").all()]
    assert hrefs[0].startswith("/events?kind=deploy&service=checkout")
    assert hrefs[1:] == ["https://git.example.com/acme/checkout"]
    all_hrefs = [a.get_attribute("href") or "" for a in tip.get_by_role("link").all()]
    assert not any(h.startswith("javascript:") for h in all_hrefs)
    assert page.evaluate("window.__pwned") is None
    screenshot(page, "explore")

    entry.get_by_role("link", name="Open in Events").click()
    page.wait_for_url(re.compile(r"/events\?kind=deploy"))
    expect(page.get_by_test_id("event-row").filter(has_text="mallory")).to_have_count(1)


def test_no_marker_hides_another(page: Page, site: Site) -> None:
    open_explore(page)
    markers = page.locator("[data-testid=event-marker]:visible")
    expect(markers.first).to_be_visible()
    boxes = [m.bounding_box() for m in markers.all()]
    centres = sorted(box["x"] + box["width"] / 2 for box in boxes if box)
    assert all(b - a >= 13.5 for a, b in itertools.pairwise(centres)), centres
    counts = sum(int(m.get_attribute("data-count") or "0") for m in markers.all())
    assert counts == int(re.findall(r"\d+", page.get_by_text("Show changes").inner_text())[0])


def test_markers_are_keyboard_reachable_and_the_toggle_hides_them(page: Page, site: Site) -> None:
    open_explore(page)
    marker = page.locator("[data-testid=event-marker]:visible").first
    marker.focus()
    expect(page.get_by_test_id("event-tip")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("event-tip")).to_have_count(0)
    toggle = page.get_by_test_id("events-toggle")
    toggle.uncheck()
    expect(page.locator("[data-testid=event-marker]:visible")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("events-toggle")).not_to_be_checked()
    page.get_by_test_id("events-toggle").check()
    expect(page.locator("[data-testid=event-marker]:visible").first).to_be_visible()


def test_dragging_across_the_chart_zooms_into_that_range(page: Page, site: Site) -> None:
    open_explore(page)
    box = page.locator("[data-testid=chart] .u-over").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] * 0.6
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=8)
    page.mouse.up()
    page.wait_for_url(re.compile(r"start=\d{4}-"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["expr"] == [EXPR]
    assert query["start"][0] < query["end"][0]
    expect(page.locator("#explore-form input[name=start]")).to_have_value(query["start"][0])
    expect(page.locator("[data-testid=chart] canvas").first).to_be_visible()
    page.go_back()
    expect(page.locator("#explore-form input[name=start]")).to_have_value("now-1h")


def test_metric_and_tag_names_and_values_complete_and_ctrl_enter_runs_the_query(
    page: Page, site: Site
) -> None:
    page.goto("/explore")
    editor = page.get_by_test_id("expr")
    editor.focus()
    page.keyboard.type("http.server.r")
    options = page.get_by_role("option")
    expect(options.filter(has_text="http.server.requests")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(editor).to_have_value("http.server.requests")
    page.keyboard.type("{ser")
    expect(options.filter(has_text="service")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type('="check')
    expect(page.get_by_role("listbox", name="Values of service")).to_be_visible()
    expect(options).to_have_text(["checkout"])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.type('"}')
    expect(editor).to_have_value('http.server.requests{service="checkout"}')
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"expr=http.server.requests"))
    rows = page.get_by_test_id("series-row")
    expect(rows.first).to_be_visible()
    assert all('service="checkout"' in text for text in rows.all_inner_texts())


def test_a_bad_query_says_where_it_is_wrong(page: Page, site: Site) -> None:
    page.goto("/explore")
    page.get_by_test_id("expr").fill("sum(rate(http.server.requests[5m])")
    page.get_by_test_id("run").click()
    error = page.get_by_test_id("query-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("column")


def test_add_to_dashboard_posts_the_query_to_the_dashboards_hook(page: Page, site: Site) -> None:
    open_explore(page)
    form = page.get_by_test_id("add-panel")
    assert form.get_attribute("action") == "/dashboards/add-panel"
    assert form.get_attribute("method") == "post"
    expect(form.locator("input[name=expr]")).to_have_value(EXPR)
    expect(form.locator("input[name=start]")).to_have_value("now-1h")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    expect(form.locator("input[name=csrf_token]")).to_have_value(token or "missing")


def test_a_metric_sent_for_the_first_time_through_the_sdk_is_findable_in_explore(
    page: Page, site: Site
) -> None:
    data = ApiTokenCreate(name=f"ui-{uuid.uuid4().hex[:6]}", scopes=[Scope.INGEST])
    token = site.runtime.identity.create_token(site.demo.admin_username, data, SYSTEM).secret
    name = f"signup.first_try_{uuid.uuid4().hex[:6]}"
    page.goto("/explore")
    editor = page.get_by_test_id("expr")
    client = Client(site.url, token, service="checkout", flush_interval=0.1)
    try:
        client.count(name, tags={"plan": "pro"})
        assert client.flush()
    finally:
        client.close()
    option = page.get_by_role("option", name=name)
    deadline = time.monotonic() + 30
    while not option.count() and time.monotonic() < deadline:
        editor.fill("")
        editor.focus()
        page.keyboard.type("signup.first_try_")
        page.wait_for_timeout(500)
    option.click()
    expect(editor).to_have_value(name)
    # The range ends on a step boundary, so a point newer than the last step shows on a
    # later run: run again, as a user would, until the series is there.
    row = page.get_by_test_id("series-row")
    while time.monotonic() < deadline:
        page.keyboard.press("Control+Enter")
        try:
            expect(row).to_have_count(1, timeout=1000)
            break
        except AssertionError:
            continue
    expect(row).to_have_count(1)
    expect(row).to_contain_text('plan="pro"')
