"""Every page fits a 1280x800 laptop and a 1920x1080 TV without sideways scrolling, in the
light and the dark theme."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from .conftest import SCREENSHOTS, Site

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    f"/explore?expr={quote('sum by (service) (rate(http.server.requests[5m]))')}",
    "/logs",
    "/traces",
    "/events",
]


@pytest.mark.parametrize(("width", "height", "theme"), [(1280, 800, "light"), (1920, 1080, "dark")])
def test_pages_fit_the_screen_without_sideways_scrolling(
    browser: Browser, logged_in: BrowserContext, site: Site, width: int, height: int, theme: str
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=site.url,
        storage_state=logged_in.storage_state(),
        color_scheme=theme,  # type: ignore[arg-type]
    )
    try:
        page = context.new_page()
        for path in PAGES:
            page.goto(path)
            if path.startswith("/explore"):
                expect(page.locator("[data-testid=chart] canvas").first).to_be_visible()
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}x{height}"
            nav = page.get_by_role("navigation", name="Main").bounding_box()
            assert nav is not None and nav["height"] < 60, f"the navigation wraps at {width}"
        if theme == "dark":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "events-dark-tv.png"))
    finally:
        context.close()
