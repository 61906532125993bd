"""The protobuf messages of Prometheus remote write 1.0, built at import time without protoc.

They mirror ``prometheus/prompb`` (``types.proto`` and ``remote.proto``, package
``prometheus``) field for field where Radiator reads them: ``WriteRequest``,
``TimeSeries``, ``Label``, ``Sample``, ``Exemplar`` and ``MetricMetadata``. Native
histograms (``TimeSeries.histograms``) are declared only far enough to be counted and
refused; their other fields are kept by protobuf as unknown fields. The messages live in a
private descriptor pool, so another library that registers ``prometheus.*`` types in the
default pool cannot clash with them.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import (  # type: ignore[import-untyped,unused-ignore]
    descriptor_pb2,
    descriptor_pool,
    message_factory,
)
from google.protobuf.message import DecodeError  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "METRIC_TYPES",
    "DecodeError",
    "Exemplar",
    "Label",
    "MetricMetadata",
    "Sample",
    "TimeSeries",
    "WriteRequest",
]

_F = descriptor_pb2.FieldDescriptorProto
_PACKAGE = "prometheus"

# MetricMetadata.MetricType, by number, as Prometheus' exposition type names.
METRIC_TYPES = {
    0: "unknown",
    1: "counter",
    2: "gauge",
    3: "histogram",
    4: "gaugehistogram",
    5: "summary",
    6: "info",
    7: "stateset",
}

# (message, [(field, number, type, label, message type name)])
_REPEATED, _OPTIONAL = _F.LABEL_REPEATED, _F.LABEL_OPTIONAL
_MESSAGES: list[tuple[str, list[tuple[str, int, int, int, str]]]] = [
    (
        "Label",
        [("name", 1, _F.TYPE_STRING, _OPTIONAL, ""), ("value", 2, _F.TYPE_STRING, _OPTIONAL, "")],
    ),
    (
        "Sample",
        [
            ("value", 1, _F.TYPE_DOUBLE, _OPTIONAL, ""),
            ("timestamp", 2, _F.TYPE_INT64, _OPTIONAL, ""),
        ],
    ),
    (
        "Exemplar",
        [
            ("labels", 1, _F.TYPE_MESSAGE, _REPEATED, "Label"),
            ("value", 2, _F.TYPE_DOUBLE, _OPTIONAL, ""),
            ("timestamp", 3, _F.TYPE_INT64, _OPTIONAL, ""),
        ],
    ),
    ("Histogram", [("timestamp", 15, _F.TYPE_INT64, _OPTIONAL, "")]),
    (
        "TimeSeries",
        [
            ("labels", 1, _F.TYPE_MESSAGE, _REPEATED, "Label"),
            ("samples", 2, _F.TYPE_MESSAGE, _REPEATED, "Sample"),
            ("exemplars", 3, _F.TYPE_MESSAGE, _REPEATED, "Exemplar"),
            ("histograms", 4, _F.TYPE_MESSAGE, _REPEATED, "Histogram"),
        ],
    ),
    (
        "MetricMetadata",
        [
            ("type", 1, _F.TYPE_ENUM, _OPTIONAL, "MetricMetadata.MetricType"),
            ("metric_family_name", 2, _F.TYPE_STRING, _OPTIONAL, ""),
            ("help", 4, _F.TYPE_STRING, _OPTIONAL, ""),
            ("unit", 5, _F.TYPE_STRING, _OPTIONAL, ""),
        ],
    ),
    (
        "WriteRequest",
        [
            ("timeseries", 1, _F.TYPE_MESSAGE, _REPEATED, "TimeSeries"),
            ("metadata", 3, _F.TYPE_MESSAGE, _REPEATED, "MetricMetadata"),
        ],
    ),
]


def _file() -> Any:
    proto = descriptor_pb2.FileDescriptorProto(
        name="radiator/prometheus_remote_write.proto", package=_PACKAGE, syntax="proto3"
    )
    for message_name, fields in _MESSAGES:
        message = proto.message_type.add(name=message_name)
        for field_name, number, kind, label, type_name in fields:
            field = message.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                field.type_name = f".{_PACKAGE}.{type_name}"
        if message_name == "MetricMetadata":
            enum = message.enum_type.add(name="MetricType")
            for number, type_label in METRIC_TYPES.items():
                enum.value.add(name=type_label.upper(), number=number)
        if message_name == "WriteRequest":
            # Field 2 is reserved in remote.proto (Cortex once used it).
            message.reserved_range.add(start=2, end=3)
    return proto


def _classes() -> dict[str, Any]:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(_file())
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
        for name, _ in _MESSAGES
    }


_CLASSES = _classes()
Label: Any = _CLASSES["Label"]
Sample: Any = _CLASSES["Sample"]
Exemplar: Any = _CLASSES["Exemplar"]
TimeSeries: Any = _CLASSES["TimeSeries"]
MetricMetadata: Any = _CLASSES["MetricMetadata"]
WriteRequest: Any = _CLASSES["WriteRequest"]
