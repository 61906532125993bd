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

from radiator.core.rulefiles import RULE_FILE_SUFFIXES, RuleFile, parse_rules
from radiator.errors import InvalidInputError
from radiator.query.logmetrics import (
    LogMetricRule,
    LogMetricRuleCreate,
    LogMetricSource,
    check_rule,
)

__all__ = ["RULE_FILE_SUFFIXES", "RuleFile", "SyncPlan", "parse_rule_file", "plan_sync"]

MAX_RULES_PER_FILE = 500


@dataclass(slots=True)
class SyncPlan:
    """What syncing a directory changes; ``errors`` name the files that were not loaded."""

    create: list[tuple[str, LogMetricRuleCreate]] = field(default_factory=list)
    replace: list[tuple[str, LogMetricRuleCreate]] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_rule_file(path: str, text: str) -> list[LogMetricRuleCreate]:
    """The rules of one file, validated, with default metric names filled in.

    Raises:
        InvalidInputError: the file is not a valid rule file; the message names the file,
            the rule (its name, or ``#n`` for the n-th) and the field.
    """
    return parse_rules(
        path, text, LogMetricRuleCreate.model_validate, check_rule, MAX_RULES_PER_FILE
    )


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
