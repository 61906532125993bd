"""Helpers shared by tests that run real processes and browsers (importable as ``support``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
# Flags that keep Chromium from reaching out to the network this machine does not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


RADIATOR = str(Path(sys.executable).with_name("radiator"))


def serve_env(data_dir: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of a `radiator serve` subprocess: this process's, minus any config
    file, with a data directory, an HTTP port, StatsD off, and ``RADIATOR_<NAME>`` for each
    of ``settings`` (``statsd_port="8126"`` turns StatsD back on)."""
    env = {
        **os.environ,
        "RADIATOR_DATA_DIR": str(data_dir),
        "RADIATOR_PORT": str(port),
        "RADIATOR_STATSD_PORT": "0",
    }
    env.pop("RADIATOR_CONFIG", None)
    env.update({f"RADIATOR_{name.upper()}": value for name, value in settings.items()})
    return env


def wait_healthy(base: str, process: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Poll ``base``/healthz until it answers 200; fail if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited early with {process.returncode}"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{base} did not answer within {timeout}s")


def start_serve(env: dict[str, str], cwd: Path, *, capture: bool = True) -> subprocess.Popen[str]:
    """Start `radiator serve` with ``env``; its output is captured as text (stdout and stderr
    together) or discarded. The caller waits for it (``wait_healthy``) and stops it."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [RADIATOR, "serve"],
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if capture else subprocess.DEVNULL,
        text=True,
    )
