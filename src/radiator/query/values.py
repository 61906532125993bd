"""The values an expression evaluates to over a grid of evaluation steps.

An instant vector over ``T`` steps is a :class:`SeriesSet`: one label set per series and an
``S x T`` float matrix, NaN where a series has no value at a step. A scalar is a plain
length-``T`` array. Labels include ``__name__`` while a series still has its metric name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = ["NAME", "FloatArray", "Grid", "LabelSet", "SeriesSet", "Value", "label_key"]

NAME = "__name__"

FloatArray = npt.NDArray[np.float64]
LabelSet = dict[str, str]


def label_key(labels: LabelSet) -> tuple[tuple[str, str], ...]:
    """A hashable, order-independent identity of a label set."""
    return tuple(sorted(labels.items()))


@dataclass(frozen=True, slots=True)
class Grid:
    """The evaluation steps: ``start_us``, ``start_us + step_us``, … up to ``end_us``."""

    start_us: int
    end_us: int
    step_us: int

    @property
    def times(self) -> npt.NDArray[np.int64]:
        count = (self.end_us - self.start_us) // self.step_us + 1
        return self.start_us + np.arange(count, dtype=np.int64) * self.step_us

    @property
    def size(self) -> int:
        return (self.end_us - self.start_us) // self.step_us + 1


@dataclass(slots=True)
class SeriesSet:
    """An instant vector over every step: ``values[i]`` belongs to ``labels[i]``."""

    labels: list[LabelSet]
    values: FloatArray
    kinds: list[str] = field(default_factory=list)

    @classmethod
    def empty(cls, steps: int) -> SeriesSet:
        return cls([], np.empty((0, steps), dtype=np.float64), [])

    @classmethod
    def stack(cls, labels: Sequence[LabelSet], rows: Iterable[FloatArray], steps: int) -> SeriesSet:
        rows = list(rows)
        values = np.vstack(rows) if rows else np.empty((0, steps), dtype=np.float64)
        return cls(list(labels), values, [])

    def __len__(self) -> int:
        return len(self.labels)

    def kind(self, index: int) -> str:
        return self.kinds[index] if index < len(self.kinds) else ""

    def without_name(self) -> SeriesSet:
        labels = [{k: v for k, v in ls.items() if k != NAME} for ls in self.labels]
        return SeriesSet(labels, self.values, self.kinds)

    def dropping_empty(self) -> SeriesSet:
        """Only the series that have a value at some step."""
        keep = ~np.all(np.isnan(self.values), axis=1)
        if keep.all():
            return self
        labels = [ls for ls, k in zip(self.labels, keep, strict=True) if k]
        kinds = [self.kind(i) for i, k in enumerate(keep) if k]
        return SeriesSet(labels, self.values[keep], kinds)


Value = FloatArray | SeriesSet | str
