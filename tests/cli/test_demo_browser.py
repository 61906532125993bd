"""`radiator demo` end to end: a real process, a real socket and Debian's Chromium."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from support import CHROMIUM, CHROMIUM_ARGS, free_port

RADIATOR = str(Path(sys.executable).with_name("radiator"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.browser


def _read_until(lines: queue.Queue[str], pattern: str, timeout: float, seen: list[str]) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match.group(1)
    raise AssertionError(f"no {pattern!r} within {timeout}s; output so far:\n" + "".join(seen))


def test_demo_shows_a_logged_in_home_radiator_with_live_services(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "400",
        "RADIATOR_DEMO_TICK_SECONDS": "1",
    }
    env.pop("RADIATOR_CONFIG", None)
    started = time.monotonic()
    process = subprocess.Popen(
        [
            RADIATOR,
            "demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
            "--history-hours",
            "1",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        url = _read_until(lines, r"(http://\S+/demo-login\?key=\S+)", 60, seen)
        token = _read_until(lines, r"Bearer (rad_[A-Za-z0-9_\-]+)", 10, seen)
        base = url.split("/demo-login")[0]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        ready_after = time.monotonic() - started

        services = httpx.get(
            f"{base}/api/v1/services", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert len(services) >= 4
        assert len({s["team"] for s in services}) >= 2

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(url)
            assert page.get_by_test_id("current-user").inner_text().startswith("demo")
            rows = page.get_by_test_id("service-row")
            assert rows.count() == len(services)
            assert "—" not in " ".join(rows.all_inner_texts()), "a service shows no traffic"
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=True)
            browser.close()
        assert ready_after < 60
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        stdout.close()
