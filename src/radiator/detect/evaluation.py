"""Measuring detection quality on labelled series: event-level precision, recall, F1, delay.

Scoring rules (one series at a time, then summed):

- alarms are the points whose score reaches the detector's threshold; alarms at most
  ``merge_gap`` points apart are one alarm event (a detector that flickers during one
  incident pages once);
- a labelled window ``[start, end)`` is detected when an alarm falls in it or at most
  ``tolerance`` points after its end; its delay is the first such alarm's index − start;
- an alarm event that touches no (extended) window is a false positive;
- alarms in the first ``probation`` share of a series (15 %, as in the Numenta Anomaly
  Benchmark) are not counted: every detector needs some history to learn what is normal,
  and no anomaly is placed there.

Precision = true alarm events / alarm events; recall = detected windows / windows;
F1 their harmonic mean; delay the median over detected windows, in points.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from radiator.detect.base import THRESHOLD, FloatArray
from radiator.detect.registry import make_detector
from radiator.detect.synthetic import LabelledSeries

__all__ = [
    "OVERALL_HEADER",
    "Counts",
    "Quality",
    "Report",
    "ScoreFn",
    "count_events",
    "detector_score_fn",
    "evaluate",
    "kind_rows",
    "markdown_table",
    "naive_threshold_score_fn",
    "overall_rows",
    "report_markdown",
    "standard_detectors",
]

ScoreFn = Callable[[LabelledSeries], FloatArray]
TOLERANCE = 10
MERGE_GAP = 5
PROBATION = 0.15


@dataclass
class Counts:
    """Raw event counts; add them up over series, then read the quality."""

    windows: int = 0
    detected: int = 0
    alarms: int = 0
    true_alarms: int = 0
    delays: list[int] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        self.windows += other.windows
        self.detected += other.detected
        self.alarms += other.alarms
        self.true_alarms += other.true_alarms
        self.delays.extend(other.delays)

    def quality(self) -> Quality:
        precision = self.true_alarms / self.alarms if self.alarms else 0.0
        recall = self.detected / self.windows if self.windows else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        delay = float(np.median(self.delays)) if self.delays else float("nan")
        false = self.alarms - self.true_alarms
        return Quality(precision, recall, f1, delay, self.windows, self.detected, false)


@dataclass(frozen=True)
class Quality:
    precision: float
    recall: float
    f1: float
    median_delay: float
    windows: int
    detected: int
    false_alarms: int


def _alarm_events(flags: npt.NDArray[np.bool_], merge_gap: int) -> list[tuple[int, int]]:
    """Runs of alarms (``[first, last]``), joining runs at most ``merge_gap`` apart."""
    idx = np.flatnonzero(flags)
    if len(idx) == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > merge_gap + 1)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]]))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def count_events(
    flags: npt.NDArray[np.bool_],
    windows: Iterable[tuple[int, int]],
    *,
    tolerance: int = TOLERANCE,
    merge_gap: int = MERGE_GAP,
    probation: float = PROBATION,
) -> Counts:
    """Score one series' alarms against its labelled windows (rules in the module doc)."""
    flags = flags.copy()
    flags[: int(len(flags) * probation)] = False
    extended = [(s, e + tolerance) for s, e in windows]
    counts = Counts(windows=len(extended))
    for s, e in extended:
        hits = np.flatnonzero(flags[s : min(e, len(flags))])
        if len(hits):
            counts.detected += 1
            counts.delays.append(int(hits[0]))
    for first, last in _alarm_events(flags, merge_gap):
        counts.alarms += 1
        if any(first < e and last >= s for s, e in extended):
            counts.true_alarms += 1
    return counts


def detector_score_fn(name: str, **params: object) -> ScoreFn:
    """Score series with a registry detector."""
    detector = make_detector(name, **params)
    return lambda series: detector.score(series.values, series.times).scores


