"""One Radiator with an hour of demo data, served on a real socket for the whole session,
and per test module one headless Debian Chromium logged in to it, shared by the UI tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from radiator.config import Settings
from radiator.core.types import Event, EventKind
from radiator.demo import DemoState, build_demo
from radiator.runtime import Runtime
from sdk.live import live_server
from support import CHROMIUM, CHROMIUM_ARGS

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
# An event whose text would run as script if any page rendered telemetry unescaped.
HOSTILE_TITLE = 'Deploy checkout <img src=x onerror="window.__pwned=1"> v9'


@dataclass(frozen=True, slots=True)
class Site:
    """The shared server: its URL, runtime, and the demo (admin login, organisation)."""

    url: str
    runtime: Runtime
    demo: DemoState


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("ui")
    settings = Settings(
        data_dir=directory / "data",
        telemetry_path=":memory:",
        session_cookie_secure=False,
        statsd_port=0,
    )
    runtime = Runtime(settings)
    try:
        demo = build_demo(runtime, history=timedelta(hours=1))
        demo.ctx.append_events(
            [
                Event(
                    kind=EventKind.DEPLOY,
                    title=HOSTILE_TITLE,
                    time=datetime.now(UTC) - timedelta(minutes=20),
                    service="checkout",
                    environment="production",
                    actor="mallory",
                    links=["javascript:alert(1)", "https://git.example.com/acme/checkout"],
                )
            ]
        )
        # Jobs run (ingest flushes, rollups) as in `radiator serve`; the demo feed does not.
        with live_server(settings, runtime, run_jobs=True) as url:
            yield Site(url, runtime, demo)
    finally:
        runtime.close()


# Playwright's sync API allows one instance per thread at a time: the browser lives for a
# module, so browser tests elsewhere can start their own between modules.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def logged_in(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    """A browser context holding a session of the demo admin, logged in through the form."""
    context = browser.new_context(viewport=VIEWPORT, base_url=site.url)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(site.demo.admin_username)
    page.get_by_label("Password").fill(site.demo.admin_password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{site.url}/")
    page.close()
    yield context
    context.close()


@pytest.fixture
def page(logged_in: BrowserContext) -> Iterator[Page]:
    tab = logged_in.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    tab.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page: Page, name: str) -> None:
    """Save the page as docs/screenshots/<name>.png (shown in docs/ui.md and the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
