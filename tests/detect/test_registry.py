"""Detectors by name, with user-given parameters checked and errors naming the field."""

from __future__ import annotations

import pytest

from radiator.detect import (
    DEFAULT_DETECTOR,
    DETECTORS,
    EnsembleDetector,
    MadDetector,
    detector_parameters,
    make_detector,
)
from radiator.errors import InvalidInputError


def _field(name: str, **params: object) -> str | None:
    with pytest.raises(InvalidInputError) as caught:
        make_detector(name, **params)
    return caught.value.field


def test_every_name_builds_and_the_default_is_one_of_them() -> None:
    assert DEFAULT_DETECTOR in DETECTORS
    for name in DETECTORS:
        params = {"upper": 1.0} if name == "threshold" else {}
        assert make_detector(name, **params).name == name


def test_string_parameters_are_converted() -> None:
    detector = make_detector("mad", window="120", sigmas="4.5", adaptive="false", label="p99")

    assert detector == MadDetector(window=120, sigmas=4.5, adaptive=False, label="p99")
    ensemble = make_detector("ensemble", members="zscore, ks", combine="vote", votes="2")
    assert isinstance(ensemble, EnsembleDetector)
    assert ensemble.members == ("zscore", "ks")


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("nope", {}, "detector"),
        ("mad", {"windw": 60}, "windw"),
        ("mad", {"window": 1}, "window"),
        ("mad", {"window": "sixty"}, "window"),
        ("mad", {"window": 2.5}, "window"),
        ("zscore", {"sigmas": -1}, "sigmas"),
        ("zscore", {"smooth": 500}, "smooth"),
        ("ks", {"alpha": 0.9}, "alpha"),
        ("threshold", {}, "upper"),
        ("threshold", {"upper": 1, "lower": 2}, "lower"),
        ("changepoint", {"recent": 100, "window": 60}, "recent"),
        ("seasonal", {"learn": 10}, "learn"),
        ("ensemble", {"members": "mad,bogus"}, "members"),
        ("ensemble", {"members": "ensemble"}, "members"),
        ("ensemble", {"combine": "median"}, "combine"),
        ("ensemble", {"adaptive": True}, "adaptive"),
    ],
)
def test_bad_parameters_name_the_field(name: str, params: dict[str, object], field: str) -> None:
    assert _field(name, **params) == field


def test_parameters_list_defaults_including_label_and_unit() -> None:
    params = detector_parameters("changepoint")

    assert params["recent"] == 10 and params["window"] == 60
    assert {"label", "unit", "sigmas", "adaptive"} <= set(params)
