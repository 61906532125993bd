"""`radiator detect ...` run in-process: score a file or stdin, list, evaluate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from radiator.cli.detect import parse_series
from radiator.cli.main import app
from radiator.errors import InvalidInputError


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _csv(with_header: bool = True) -> str:
    x = np.random.default_rng(3).normal(100, 5, 400)
    x[300] = 190
    lines = ["time,value"] if with_header else []
    lines += [f"{1.7e9 + 60 * i:.0f},{v:.3f}" for i, v in enumerate(x)]
    return "\n".join(lines) + "\n"


def test_score_reads_csv_from_stdin_and_prints_reasons(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["detect", "score", "--label", "p99 latency", "--unit", "ms"], input=_csv()
    )

    assert result.exit_code == 0, result.output
    assert "p99 latency" in result.output and "σ above" in result.output
    assert "400 points" in result.output


def test_score_prints_json_for_a_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text(_csv(with_header=False))
    result = runner.invoke(app, ["detect", "score", str(path), "-d", "mad", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["points"] == 400
    assert 300 in [a["index"] for a in body["anomalies"]]


def test_score_rejects_a_bad_parameter_naming_it(runner: CliRunner) -> None:
    result = runner.invoke(app, ["detect", "score", "-d", "mad", "-p", "window=1"], input="1\n2\n")

    assert result.exit_code == 1
    assert "window" in result.output


def test_parse_series_reads_json_shapes_and_missing_values() -> None:
    assert parse_series("[1, 2, null]")[0][:2] == [1.0, 2.0]
    values, times = parse_series('[{"time": "2026-01-01T00:00:00Z", "value": 3}]')
    assert values == [3.0] and times == [1767225600.0]
    values, times = parse_series('{"values": [1, "nan"], "times": [10, 20]}')
    assert np.isnan(values[1]) and times == [10.0, 20.0]
    assert np.isnan(parse_series("value\n1\n\n2\n,\n")[0][-1])
    with pytest.raises(InvalidInputError):
        parse_series("latency\n1\n", column="value")


def test_list_marks_the_default(runner: CliRunner) -> None:
    result = runner.invoke(app, ["detect", "list"])

    assert result.exit_code == 0
    assert "(default)" in result.output and "changepoint" in result.output


def test_evaluate_prints_markdown_tables(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        ["detect", "evaluate", "--per-case", "1", "--detectors", "threshold,mad", "--markdown"],
    )

    assert result.exit_code == 0, result.output
    assert "| mad |" in result.output and "| threshold |" in result.output
    assert "--seed 1 --per-case 1" in result.output


def test_evaluate_rejects_an_unknown_detector(runner: CliRunner) -> None:
    result = runner.invoke(app, ["detect", "evaluate", "--detectors", "oracle"])
    assert result.exit_code == 1 and "oracle" in result.output


def test_score_limits_the_rows_it_prints(runner: CliRunner) -> None:
    x = np.full(300, 10.0)
    x[200:] = 50.0  # every point after the shift is flagged for a while
    text = "\n".join(f"{v}" for v in x) + "\n"
    result = runner.invoke(app, ["detect", "score", "--limit", "3"], input=text)

    assert result.exit_code == 0, result.output
    assert "more (--limit 0 prints all)" in result.output
