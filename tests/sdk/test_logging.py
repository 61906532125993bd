"""``RadiatorHandler``: log records through the client, with levels, exceptions and trace ids."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from radiator.sdk import Client, MockTransport, span
from radiator.sdk.logging import RadiatorHandler, level_of


@pytest.fixture
def logger(client: Client) -> Iterator[logging.Logger]:
    log = logging.getLogger("shop.checkout")
    handler = RadiatorHandler(client=client)
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    yield log
    log.removeHandler(handler)


@pytest.mark.parametrize(
    ("levelno", "expected"),
    [
        (logging.DEBUG, "DEBUG"),
        (5, "DEBUG"),
        (logging.INFO, "INFO"),
        (logging.WARNING, "WARN"),
        (25, "WARN"),
        (logging.ERROR, "ERROR"),
        (logging.CRITICAL, "FATAL"),
    ],
)
def test_levels_map_onto_radiators_five(levelno: int, expected: str) -> None:
    assert level_of(levelno) == expected


def test_a_record_arrives_with_level_message_logger_and_extra_fields(
    logger: logging.Logger, client: Client, transport: MockTransport
) -> None:
    logger.warning("card %s declined", "visa", extra={"order_id": 42, "obj": object()})
    client.flush()

    (log,) = transport.items("logs")
    assert log["level"] == "WARN"
    assert log["message"] == "card visa declined"
    assert log["service"] == "checkout"
    attributes = log["attributes"]
    assert attributes["logger"] == "shop.checkout"
    assert (
        attributes["function"] == "test_a_record_arrives_with_level_message_logger_and_extra_fields"
    )
    assert attributes["order_id"] == 42
    assert attributes["obj"].startswith("<object")
    assert (log["trace_id"], log["span_id"]) == ("", "")


def test_exception_info_is_kept(
    logger: logging.Logger, client: Client, transport: MockTransport
) -> None:
    try:
        {}["missing"]
    except KeyError:
        logger.exception("lookup failed")
    client.flush()

    (log,) = transport.items("logs")
    assert log["level"] == "ERROR"
    assert log["attributes"]["exception.type"] == "KeyError"
    assert log["attributes"]["exception.message"] == "'missing'"
    assert "Traceback" in log["attributes"]["exception.stacktrace"]


def test_records_inside_a_trace_carry_its_ids(
    logger: logging.Logger, client: Client, transport: MockTransport
) -> None:
    with span("charge card", client=client) as context:
        logger.info("charging")
    client.flush()

    (log,) = transport.items("logs")
    assert (log["trace_id"], log["span_id"]) == (context.trace_id, context.span_id)
    (sent,) = transport.items("spans")
    assert sent["span_id"] == context.span_id


def test_the_sdks_own_warnings_do_not_loop_back(client: Client, transport: MockTransport) -> None:
    root = logging.getLogger()
    handler = RadiatorHandler(client=client)
    root.addHandler(handler)
    try:
        logging.getLogger("radiator.sdk").warning("server unreachable")
        logging.getLogger("app").warning("kept")
    finally:
        root.removeHandler(handler)
    client.flush()

    assert [log["message"] for log in transport.items("logs")] == ["kept"]


def test_a_handler_without_client_uses_the_default(
    default_client: Client, transport: MockTransport
) -> None:
    log = logging.getLogger("uses.default")
    log.setLevel(logging.DEBUG)
    handler = RadiatorHandler(level=logging.INFO)
    log.addHandler(handler)
    try:
        log.debug("filtered by the handler level")
        log.info("sent")
    finally:
        log.removeHandler(handler)
    default_client.flush()

    assert [entry["message"] for entry in transport.items("logs")] == ["sent"]
