"""The Alerts page in a real headless Chromium: a firing alert is acknowledged and noted,
a backtest is run from the form, and the reports are shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from radiator.alerts import AlertState
from radiator.config import Settings
from radiator.identity import Role, UserCreate
from radiator.runtime import Runtime
from sdk.live import live_server
from support import CHROMIUM, CHROMIUM_ARGS

from .conftest import append_points, threshold_rule

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "alerts.png"
PASSWORD = "a long enough password"


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(settings: Settings, runtime: Runtime, checkout: str) -> Iterator[str]:
    runtime.identity.create_user(UserCreate(username="ana", password=PASSWORD, role=Role.EDITOR))
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    values = [1.0] * 100 + [9.0] * 10 + [1.0] * 30 + [9.0] * 21
    append_points(runtime, "cpu", values, now - timedelta(minutes=160), tags={"host": "a"})
    runtime.alerts.create_rule(
        threshold_rule(runbook_url="https://runbooks.example.com/cpu", for_seconds="2m")
    )
    runtime.alerts.evaluate(now - timedelta(minutes=5))
    runtime.alerts.evaluate(now)
    with live_server(settings, runtime, run_jobs=False) as url:
        yield url


def test_alerts_page_acknowledges_notes_and_backtests(
    browser: Browser, site: str, runtime: Runtime
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=site)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto("/alerts")
    tab.get_by_label("Username").fill("ana")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(f"{site}/alerts")

    alert = runtime.alerts.list_alerts(rule="cpu-high", states=[AlertState.FIRING])[0]
    row = tab.locator(f'[data-alert="{alert.id}"]')
    expect(row.get_by_test_id("alert-state")).to_have_text("firing")
    row.get_by_role("button", name="Acknowledge").click()
    row = tab.locator(f'[data-alert="{alert.id}"]')
    expect(row.get_by_test_id("alert-state")).to_have_text("acknowledged")
    row.get_by_label("Note").fill("rolling back")
    row.get_by_role("button", name="Add note").click()
    expect(tab.locator(f'[data-alert="{alert.id}"]')).to_contain_text("ana: rolling back")
    assert runtime.alerts.get_alert(alert.id).acknowledged_by == "ana"

    form = tab.get_by_test_id("backtest-form")
    form.get_by_label("Rule").select_option("cpu-high")
    form.get_by_label("From").fill("now-3h")
    form.get_by_role("button", name="Run backtest").click()
    expect(tab.get_by_test_id("backtest-firings")).to_have_text("2")
    expect(tab.get_by_test_id("weekly-report")).to_contain_text("cpu-high")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOT), full_page=True)
    tab.get_by_role("link", name="Compute the weak-signal report").click()
    expect(tab.get_by_test_id("weak-signals")).to_be_visible()
    assert not errors
    context.close()
