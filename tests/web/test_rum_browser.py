"""``/rum.js`` in Debian's Chromium: a page on another origin reports its load and its errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Request, sync_playwright

from radiator.config import Settings
from radiator.core.telemetry import Signal
from radiator.identity import Scope
from radiator.runtime import Runtime
from sdk.live import live_server, metric_sum, wait_for_metric
from support import CHROMIUM, CHROMIUM_ARGS

from .support import TokenFactory

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <title>Shop</title>
  <script src="{radiator}/rum.js" data-key="{key}" data-service="shop-web"
          data-environment="test"></script>
</head>
<body>
  <h1>Order</h1>
  <p>Three pairs of socks.</p>
  <script>
    // A banner pushed in above the content after first paint: a layout shift.
    setTimeout(function () {{
      var banner = document.createElement("div");
      banner.style.height = "300px";
      banner.textContent = "Free shipping!";
      document.body.prepend(banner);
    }}, 300);
    function pay(order) {{ return order.total.amount; }}
    Promise.reject(new Error("payment provider rejected"));
    pay(undefined);
  </script>
</body>
</html>
"""


def shop_server(page: str) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture
def radiator_url(settings: Settings, runtime: Runtime) -> Iterator[str]:
    with live_server(settings, runtime, run_jobs=False) as url:
        yield url


def test_a_real_page_reports_its_load_and_its_javascript_errors(
    radiator_url: str, runtime: Runtime, token_for: TokenFactory, admin: str
) -> None:
    key = token_for(admin, Scope.INGEST)["Authorization"].removeprefix("Bearer ")
    httpd, shop = shop_server(PAGE.format(radiator=radiator_url, key=key))
    beacons: list[dict[str, Any]] = []

    def on_request(request: Request) -> None:
        if "/api/v1/rum" in request.url and request.method == "POST":
            beacons.append(json.loads(request.post_data or "{}"))

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on("request", on_request)
            page.goto(f"{shop}/shop/orders/88121")
            tags = {"service": "shop-web", "page": "/shop/orders/:id", "environment": "test"}
            assert wait_for_metric(runtime, "browser.js_errors", flush=True, **tags) == 2
            assert wait_for_metric(runtime, "browser.page_views", flush=True, **tags) == 1
            browser.close()
    finally:
        httpd.shutdown()
        httpd.server_close()

    assert metric_sum(runtime, "browser.page_views", browser="Chrome Headless", **tags) == 1
    assert metric_sum(runtime, "browser.page_load_ms.count", **tags) == 1
    assert metric_sum(runtime, "browser.ttfb_ms.count", **tags) == 1
    assert metric_sum(runtime, "browser.dom_content_loaded_ms.count", **tags) == 1
    assert metric_sum(runtime, "browser.page_load_ms", le="+Inf", **tags) == 1
    deadline = time.monotonic() + 5
    while runtime.telemetry.count(Signal.LOGS) < 2 and time.monotonic() < deadline:
        runtime.ingest.flush()
        time.sleep(0.05)
    assert runtime.telemetry.count(Signal.LOGS) == 2

    errors = [error for beacon in beacons for error in beacon.get("errors", [])]
    by_kind = {error["kind"]: error for error in errors}
    assert by_kind["unhandledrejection"]["message"] == "payment provider rejected"
    assert "Error: payment provider rejected" in by_kind["unhandledrejection"]["stack"]
    thrown = by_kind["error"]
    assert "Cannot read properties of undefined" in thrown["message"]
    assert thrown["source"] == f"{shop}/shop/orders/88121"
    assert thrown["line"] > 0
    assert "at pay" in thrown["stack"]
    (load,) = [beacon["page_load"] for beacon in beacons if "page_load" in beacon]
    assert 0 < load["ttfb_ms"] <= load["dom_content_loaded_ms"] <= load["load_ms"]
    assert load["lcp_ms"] > 0
    assert load["cls"] > 0
    assert metric_sum(runtime, "browser.lcp_ms.count", **tags) == 1
    assert metric_sum(runtime, "browser.cls.count", **tags) == 1
    assert all(beacon["page"] == "/shop/orders/88121" for beacon in beacons)
