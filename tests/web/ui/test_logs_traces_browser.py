"""Logs, traces and events in Debian's Chromium: search, load more, a trace's waterfall from
a log line, the events timeline, and that telemetry text never runs as script."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from urllib.parse import quote_plus

import pytest
from playwright.sync_api import Page, expect

from radiator.core.types import LogLevel, LogRecord

from .conftest import HOSTILE_TITLE, Site, screenshot

pytestmark = pytest.mark.browser


def test_logging_in_shows_the_navigation_and_a_skip_link(page: Page, site: Site) -> None:
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Home", "Explore", "Logs", "Traces", "Events", "Radiator health"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Home", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_the_theme_toggle_switches_to_dark_and_is_remembered(page: Page, site: Site) -> None:
    page.goto("/events")
    before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.get_by_role("button", name="Switch between light and dark theme").click()
    theme = page.locator("html").get_attribute("data-theme")
    assert theme in {"dark", "light"}
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != before
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", theme)
    page.get_by_role("button", name="Switch between light and dark theme").click()


def test_log_search_filters_by_text_and_level_and_loads_older_lines(page: Page, site: Site) -> None:
    page.goto("/logs")
    rows = page.get_by_test_id("log-row")
    expect(rows.first).to_be_visible()
    assert rows.count() == 100
    page.get_by_test_id("load-more").click()
    expect(rows).to_have_count(200)

    page.get_by_label("Level at least").select_option("ERROR")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"min_level=ERROR"))
    expect(rows.first).to_be_visible()
    levels = set(page.locator("[data-testid=log-row] .level").all_inner_texts())
    assert levels and levels <= {"ERROR", "FATAL"}
    assert "log-ERROR" in (rows.first.get_attribute("class") or "")

    message = rows.first.locator("td.message").inner_text().splitlines()[0]
    word = max(message.split(), key=len)
    page.get_by_label("Level at least").select_option("")
    page.get_by_test_id("log-text").fill(word)
    page.get_by_test_id("log-text").press("Enter")
    page.wait_for_url(re.compile("q=" + re.escape(quote_plus(word))))
    expect(rows.first).to_be_visible()
    texts = page.locator("[data-testid=log-row] td.message").all_inner_texts()
    assert texts and all(word.lower() in t.lower() for t in texts)
    screenshot(page, "logs")


def test_a_log_line_opens_its_trace_as_a_waterfall_with_span_details_and_logs(
    page: Page, site: Site
) -> None:
    page.goto("/logs?min_level=ERROR")
    link = page.get_by_test_id("trace-link").first
    trace_id = (link.get_attribute("href") or "").rsplit("/", 1)[-1]
    link.click()
    page.wait_for_url(f"**/traces/{trace_id}")
    spans = page.get_by_test_id("span")
    expect(spans.first).to_be_visible()
    stored = site.runtime.telemetry
    assert spans.count() >= 2, f"trace {trace_id} has {spans.count()} spans ({stored})"
    # Nested: a child's row is indented further than the root's.
    depths = [int(s.get_attribute("style").split(":")[1]) for s in spans.all()]
    assert depths[0] == 0 and max(depths) >= 1
    expect(page.locator(".span-bar.error").first).to_be_visible()
    expect(page.get_by_test_id("trace-log-row").first).to_be_visible()

    detail = spans.nth(1).get_by_test_id("span-detail")
    expect(detail).to_be_hidden()
    spans.nth(1).locator("summary").focus()
    page.keyboard.press("Enter")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("Span id")
    screenshot(page, "trace")


def test_span_search_lists_slow_error_spans_of_a_service(page: Page, site: Site) -> None:
    page.goto("/traces")
    page.get_by_label("Service").select_option("checkout")
    page.get_by_label("Status").select_option("error")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"status=error"))
    rows = page.get_by_test_id("span-row")
    expect(rows.first).to_be_visible()
    for row in rows.all()[:20]:
        assert "checkout" in row.inner_text()
        expect(row.locator(".status-error")).to_be_visible()
    screenshot(page, "traces")


def test_the_events_timeline_filters_by_kind_and_escapes_event_text(page: Page, site: Site) -> None:
    page.goto("/events")
    page.get_by_label("deploy").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"kind=deploy"))
    rows = page.get_by_test_id("event-row")
    expect(rows.first).to_be_visible()
    kinds = set(page.locator("[data-testid=event-row] .kind").all_inner_texts())
    assert kinds == {"deploy"}
    hostile = rows.filter(has_text="mallory")
    expect(hostile.locator("strong")).to_have_text(HOSTILE_TITLE)
    assert page.evaluate("window.__pwned") is None
    # A javascript: link from telemetry is shown as text, never as a link.
    expect(hostile.get_by_role("link")).to_have_count(1)
    expect(hostile.get_by_role("link")).to_have_attribute(
        "href", "https://git.example.com/acme/checkout"
    )
    page.goto("/events")
    screenshot(page, "events")


def test_live_tail_prepends_new_lines_as_they_are_stored(page: Page, site: Site) -> None:
    page.goto("/logs?service=checkout")
    page.get_by_test_id("tail-toggle").click()
    expect(page.get_by_test_id("tail-toggle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#tail-status")).to_contain_text("Live")
    message = f"tail check {uuid.uuid4().hex[:8]} <b onmouseover=alert(1)>bold</b>"
    record = LogRecord(
        time=datetime.now(UTC),
        service="checkout",
        level=LogLevel.WARN,
        message=message,
        attributes={"host": "checkout-01"},
        trace_id="0af7651916cd43dd8448eb211c80319c",
    )
    site.demo.ctx.append_logs([record])
    row = page.get_by_test_id("log-row").first
    expect(row.locator("td.message")).to_contain_text(message)
    expect(row.locator("td.message b")).to_have_text("host")  # the attribute key, not the payload
    expect(row.locator(".level")).to_have_text("WARN")
    expect(row.get_by_test_id("trace-link")).to_have_attribute(
        "href", "/traces/0af7651916cd43dd8448eb211c80319c"
    )
    page.get_by_test_id("tail-toggle").click()
    expect(page.get_by_test_id("tail-toggle")).to_have_attribute("aria-pressed", "false")
