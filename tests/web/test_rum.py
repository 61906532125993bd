"""Real-user monitoring: ``GET /rum.js`` and ``POST /api/v1/rum`` called directly."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from radiator.core.telemetry import Aggregation, BucketQuery, Signal
from radiator.core.types import TimeRange
from radiator.identity import Scope
from radiator.ingest import BatchBuilder
from radiator.runtime import Runtime
from radiator.web.routers.rum import (
    MAX_REPORT_BYTES,
    browser_family,
    build_report,
    decode_report,
    page_template,
)

from .support import TokenFactory

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
PAGE_LOAD = {
    "service": "shop-web",
    "environment": "production",
    "page": "/orders/8812",
    "page_load": {
        "ttfb_ms": 120.5,
        "dom_content_loaded_ms": 450,
        "load_ms": 300,
        "lcp_ms": 700,
        "cls": 0.02,
    },
}
JS_ERROR = {
    "service": "shop-web",
    "page": "/checkout",
    "errors": [
        {
            "kind": "error",
            "message": "TypeError: x is undefined",
            "source": "https://shop.example.com/app.js",
            "line": 12,
            "column": 7,
            "stack": "TypeError: x is undefined\n    at pay (app.js:12:7)",
        }
    ],
}


@pytest.fixture
def key(token_for: TokenFactory, admin: str) -> str:
    """The secret of a dedicated ingest-only token, as a page would embed it."""
    return token_for(admin, Scope.INGEST)["Authorization"].removeprefix("Bearer ")


def post(client: TestClient, key: str, report: Any, **headers: str) -> Any:
    body = report if isinstance(report, bytes) else json.dumps(report).encode()
    # What sendBeacon sends for a string body: a CORS-safelisted content type.
    all_headers = {"Content-Type": "text/plain;charset=UTF-8", "User-Agent": CHROME, **headers}
    return client.post(f"/api/v1/rum?key={key}", content=body, headers=all_headers)


def metric_total(runtime: Runtime, name: str, **tags: str) -> float:
    runtime.ingest.flush()
    window = TimeRange.last(timedelta(minutes=5))
    query = BucketQuery(name, window, window.duration, Aggregation.SUM, tags=tags, group_by=())
    return sum(sum(series.values) for series in runtime.telemetry.query_buckets(query))


def test_the_script_is_served_as_javascript_and_loads_nothing_from_elsewhere(
    client: TestClient,
) -> None:
    response = client.get("/rum.js")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age" in response.headers["cache-control"]
    code = response.text
    assert "sendBeacon" in code
    assert "/api/v1/rum?key=" in code
    without_comments = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    assert not re.search(r"https?://", without_comments)
    assert "import " not in without_comments


def test_preflight_allows_any_origin_to_post(client: TestClient) -> None:
    response = client.options(
        "/api/v1/rum",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


def test_a_page_load_becomes_a_page_view_and_histograms(
    client: TestClient, runtime: Runtime, key: str
) -> None:
    response = post(client, key, PAGE_LOAD, Origin="https://shop.example.com")

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["rejected"] == 0
    tags = {"service": "shop-web", "page": "/orders/:id", "environment": "production"}
    assert metric_total(runtime, "browser.page_views", browser="Chrome", **tags) == 1
    # 300 ms lies within the 500 ms bucket and every larger one (cumulative, as deltas).
    assert metric_total(runtime, "browser.page_load_ms", le="250", **tags) == 0
    assert metric_total(runtime, "browser.page_load_ms", le="500", **tags) == 1
    assert metric_total(runtime, "browser.page_load_ms", le="+Inf", **tags) == 1
    assert metric_total(runtime, "browser.page_load_ms.sum", **tags) == 300
    assert metric_total(runtime, "browser.page_load_ms.count", **tags) == 1
    assert metric_total(runtime, "browser.ttfb_ms.sum", **tags) == 120.5
    assert metric_total(runtime, "browser.lcp_ms.count", **tags) == 1
    assert metric_total(runtime, "browser.cls", le="0.05", **tags) == 1
    assert metric_total(runtime, "browser.cls", le="0.01", **tags) == 0


def test_javascript_errors_become_error_logs_and_a_counter(
    client: TestClient, runtime: Runtime, key: str
) -> None:
    response = post(client, key, JS_ERROR)

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 2
    assert metric_total(runtime, "browser.js_errors", page="/checkout") == 1
    assert runtime.telemetry.count(Signal.LOGS) == 1


def test_a_report_becomes_these_points_and_logs() -> None:
    builder = BatchBuilder(1_800_000_000_000_000)
    build_report(builder, decode_report(json.dumps(JS_ERROR).encode()), CHROME)

    (log,) = builder.tables()[Signal.LOGS].to_pylist()
    assert (log["level"], log["service"]) == ("ERROR", "shop-web")
    assert log["message"] == "TypeError: x is undefined"
    attributes = json.loads(log["attributes"])
    assert attributes == {
        "logger": "browser",
        "error.kind": "error",
        "source": "https://shop.example.com/app.js",
        "line": 12,
        "column": 7,
        "stack": "TypeError: x is undefined\n    at pay (app.js:12:7)",
        "page": "/checkout",
        "browser": "Chrome",
    }


def test_at_most_ten_errors_of_a_report_are_kept_and_long_text_is_cut() -> None:
    report = {
        "errors": [{"message": "m" * 5000, "stack": "s" * 9000} for _ in range(30)],
    }
    builder = BatchBuilder(1_800_000_000_000_000)
    build_report(builder, decode_report(json.dumps(report).encode()), "")

    logs = builder.tables()[Signal.LOGS].to_pylist()
    assert len(logs) == 10
    assert len(logs[0]["message"]) == 1000
    assert len(json.loads(logs[0]["attributes"])["stack"]) == 4000
    assert logs[0]["service"] == "browser"


def test_impossible_timings_are_rejected_one_by_one(
    client: TestClient, runtime: Runtime, key: str
) -> None:
    report = {"page": "/", "page_load": {"ttfb_ms": -5, "load_ms": 1e12, "lcp_ms": 900}}
    response = post(client, key, report)

    assert response.status_code == 200
    summary = response.json()
    assert summary["rejected"] == 2
    assert {e["reason"] for e in summary["errors"]} == {
        "ttfb_ms must be between 0 and 600000",
        "load_ms must be between 0 and 600000",
    }
    assert metric_total(runtime, "browser.lcp_ms.count") == 1


@pytest.mark.parametrize(
    ("query", "status"),
    [("", 401), ("?key=rad_not_a_real_token", 401)],
)
def test_reports_without_a_valid_key_are_refused_with_cors_headers(
    client: TestClient, runtime: Runtime, query: str, status: int
) -> None:
    response = client.post(f"/api/v1/rum{query}", content=json.dumps(PAGE_LOAD))

    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-type"] == "application/problem+json"
    assert runtime.telemetry.count(Signal.POINTS) == 0


def test_a_key_without_the_ingest_scope_is_forbidden(
    client: TestClient, token_for: TokenFactory, admin: str
) -> None:
    read_only = token_for(admin, Scope.READ)["Authorization"].removeprefix("Bearer ")
    response = post(client, read_only, PAGE_LOAD)

    assert response.status_code == 403
    assert "ingest" in response.json()["detail"]


def test_oversized_reports_are_refused(client: TestClient, key: str) -> None:
    report = {"errors": [{"message": "x" * MAX_REPORT_BYTES}]}

    assert post(client, key, report).status_code == 413


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not a browser report"),
        (b'{"page_load": {"ttfb_ms": "fast"}}', "page_load.ttfb_ms"),
        (json.dumps({"service": "shop web; drop table"}).encode(), "service must be"),
        (json.dumps({"environment": "x" * 65}).encode(), "environment must be"),
    ],
)
def test_malformed_reports_get_a_422_naming_the_problem(
    client: TestClient, key: str, body: bytes, reason: str
) -> None:
    response = post(client, key, body)

    assert response.status_code == 422
    assert reason in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/", "/"),
        ("", "/"),
        ("/orders/8812", "/orders/:id"),
        ("/users/3f2b8c1e-4a5d-4e6f-8a9b-0c1d2e3f4a5b/profile", "/users/:id/profile"),
        ("/commits/9f2c1e0a7b3d4c5e6f708192", "/commits/:id"),
        ("/t/AbCdEfGhIjKlMnOpQrSt12345", "/t/:id"),
        ("/blog/how-we-deploy-on-fridays", "/blog/how-we-deploy-on-fridays"),
        ("/search?q=secret#top", "/search"),
        ("/" + "a/" * 50, "/" + "a/" * 19 + "a"),
    ],
)
def test_page_paths_become_bounded_templates(path: str, template: str) -> None:
    assert page_template(path) == template


@pytest.mark.parametrize(
    ("user_agent", "family"),
    [
        (CHROME, "Chrome"),
        (CHROME.replace("Chrome/", "HeadlessChrome/"), "Chrome Headless"),
        (CHROME + " Edg/131.0.0.0", "Edge"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            "Safari",
        ),
        ("Googlebot/2.1 (+http://www.google.com/bot.html)", "bot"),
        ("curl/8.5.0", "other"),
    ],
)
def test_user_agents_are_reduced_to_a_family(user_agent: str, family: str) -> None:
    assert browser_family(user_agent) == family
