"""A ``logging.Handler`` that ships log records to Radiator through the client's batching.

```python
import logging
from radiator.sdk.logging import RadiatorHandler

logging.getLogger().addHandler(RadiatorHandler(level=logging.INFO))
```

Each record keeps its level (mapped onto DEBUG, INFO, WARN, ERROR, FATAL), message, logger
name, source location, exception (type, message, stack trace) and ``extra=`` fields; inside
a traced request (the middleware, or ``trace.span``) it carries the trace and span ids.
"""

from __future__ import annotations

import logging
import traceback

from radiator.core.types import LogLevel
from radiator.sdk.client import Client, get_client
from radiator.sdk.trace import current_trace

__all__ = ["RadiatorHandler", "level_of"]

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None)).keys()) | {
    "message",
    "asctime",
    "taskName",
}
_MAX_ATTRIBUTE = 8 * 1024


def level_of(levelno: int) -> LogLevel:
    """Radiator's level for a ``logging`` level number (custom levels round up)."""
    if levelno <= logging.DEBUG:
        return LogLevel.DEBUG
    if levelno <= logging.INFO:
        return LogLevel.INFO
    if levelno <= logging.WARNING:
        return LogLevel.WARN
    if levelno <= logging.ERROR:
        return LogLevel.ERROR
    return LogLevel.FATAL


def _plain(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text[:_MAX_ATTRIBUTE]


class RadiatorHandler(logging.Handler):
    """Ships records through ``client`` (the default client when None).

    The message is ``record.getMessage()``; set a formatter only if you want the formatted
    line instead. Records of the SDK's own loggers (``radiator.sdk``) are skipped, so its
    warnings about an unreachable server cannot loop back into it.
    """

    def __init__(self, level: int = logging.NOTSET, *, client: Client | None = None) -> None:
        super().__init__(level)
        self.client = client

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "radiator.sdk" or record.name.startswith("radiator.sdk."):
            return
        try:
            message = self.format(record) if self.formatter else record.getMessage()
            attributes: dict[str, object] = {
                "logger": record.name,
                "module": record.module,
                "function": record.funcName,
                "line": record.lineno,
                "thread": record.threadName,
            }
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                attributes["exception.type"] = type(exc).__qualname__
                attributes["exception.message"] = str(exc)[:_MAX_ATTRIBUTE]
                stack = "".join(traceback.format_exception(*record.exc_info))
                attributes["exception.stacktrace"] = stack[-4 * _MAX_ATTRIBUTE :]
            elif record.stack_info:
                attributes["stack"] = record.stack_info[-4 * _MAX_ATTRIBUTE :]
            for key, value in vars(record).items():
                if key not in _STANDARD and not key.startswith("_"):
                    attributes[key] = _plain(value)
            context = current_trace()
            (self.client or get_client()).log(
                level_of(record.levelno),
                message,
                attributes=attributes,
                trace_id=context.trace_id if context else "",
                span_id=context.span_id if context else "",
                time=record.created,
            )
        except Exception:
            self.handleError(record)
