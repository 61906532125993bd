"""Reading the YAML files of an "as code" directory (alert rules, log metrics, dashboards)."""

from __future__ import annotations

from pathlib import Path

from radiator.core.rulefiles import RuleFile
from radiator.errors import InvalidInputError

__all__ = ["MAX_RULE_FILE_BYTES", "YAML_SUFFIXES", "read_rule_files", "read_yaml_files"]

MAX_RULE_FILE_BYTES = 4 * 1024 * 1024

YAML_SUFFIXES = frozenset({".yaml", ".yml"})


def read_yaml_files(directory: Path, max_bytes: int) -> list[tuple[str, str]]:
    """``(absolute path, text)`` of the ``*.yaml``/``*.yml`` files directly in ``directory``.

    Raises:
        InvalidInputError: the directory or a file cannot be read, or a file is too large.
    """
    if not directory.is_dir():
        raise InvalidInputError(f"{directory} is not a directory", field="directory")
    files: list[tuple[str, str]] = []
    for path in sorted(directory.resolve().iterdir()):
        if path.suffix not in YAML_SUFFIXES or not path.is_file():
            continue
        if path.stat().st_size > max_bytes:
            raise InvalidInputError(f"{path}: larger than {max_bytes} bytes")
        try:
            files.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"{path}: cannot be read: {exc}") from exc
    return files


def read_rule_files(directory: Path, max_bytes: int = MAX_RULE_FILE_BYTES) -> list[RuleFile]:
    """The rule files (alert rules, log metrics) directly in ``directory``.

    Raises:
        InvalidInputError: the directory or a file cannot be read, or a file is too large.
    """
    return [RuleFile(path, text) for path, text in read_yaml_files(directory, max_bytes)]
