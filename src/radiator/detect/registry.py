"""Detectors by name, with parameter checking for user-given settings (alert rules, CLI)."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from radiator.detect.base import BaseDetector
from radiator.detect.changepoint import ChangePointDetector
from radiator.detect.robust import MadDetector
from radiator.detect.seasonal import SeasonalDetector
from radiator.detect.shift import KsDetector
from radiator.detect.threshold import ThresholdDetector
from radiator.detect.zscore import EwmaDetector, ZScoreDetector
from radiator.errors import InvalidInputError

__all__ = ["DEFAULT_DETECTOR", "DETECTORS", "detector_parameters", "make_detector"]

DEFAULT_DETECTOR = "ensemble"


def _detectors() -> dict[str, type[BaseDetector]]:
    from radiator.detect.ensemble import EnsembleDetector

    return {
        "threshold": ThresholdDetector,
        "zscore": ZScoreDetector,
        "ewma": EwmaDetector,
        "mad": MadDetector,
        "seasonal": SeasonalDetector,
        "ks": KsDetector,
        "changepoint": ChangePointDetector,
        "ensemble": EnsembleDetector,
    }


DETECTORS: tuple[str, ...] = (
    "threshold",
    "zscore",
    "ewma",
    "mad",
    "seasonal",
    "ks",
    "changepoint",
    "ensemble",
)


def detector_parameters(name: str) -> dict[str, Any]:
    """The parameters ``name`` accepts and their defaults (``label`` and ``unit`` included)."""
    cls = _lookup(name)
    return {
        f.name: f.default
        for f in dataclasses.fields(cls)
        if not f.name.startswith("_") and f.default is not dataclasses.MISSING
    }


def _lookup(name: str) -> type[BaseDetector]:
    found = _detectors().get(name)
    if found is None:
        raise InvalidInputError(
            f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}", field="detector"
        )
    return found


def _coerce(name: str, hint: Any, value: Any) -> Any:
    """Turn ``value`` (maybe a string from a CLI or a rule) into the type ``hint`` names."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        if value is None:
            return None
        hint = args[0]
    try:
        if hint is bool:
            return _to_bool(value)
        if hint is int:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        if hint is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if typing.get_origin(hint) is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(item).strip() for item in items if str(item).strip())
        return str(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name} has the wrong type: {value!r}", field=name) from exc


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


def make_detector(name: str, **params: Any) -> BaseDetector:
    """A detector by registry name with validated parameters.

    Raises:
        InvalidInputError: unknown detector (``field="detector"``), unknown parameter or a
            bad value (``field`` names the parameter).
    """
    cls = _lookup(name)
    hints = typing.get_type_hints(cls)
    allowed = detector_parameters(name)
    values: dict[str, Any] = {}
    for key, value in params.items():
        if key not in allowed:
            raise InvalidInputError(
                f"{name} has no parameter {key!r}; it takes {', '.join(sorted(allowed))}",
                field=key,
            )
        values[key] = _coerce(key, hints[key], value)
    return cls(**values)
