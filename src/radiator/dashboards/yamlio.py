"""Dashboards as code: YAML in, YAML out, with errors that name the file and the field."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from radiator.dashboards.models import DashboardCreate
from radiator.errors import InvalidInputError

__all__ = ["dump_yaml", "load_yaml"]


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def load_yaml(text: str, origin: str) -> list[DashboardCreate]:
    """Dashboards in a YAML document: one mapping, a list of them, or ``dashboards: [...]``.

    Raises:
        InvalidInputError: naming ``origin``, the dashboard and the field at fault.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{origin}: not valid YAML: {exc}", field="yaml") from exc
    if isinstance(data, dict) and "dashboards" in data:
        data = data["dashboards"]
    items = data if isinstance(data, list) else [data]
    dashboards = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInputError(
                f"{origin}: dashboard {index + 1} must be a mapping", field="yaml"
            )
        name = item.get("slug", f"#{index + 1}")
        try:
            dashboards.append(DashboardCreate.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = _location(tuple(first["loc"]))
            raise InvalidInputError(
                f"{origin}: dashboard {name!r}: {field}: {first['msg']}", field=field or "yaml"
            ) from exc
    return dashboards


def dump_yaml(dashboard: DashboardCreate) -> str:
    """The dashboard as YAML that ``load_yaml`` reads back to an equal definition."""
    data = dashboard.model_dump(mode="json", exclude_defaults=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
