"""Rules as code: the YAML rule files that alert rules and log metric rules are read from.

A rule file holds a ``rules`` list, each entry a rule as the API takes it. A file with any
error loads none of its rules; the error names the file, the rule (its name, or ``#n`` for
the n-th) and the field. Parsing here is pure: the caller reads the files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import yaml
from pydantic import ValidationError

from radiator.errors import InvalidInputError

__all__ = ["RULE_FILE_SUFFIXES", "RuleFile", "parse_rules", "rule_error"]

RULE_FILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class RuleFile:
    """One rule file's path (absolute, as recorded on its rules) and text."""

    path: str
    text: str


class _Named(Protocol):
    @property
    def name(self) -> str: ...


RuleT = TypeVar("RuleT", bound=_Named)


def rule_error(path: str, rule: str, field_name: str, message: str) -> InvalidInputError:
    """An error of rule ``rule`` (or of the whole file when empty) in the file at ``path``."""
    where = f"{path}: rule {rule!r}: " if rule else f"{path}: "
    message = message.removeprefix(f"{field_name} ") if field_name else message
    return InvalidInputError(
        f"{where}{field_name}: {message}" if field_name else f"{where}{message}",
        field=field_name or None,
        file=path,
        rule=rule,
    )


def _entries(path: str, text: str, max_rules: int) -> list[Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise rule_error(path, "", "", f"not valid YAML: {exc}") from exc
    if document is None:
        return []
    if not isinstance(document, dict) or set(document) - {"rules"}:
        raise rule_error(path, "", "", "a rule file is a mapping with one key, 'rules'")
    entries = document.get("rules") or []
    if not isinstance(entries, list):
        raise rule_error(path, "", "rules", "must be a list of rules")
    if len(entries) > max_rules:
        raise rule_error(path, "", "rules", f"at most {max_rules} rules in one file")
    return entries


def parse_rules(
    path: str,
    text: str,
    validate: Callable[[Any], RuleT],
    check: Callable[[RuleT], RuleT],
    max_rules: int,
) -> list[RuleT]:
    """The rules of one file, each built by ``validate`` (a schema) and passed through
    ``check`` (the domain's own checks, which may fill in defaults).

    Raises:
        InvalidInputError: naming the file, the rule and the field.
    """
    rules: list[RuleT] = []
    for index, entry in enumerate(_entries(path, text, max_rules)):
        if not isinstance(entry, dict):
            raise rule_error(path, f"#{index + 1}", "", "a rule is a mapping of fields")
        label = str(entry.get("name") or f"#{index + 1}")
        try:
            rule = check(validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "rule"
            raise rule_error(path, label, where, str(first["msg"])) from exc
        except InvalidInputError as exc:
            raise rule_error(path, label, exc.field or "", exc.message) from exc
        if any(other.name == rule.name for other in rules):
            raise rule_error(path, rule.name, "name", "defined twice in this file")
        rules.append(rule)
    return rules
