"""Fixtures for the SDK tests: a client on a mock transport, and a clean default client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import radiator.sdk.client as client_module
from radiator.sdk import Client, MockTransport


@pytest.fixture
def transport() -> MockTransport:
    return MockTransport()


@pytest.fixture
def client(transport: MockTransport) -> Iterator[Client]:
    """A client that sends only when a test calls ``flush`` (its interval is an hour)."""
    sdk_client = Client(
        "http://radiator.invalid",
        "rad_test",
        service="checkout",
        environment="test",
        flush_interval=3600,
        transport=transport,
    )
    yield sdk_client
    sdk_client.close(timeout=1)


@pytest.fixture
def default_client(transport: MockTransport) -> Iterator[Client]:
    """``radiator.sdk.init`` on the mock transport; the default is forgotten afterwards."""
    sdk_client = client_module.init(
        "http://radiator.invalid",
        "rad_test",
        service="checkout",
        environment="test",
        flush_interval=3600,
        transport=transport,
    )
    yield sdk_client
    sdk_client.close(timeout=1)
    client_module._default = None
