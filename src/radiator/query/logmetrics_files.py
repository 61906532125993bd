"""Log metric rules as code: YAML rule files, and what syncing a directory of them changes.

A rule file holds a ``rules`` list; each entry is a rule as the API takes it::

    rules:
      - name: sql_failures
        services: [checkout]
        levels: [ERROR]
        text: SQL query failed
        group_by: [service]

A file with any error loads none of its rules; the error names the file, the rule and the
field. Parsing here is pure: the caller reads the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import yaml
from pydantic import ValidationError

from radiator.errors import InvalidInputError
from radiator.query.logmetrics import (
    LogMetricRule,
    LogMetricRuleCreate,
    LogMetricSource,
    check_rule,
)

__all__ = ["RULE_FILE_SUFFIXES", "RuleFile", "SyncPlan", "parse_rule_file", "plan_sync"]

RULE_FILE_SUFFIXES = (".yaml", ".yml")
MAX_RULES_PER_FILE = 500


@dataclass(frozen=True, slots=True)
class RuleFile:
    """One rule file's path (absolute, as it is recorded on its rules) and text."""

    path: str
    text: str


@dataclass(slots=True)
class SyncPlan:
    """What syncing a directory changes; ``errors`` name the files that were not loaded."""

    create: list[tuple[str, LogMetricRuleCreate]] = field(default_factory=list)
    replace: list[tuple[str, LogMetricRuleCreate]] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _fail(path: str, rule: str, field_name: str, message: str) -> InvalidInputError:
    where = f"{path}: rule {rule!r}: " if rule else f"{path}: "
    message = message.removeprefix(f"{field_name} ") if field_name else message
    return InvalidInputError(
        f"{where}{field_name}: {message}" if field_name else f"{where}{message}",
        field=field_name or None,
        file=path,
        rule=rule,
    )


def _entries(path: str, text: str) -> list[Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _fail(path, "", "", f"not valid YAML: {exc}") from exc
    if document is None:
        return []
    if not isinstance(document, dict) or set(document) - {"rules"}:
        raise _fail(path, "", "", "a rule file is a mapping with one key, 'rules'")
    entries = document.get("rules") or []
    if not isinstance(entries, list):
        raise _fail(path, "", "rules", "must be a list of rules")
    if len(entries) > MAX_RULES_PER_FILE:
        raise _fail(path, "", "rules", f"at most {MAX_RULES_PER_FILE} rules in one file")
    return entries


def _rule(path: str, index: int, entry: Any) -> LogMetricRuleCreate:
    if not isinstance(entry, dict):
        raise _fail(path, f"#{index + 1}", "", "a rule is a mapping of fields")
    label = str(entry.get("name") or f"#{index + 1}")
    try:
        rule = LogMetricRuleCreate.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "rule"
        raise _fail(path, label, where, str(first["msg"])) from exc
    try:
        return check_rule(rule)
    except InvalidInputError as exc:
        raise _fail(path, label, exc.field or "", exc.message) from exc


def parse_rule_file(path: str, text: str) -> list[LogMetricRuleCreate]:
    """The rules of one file, validated, with default metric names filled in.

    Raises:
        InvalidInputError: the file is not a valid rule file; the message names the file,
            the rule (its name, or ``#n`` for the n-th) and the field.
    """
    rules: list[LogMetricRuleCreate] = []
    for index, entry in enumerate(_entries(path, text)):
        rule = _rule(path, index, entry)
        if any(other.name == rule.name for other in rules):
            raise _fail(path, rule.name, "name", "defined twice in this file")
        rules.append(rule)
    return rules


def _in_directory(rule: LogMetricRule, directory: str) -> bool:
    return rule.source is LogMetricSource.FILE and PurePath(rule.source_file).parent == PurePath(
        directory
    )


def _claim(
    path: str,
    rules: list[LogMetricRuleCreate],
    existing: dict[str, LogMetricRule],
    claimed: dict[str, str],
    directory: str,
) -> str | None:
    """Why ``path`` may not define ``rules``, or None when it may."""
    for rule in rules:
        other = existing.get(rule.name)
        if rule.name in claimed:
            return f"{path}: rule {rule.name!r}: name: also defined in {claimed[rule.name]}"
        if other is not None and not _in_directory(other, directory):
            owner = other.source_file if other.source is LogMetricSource.FILE else "the API"
            return f"{path}: rule {rule.name!r}: name: already defined by {owner}"
    return None


def plan_sync(directory: str, files: list[RuleFile], existing: list[LogMetricRule]) -> SyncPlan:
    """What makes the rules from ``directory`` match its ``files``.

    Rules of files that are gone, or no longer define them, are deleted; a file with an error
    changes nothing (its rules stay as they were); a name already taken by an API rule, by
    a file elsewhere or by an earlier file (in path order) is an error of the later file.
    """
    plan = SyncPlan()
    by_name = {rule.name: rule for rule in existing}
    claimed: dict[str, str] = {}
    kept_files: set[str] = set()
    for file in sorted(files, key=lambda f: f.path):
        try:
            rules = parse_rule_file(file.path, file.text)
        except InvalidInputError as exc:
            plan.errors.append(exc.message)
            kept_files.add(file.path)
            continue
        problem = _claim(file.path, rules, by_name, claimed, directory)
        if problem is not None:
            plan.errors.append(problem)
            kept_files.add(file.path)
            continue
        for rule in rules:
            claimed[rule.name] = file.path
            _plan_rule(plan, file.path, rule, by_name.get(rule.name))
    plan.delete = sorted(
        rule.name
        for rule in existing
        if _in_directory(rule, directory)
        and rule.name not in claimed
        and rule.source_file not in kept_files
    )
    return plan


def _plan_rule(
    plan: SyncPlan, path: str, rule: LogMetricRuleCreate, current: LogMetricRule | None
) -> None:
    if current is None:
        plan.create.append((path, rule))
    elif current.definition() != rule or current.source_file != path:
        plan.replace.append((path, rule))
    else:
        plan.unchanged.append(rule.name)