def naive_threshold_score_fn(warmup: float = 0.25, sigmas: float = 3.0) -> ScoreFn:
    """A static threshold set as a person might: mean ± 3σ of the first quarter."""

    def score(series: LabelledSeries) -> FloatArray:
        head = series.values[: int(len(series.values) * warmup)]
        mean, sd = float(np.nanmean(head)), float(np.nanstd(head))
        detector = make_detector("threshold", upper=mean + sigmas * sd, lower=mean - sigmas * sd)
        return detector.score(series.values).scores

    return score


@dataclass(frozen=True)
class Report:
    """Quality per detector: overall and per anomaly kind."""

    overall: Mapping[str, Quality]
    by_kind: Mapping[str, Mapping[str, Quality]]

    def best(self) -> str:
        return max(self.overall, key=lambda name: self.overall[name].f1)


def evaluate(
    detectors: Mapping[str, ScoreFn],
    suite: Sequence[LabelledSeries],
    *,
    threshold: float = THRESHOLD,
) -> Report:
    """Run every detector over every series of ``suite`` and total the events."""
    overall: dict[str, Quality] = {}
    by_kind: dict[str, dict[str, Quality]] = {}
    for name, score in detectors.items():
        total, kinds = Counts(), dict[str, Counts]()
        for series in suite:
            counts = count_events(score(series) >= threshold, series.windows)
            total.add(counts)
            kinds.setdefault(series.kind, Counts()).add(counts)
        overall[name] = total.quality()
        by_kind[name] = {kind: c.quality() for kind, c in kinds.items()}
    return Report(overall, by_kind)


def standard_detectors(names: Sequence[str] | None = None) -> dict[str, ScoreFn]:
    """Every registry detector with its defaults; ``threshold`` is the naive static one."""
    from radiator.detect.registry import DETECTORS

    chosen = list(names) if names else list(DETECTORS)
    out: dict[str, ScoreFn] = {}
    for name in chosen:
        out[name] = naive_threshold_score_fn() if name == "threshold" else detector_score_fn(name)
    return out


def _fmt_delay(delay: float) -> str:
    return "–" if delay != delay else f"{delay:g}"


def overall_rows(report: Report) -> list[list[str]]:
    """Rows of the overall table: detector, precision, recall, F1, delay, windows, false."""
    return [
        [
            name,
            f"{q.precision:.2f}",
            f"{q.recall:.2f}",
            f"{q.f1:.2f}",
            _fmt_delay(q.median_delay),
            f"{q.detected}/{q.windows}",
            str(q.false_alarms),
        ]
        for name, q in report.overall.items()
    ]


def kind_rows(report: Report, metric: str = "f1") -> tuple[list[str], list[list[str]]]:
    """Kinds (columns) and one row per detector of ``metric`` (f1, precision, recall,
    median_delay) per anomaly kind."""
    kinds = sorted({k for per in report.by_kind.values() for k in per})
    rows = []
    for name, per in report.by_kind.items():
        cells = []
        for kind in kinds:
            value = getattr(per[kind], metric) if kind in per else float("nan")
            cells.append(_fmt_delay(value) if metric == "median_delay" else f"{value:.2f}")
        rows.append([name, *cells])
    return kinds, rows


OVERALL_HEADER = [
    "detector",
    "precision",
    "recall",
    "F1",
    "median delay",
    "detected",
    "false alarms",
]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def report_markdown(report: Report) -> str:
    """The whole report as Markdown: overall, then F1, recall, precision and delay by kind."""
    parts = ["### Overall", "", markdown_table(OVERALL_HEADER, overall_rows(report))]
    for metric, title in (
        ("f1", "F1"),
        ("recall", "Recall"),
        ("precision", "Precision"),
        ("median_delay", "Median detection delay (points)"),
    ):
        kinds, rows = kind_rows(report, metric)
        parts += [
            "",
            f"### {title} by anomaly type",
            "",
            markdown_table(["detector", *kinds], rows),
        ]
    parts += ["", f"Best overall F1: **{report.best()}**."]
    return "\n".join(parts)
