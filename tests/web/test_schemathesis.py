"""Property-based run of the whole HTTP API against its own OpenAPI document.

Schemathesis generates requests from the app's OpenAPI document and sends them in-process
(ASGI transport) with an admin token; every response must be a non-5xx that the document
describes: status code, content type, headers and body schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from radiator.config import Settings
from radiator.web import create_app

# The document does not depend on the stores, so it is read from an app that never starts;
# each generated request goes to the test's own app (fresh stores, an admin token).
schema = schemathesis.openapi.from_dict(
    create_app(Settings(telemetry_path=":memory:"), run_jobs=False).openapi()
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    allow_header_conformance,
]


@pytest.fixture
def served_app(app: FastAPI) -> Iterator[FastAPI]:
    yield app
    # Schemathesis keeps an app's lifespan running until interpreter exit; end it while the
    # runtime it flushes into is still open.
    asgi.shutdown_lifespans()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_answers_every_generated_request_within_its_schema(
    case: schemathesis.Case[Any], served_app: FastAPI, admin_headers: dict[str, str]
) -> None:
    case.call_and_validate(app=served_app, headers=admin_headers, checks=CHECKS)
