"""The "On call" page and acknowledging a page by its link, in a real headless Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from notify.servers import Receiver
from radiator.config import Settings
from radiator.oncall import (
    EscalationPolicyCreate,
    EscalationStep,
    Override,
    Participant,
    ScheduleCreate,
)
from radiator.runtime import Runtime
from sdk.live import live_server
from support import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "oncall.png"


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(
    settings: Settings, runtime: Runtime, people: dict[str, str], checkout: str, hook: str
) -> Iterator[str]:
    today = datetime.now(UTC).date()
    soon = datetime.now(UTC) + timedelta(days=2)
    runtime.oncall.create_schedule(
        ScheduleCreate(
            name="payments-primary",
            time_zone="Europe/Berlin",
            rotation="daily",
            start_date=today - timedelta(days=10),
            participants=[
                Participant(user="ana", discipline="development"),
                Participant(user="ben", discipline="operations"),
            ],
            overrides=[Override(user=None, start=soon, end=soon + timedelta(hours=6))],
        )
    )
    runtime.oncall.create_schedule(
        ScheduleCreate(
            name="ops-only",
            start_date=today,
            participants=[Participant(user="dee", discipline="operations")],
        )
    )
    runtime.oncall.create_policy(
        EscalationPolicyCreate(
            name="payments",
            steps=[EscalationStep(target_type="schedule", target="payments-primary")],
            services=[checkout],
            channels=[hook],
        )
    )
    with live_server(settings, runtime, run_jobs=False) as url:
        yield url


def test_oncall_page_and_acknowledging_by_link(
    browser: Browser, site: str, runtime: Runtime, receiver: Receiver
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=site)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto("/oncall")
    tab.get_by_label("Username").fill("cai")
    tab.get_by_label("Password").fill("a long enough password")
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(f"{site}/oncall")

    row = tab.locator('[data-service="checkout"]')
    on_call = runtime.oncall.oncall_now("checkout")[0].oncall
    assert on_call is not None and on_call.display_name
    expect(row).to_contain_text(on_call.display_name)
    expect(row).to_contain_text(str(on_call.discipline))
    expect(tab.locator('[data-schedule="ops-only"] [data-testid="not-shared"]')).to_be_visible()
    expect(tab.locator('[data-schedule="payments-primary"]')).to_contain_text("gap")
    runtime.oncall.page("checkout", "card payments failing", "declines at 30 %")
    tab.reload()
    expect(tab.get_by_test_id("open-pages")).to_contain_text("card payments failing")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOT), full_page=True)

    link = json.loads(receiver.requests[0].body)["link"]
    anonymous = browser.new_context(base_url=site).new_page()
    anonymous.goto(link[link.index("/ack/") :])
    expect(anonymous.get_by_test_id("page-status")).to_have_text("triggered")
    anonymous.get_by_role("button", name="Acknowledge").click()
    expect(anonymous.get_by_test_id("page-status")).to_have_text("acknowledged")
    assert runtime.oncall.list_pages()[0].acknowledged_by == on_call.user
    assert not errors
    context.close()
