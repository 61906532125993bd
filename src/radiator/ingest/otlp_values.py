"""OTLP attribute values and resources, turned into Radiator's tags and attributes.

One ``Origin`` is built per resource and instrumentation scope and shared by every item
under it, so the per-item work is only the item's own attributes.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

__all__ = [
    "MAX_RESOURCE_TAGS",
    "SERVICE_ATTRIBUTE",
    "Origin",
    "any_value",
    "attributes_of",
    "is_tag_attribute",
    "origin_of",
    "tag_text",
    "tags_of",
]

SERVICE_ATTRIBUTE = "service.name"
ENVIRONMENT_ATTRIBUTES = ("deployment.environment.name", "deployment.environment")
# Resource and scope attributes that never become metric tags: they describe one process
# (a new value per restart would start new series) or the SDK rather than what is measured.
# Logs and spans keep them as attributes.
_UNTAGGED_PREFIXES = ("telemetry.", "process.")
_UNTAGGED = frozenset({"service.instance.id", "os.description", "os.build_id", "host.id"})
MAX_RESOURCE_TAGS = 32  # resource + scope tags per point, beyond which the rest are dropped
_MAX_RESOURCE_TAG_LEN = 256  # longer resource values are not tags (they describe, not name)
_MAX_DEPTH = 32


def any_value(value: AnyValue, depth: int = 0) -> Any:
    """The JSON value of an OTLP ``AnyValue`` (bytes as base64, nested lists and maps)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        number = value.double_value
        return number if math.isfinite(number) else str(number)
    if which == "bool_value":
        return value.bool_value
    if depth >= _MAX_DEPTH:
        return None
    if which == "array_value":
        return [any_value(item, depth + 1) for item in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: any_value(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def tag_text(value: AnyValue) -> str:
    """An ``AnyValue`` as tag text: strings as is, numbers and booleans as JSON, nested
    values as compact JSON."""
    text = value.string_value
    if text:
        return text
    which = value.WhichOneof("value")
    if which is None or which == "string_value":
        return ""
    if which == "bool_value":
        return "true" if value.bool_value else "false"
    if which == "int_value":
        return str(value.int_value)
    if which == "double_value":
        return repr(value.double_value)
    rendered = any_value(value)
    return rendered if isinstance(rendered, str) else orjson.dumps(rendered).decode()


def tags_of(attributes: Iterable[KeyValue]) -> dict[str, str]:
    return {kv.key: tag_text(kv.value) for kv in attributes}


def attributes_of(attributes: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in attributes}


def is_tag_attribute(key: str, value: str) -> bool:
    """Whether a resource or scope attribute becomes a metric tag (see the module's list)."""
    return (
        bool(value)
        and len(value) <= _MAX_RESOURCE_TAG_LEN
        and key not in _UNTAGGED
        and not key.startswith(_UNTAGGED_PREFIXES)
        and key != SERVICE_ATTRIBUTE
        and key not in ENVIRONMENT_ATTRIBUTES
    )


@dataclass(frozen=True, slots=True)
class Origin:
    """Where items come from: one resource and instrumentation scope.

    ``tags`` are the metric tags every point under it carries (``service``, ``environment``
    and the bounded rest); ``fixed`` are the tags point attributes may not override;
    ``attributes`` are the resource and scope attributes logs and spans carry; ``scope`` tells
    identically named streams of different scopes apart.
    """

    service: str = ""
    environment: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    scope: str = ""


def origin_of(resource: Resource, scope: InstrumentationScope) -> Origin:
    resource_tags = tags_of(resource.attributes)
    service = resource_tags.get(SERVICE_ATTRIBUTE, "")
    environment = next(
        (resource_tags[key] for key in ENVIRONMENT_ATTRIBUTES if resource_tags.get(key)), ""
    )
    tags: dict[str, str] = {}
    for key, value in [*sorted(resource_tags.items()), *tags_of(scope.attributes).items()]:
        if len(tags) < MAX_RESOURCE_TAGS and is_tag_attribute(key, value):
            tags[key] = value
    fixed = {}
    if service:
        fixed["service"] = service
    if environment:
        fixed["environment"] = environment
    tags.update(fixed)

    attributes = attributes_of(resource.attributes)
    attributes.pop(SERVICE_ATTRIBUTE, None)
    if scope.name:
        attributes["otel.scope.name"] = scope.name
    if scope.version:
        attributes["otel.scope.version"] = scope.version
    attributes.update(attributes_of(scope.attributes))
    return Origin(
        service=service,
        environment=environment,
        tags=tags,
        fixed=fixed,
        attributes=attributes,
        scope=f"{scope.name}\x1f{scope.version}",
    )
