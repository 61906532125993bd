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
from typing import Any

import yaml
from pydantic import ValidationError

from radiator.alerts.models import AlertRule, AlertRuleCreate, RuleSource
from radiator.errors import InvalidInputError

__all__ = ["RULE_FILE_SUFFIXES", "RuleFile", "SyncReport", "parse_rule_file", "plan_files"]

RULE_FILE_SUFFIXES = (".yaml", ".yml")
MAX_RULES_PER_FILE = 1000


@dataclass(frozen=True, slots=True)
class RuleFile:
    """One rule file's path (absolute, as recorded on its rules) and text."""

    path: str
    text: str


@dataclass(slots=True)
class SyncReport:
    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _fail(path: str, rule: str, field_name: str, message: str) -> InvalidInputError:
    where = f"{path}: rule {rule!r}: " if rule else f"{path}: "
    text = f"{where}{field_name}: {message}" if field_name else f"{where}{message}"
    return InvalidInputError(text, field=field_name or None, file=path, rule=rule)


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


def parse_rule_file(
    path: str, text: str, check: Callable[[AlertRuleCreate], AlertRuleCreate]
) -> list[AlertRuleCreate]:
    """The rules of one file, each validated by the schema and by ``check``.

    Raises:
        InvalidInputError: naming the file, the rule (its name or ``#n``) and the field.
    """
    rules: list[AlertRuleCreate] = []
    for index, entry in enumerate(_entries(path, text)):
        if not isinstance(entry, dict):
            raise _fail(path, f"#{index + 1}", "", "a rule is a mapping of fields")
        label = str(entry.get("name") or f"#{index + 1}")
        try:
            rule = check(AlertRuleCreate.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "rule"
            raise _fail(path, label, where, str(first["msg"])) from exc
        except InvalidInputError as exc:
            raise _fail(path, label, exc.field or "", exc.message) from exc
        if any(other.name == rule.name for other in rules):
            raise _fail(path, rule.name, "name", "defined twice in this file")
        rules.append(rule)
    return rules


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
                    raise _fail(
                        file.path, rule.name, "name", f"also defined in {wanted[rule.name][0]}"
                    )
                if other is not None and not _in_directory(other, directory):
                    owner = other.source_file if other.source is RuleSource.FILE else "the API"
                    raise _fail(file.path, rule.name, "name", f"already defined by {owner}")
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
