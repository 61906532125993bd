"""Dashboards as code: the files of dashboards_dir become read-only dashboards."""

from __future__ import annotations

from pathlib import Path

from radiator.config import Settings
from radiator.jobs.builtin import sync_dashboards
from radiator.runtime import Runtime

BOARD = """
slug: from-file
title: From a file
panels:
  - {id: cpu, title: CPU, queries: [{expr: 'avg(process.cpu.percent)'}]}
"""


def test_files_load_and_a_vanished_directory_removes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "dashboards"
    folder.mkdir()
    (folder / "a.yaml").write_text(BOARD, encoding="utf-8")
    (folder / "notes.txt").write_text("not a dashboard", encoding="utf-8")
    runtime = Runtime(settings.model_copy(update={"dashboards_dir": str(folder)}))
    try:
        report = sync_dashboards(runtime)
        assert report.loaded == ["from-file"] and not report.errors
        assert runtime.dashboards.get("from-file").source_path == str(folder / "a.yaml")
        (folder / "a.yaml").rename(folder / "a.txt")
        folder.rename(tmp_path / "elsewhere")
        gone = sync_dashboards(runtime)
        assert gone.errors and "not a directory" in gone.errors[0]
        assert runtime.dashboards.get("from-file").title == "From a file"
    finally:
        runtime.close()
