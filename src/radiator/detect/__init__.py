"""Anomaly detectors: pure functions on arrays, each with a batch and a streaming form.

``make_detector(name, **params)`` builds one by name; ``DEFAULT_DETECTOR`` is the one that
did best in the evaluation harness (``radiator detect evaluate``, docs/detection.md).
"""

from __future__ import annotations

from radiator.detect.base import (
    THRESHOLD,
    Anomaly,
    BaseDetector,
    DetectionResult,
    Detector,
    PointScore,
    StreamingDetector,
)
from radiator.detect.changepoint import ChangePointDetector
from radiator.detect.ensemble import EnsembleDetector
from radiator.detect.registry import (
    DEFAULT_DETECTOR,
    DETECTORS,
    detector_parameters,
    make_detector,
)
from radiator.detect.robust import MadDetector
from radiator.detect.seasonal import SeasonalDetector, find_period
from radiator.detect.shift import KsDetector
from radiator.detect.threshold import ThresholdDetector
from radiator.detect.zscore import EwmaDetector, ZScoreDetector

__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "THRESHOLD",
    "Anomaly",
    "BaseDetector",
    "ChangePointDetector",
    "DetectionResult",
    "Detector",
    "EnsembleDetector",
    "EwmaDetector",
    "KsDetector",
    "MadDetector",
    "PointScore",
    "SeasonalDetector",
    "StreamingDetector",
    "ThresholdDetector",
    "ZScoreDetector",
    "detector_parameters",
    "find_period",
    "make_detector",
]
