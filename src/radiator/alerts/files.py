"""Alert rules as code: YAML files of rules, and syncing a directory of them.

A rule file holds a ``rules`` list; each entry is a rule as the API takes it::

    rules:
      - name: checkout.errors
        owner: checkout
        query: sum(rate(http.errors{service="checkout"}[5m]))
        condition: {kind: threshold, op: ">", value: 5}
        for_seconds: 5m
        severity: page

A file with any error loads none of its rules (its rules stay as they were); the error names
the file, the rule and the field. Parsing here is pure: the caller reads the files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from radiator.alerts.models import AlertRule, AlertRuleCreate, RuleSource
from radiator.core.rulefiles import RULE_FILE_SUFFIXES, RuleFile, parse_rules, rule_error
from radiator.errors import InvalidInputError

__all__ = ["RULE_FILE_SUFFIXES", "RuleFile", "SyncReport", "parse_rule_file", "plan_files"]

MAX_RULES_PER_FILE = 1000


@dataclass(slots=True)
class SyncReport:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_rule_file(
    path: str, text: str, check: Callable[[AlertRuleCreate], AlertRuleCreate]
) -> list[AlertRuleCreate]:
    """The rules of one file, each validated by the schema and by ``check``.

    Raises:
        InvalidInputError: naming the file, the rule (its name or ``#n``) and the field.
    """
    return parse_rules(path, text, AlertRuleCreate.model_validate, check, MAX_RULES_PER_FILE)


def _in_directory(rule: AlertRule, directory: str) -> bool:
    return rule.source is RuleSource.FILE and PurePath(rule.source_file).parent == PurePath(
        directory
    )


def plan_files(
    directory: str,
    files: list[RuleFile],
    existing: list[AlertRule],
    check: Callable[[AlertRuleCreate], AlertRuleCreate],
) -> tuple[dict[str, tuple[str, AlertRuleCreate]], list[str], list[str]]:
    """The rules each good file defines (name → (file, rule)), the names to delete, and
    the errors. A name taken by an API rule, a file elsewhere or an earlier file is an
    error of the later file."""
    by_name = {rule.name: rule for rule in existing}
    wanted: dict[str, tuple[str, AlertRuleCreate]] = {}
    errors: list[str] = []
    kept: set[str] = set()
    for file in sorted(files, key=lambda f: f.path):
        try:
            rules = parse_rule_file(file.path, file.text, check)
            for rule in rules:
                other = by_name.get(rule.name)
                if rule.name in wanted:
                    raise rule_error(
                        file.path, rule.name, "name", f"also defined in {wanted[rule.name][0]}"
                    )
                if other is not None and not _in_directory(other, directory):
                    owner = other.source_file if other.source is RuleSource.FILE else "the API"
                    raise rule_error(file.path, rule.name, "name", f"already defined by {owner}")
        except InvalidInputError as exc:
            errors.append(exc.message)
            kept.add(file.path)
            continue
        wanted.update({rule.name: (file.path, rule) for rule in rules})
    delete = sorted(
        rule.name
        for rule in existing
        if _in_directory(rule, directory)
        and rule.name not in wanted
        and rule.source_file not in kept
    )
    return wanted, delete, errors
