"""Dashboard use cases: CRUD with query checks, as-code sync, panels from Explore, kiosks."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from radiator.audit import AuditLog, Outcome
from radiator.core.caller import SYSTEM, Caller
from radiator.core.clock import Clock, system_clock
from radiator.dashboards.builtin import BUILTIN_DASHBOARDS
from radiator.dashboards.models import (
    GRID_COLUMNS,
    Dashboard,
    DashboardCreate,
    KioskLink,
    KioskLinkCreate,
    Panel,
    PanelQuery,
)
from radiator.dashboards.store import DashboardStore
from radiator.dashboards.yamlio import dump_yaml, load_yaml
from radiator.errors import ConflictError, InvalidInputError, NotFoundError
from radiator.query.parser import QueryParseError, parse

__all__ = ["DashboardService", "PanelRequest", "SyncReport", "substitute"]

_VARIABLE_REF = re.compile(r"\$\{(\w+)\}|\$(\w+)")
KIOSK_PREFIX = "kiosk_"


def substitute(expr: str, values: dict[str, str]) -> str:
    """Replace ``$name`` / ``${name}`` with the variable's value; an empty value (all)
    becomes ``.*``, meant for regex matchers such as ``service=~"$service"``."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in values:
            return match.group(0)
        chosen = values[name]
        return re.escape(chosen).replace('"', '\\"') if chosen else ".*"

    return _VARIABLE_REF.sub(value, expr)


@dataclass(frozen=True, slots=True)
class PanelRequest:
    """One query of one panel, with variables substituted: ``key`` is ``panel/query``."""

    key: str
    expr: str


@dataclass(frozen=True, slots=True)
class SyncReport:
    loaded: list[str]
    removed: list[str]
    errors: list[str]


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class DashboardService:
    def __init__(self, store: DashboardStore, audit: AuditLog, clock: Clock = system_clock) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock

    # -- reading -----------------------------------------------------------------------

    def list_dashboards(self) -> list[Dashboard]:
        return self._store.list_dashboards()

    def exists(self, slug: str) -> bool:
        return self._store.get(slug) is not None

    def get(self, slug: str) -> Dashboard:
        found = self._store.get(slug)
        if found is None:
            raise NotFoundError(f"no dashboard {slug!r}")
        return found

    def export_yaml(self, slug: str) -> str:
        return dump_yaml(self.get(slug).definition())

    def panel_requests(self, dashboard: Dashboard, values: dict[str, str]) -> list[PanelRequest]:
        """Every query of every panel, variables substituted (defaults where not given)."""
        chosen = {v.name: values.get(v.name, v.default) for v in dashboard.variables}
        return [
            PanelRequest(f"{panel.id}/{query.id}", substitute(query.expr, chosen))
            for panel in dashboard.panels
            for query in panel.queries
        ]

    # -- writing -------------------------------------------------------------------------

    def create(self, data: DashboardCreate, caller: Caller = SYSTEM) -> Dashboard:
        _check_queries(data)
        if self._store.get(data.slug) is not None:
            raise ConflictError(f"dashboard {data.slug!r} already exists", field="slug")
        saved = self._store.save(self._stamped(data, caller))
        self._record(caller, "dashboard.create", saved.slug)
        return saved

    def replace(
        self,
        slug: str,
        data: DashboardCreate,
        caller: Caller = SYSTEM,
        expected_version: int | None = None,
    ) -> Dashboard:
        current = self._editable(slug)
        if data.slug != slug:
            raise InvalidInputError("the slug of a dashboard cannot change", field="slug")
        _check_queries(data)
        saved = self._store.save(
            self._stamped(data, caller, current.source), expected_version=expected_version
        )
        self._record(caller, "dashboard.update", slug, version=saved.version)
        return saved

    def delete(self, slug: str, caller: Caller = SYSTEM) -> None:
        self._editable(slug)
        self._store.delete(slug)
        self._record(caller, "dashboard.delete", slug)

    def add_panel(
        self,
        slug: str,
        title: str,
        expr: str,
        caller: Caller = SYSTEM,
        panel_type: str = "timeseries",
    ) -> Dashboard:
        """Append a panel under the others (as "Add to dashboard" in Explore does)."""
        current = self._editable(slug)
        bottom = max((p.y + p.h for p in current.panels), default=0)
        taken = {p.id for p in current.panels}
        base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "panel"
        panel_id = base
        number = 2
        while panel_id in taken:
            panel_id, number = f"{base}-{number}", number + 1
        panel = Panel.model_validate(
            {
                "id": panel_id,
                "title": title,
                "type": panel_type,
                "queries": [PanelQuery(expr=expr)],
                "x": 0,
                "y": bottom,
                "w": GRID_COLUMNS // 2,
                "h": 4,
            }
        )
        data = current.definition().model_copy(update={"panels": [*current.panels, panel]})
        return self.replace(slug, data, caller, expected_version=current.version)

    def ensure_builtin(self) -> list[str]:
        """Create or refresh the built-in dashboards (Radiator health, …)."""
        written = []
        for data in BUILTIN_DASHBOARDS:
            current = self._store.get(data.slug)
            if current is not None and current.definition() == data:
                continue
            self._store.save(self._stamped(data, SYSTEM, "builtin"))
            written.append(data.slug)
        return written

    def sync_files(self, files: Iterable[tuple[str, str]]) -> SyncReport:
        """Make the file-defined dashboards exactly those in ``files`` ((path, text) pairs).

        A file with an error loads nothing and keeps what it defined before; the error names
        the file, the dashboard and the field.
        """
        loaded, errors, seen = [], [], set()
        failed_paths = set()
        for path, text in files:
            try:
                for data in load_yaml(text, path):
                    _check_queries(data, origin=path)
                    seen.add(data.slug)
                    loaded.append(self._sync_one(data, path))
            except InvalidInputError as exc:
                errors.append(exc.message)
                failed_paths.add(path)
        removed = []
        for existing in self._store.list_dashboards():
            if existing.source != "file" or existing.slug in seen:
                continue
            if existing.source_path in failed_paths:
                continue
            self._store.delete(existing.slug)
            removed.append(existing.slug)
        return SyncReport([s for s in loaded if s], removed, errors)

    def _sync_one(self, data: DashboardCreate, path: str) -> str:
        current = self._store.get(data.slug)
        if current is not None and current.source != "file":
            raise InvalidInputError(
                f"{path}: dashboard {data.slug!r} already exists in the UI; rename one",
                field="slug",
            )
        if current is not None and current.definition() == data and current.source_path == path:
            return ""
        dashboard = self._stamped(data, SYSTEM, "file").model_copy(update={"source_path": path})
        self._store.save(dashboard)
        return data.slug

    # -- kiosk links ---------------------------------------------------------------------

    def create_kiosk_link(
        self, data: KioskLinkCreate, caller: Caller = SYSTEM
    ) -> tuple[KioskLink, str]:
        """A revocable read-only link for a TV; the secret is returned once, stored hashed."""
        for slug in data.dashboards:
            self.get(slug)
        secret = KIOSK_PREFIX + secrets.token_urlsafe(24)
        link = self._store.add_kiosk_link(
            name=data.name,
            dashboards=data.dashboards,
            rotate_seconds=data.rotate_seconds,
            secret_hash=_hash(secret),
            created_by=caller.name,
            now=self._clock(),
        )
        self._record(caller, "kiosk.create", f"kiosk:{link.id}", dashboards=data.dashboards)
        return link, secret

    def kiosk(self, secret: str) -> KioskLink:
        link = self._store.kiosk_by_hash(_hash(secret)) if secret.startswith(KIOSK_PREFIX) else None
        if link is None or not link.active:
            raise NotFoundError("this kiosk link does not exist or was revoked")
        return link

    def list_kiosk_links(self) -> list[KioskLink]:
        return self._store.list_kiosk_links()

    def revoke_kiosk_link(self, link_id: int, caller: Caller = SYSTEM) -> KioskLink:
        link = self._store.revoke_kiosk_link(link_id, self._clock())
        self._record(caller, "kiosk.revoke", f"kiosk:{link_id}")
        return link

    # -- helpers -------------------------------------------------------------------------

    def _editable(self, slug: str) -> Dashboard:
        current = self.get(slug)
        if current.source == "file":
            raise ConflictError(
                f"dashboard {slug!r} is defined in {current.source_path}; change that file",
                field="slug",
            )
        if current.source == "builtin":
            raise ConflictError(
                f"dashboard {slug!r} is built in; save a copy under another slug to change it",
                field="slug",
            )
        return current

    def _stamped(self, data: DashboardCreate, caller: Caller, source: str = "ui") -> Dashboard:
        return Dashboard.model_validate(
            {
                **data.model_dump(),
                "source": source,
                "updated_at": self._clock(),
                "updated_by": caller.name,
            }
        )

    def _record(self, caller: Caller, action: str, slug: str, **detail: object) -> None:
        self._audit.record(
            action,
            actor=caller.name,
            outcome=Outcome.SUCCESS,
            target=f"dashboard:{slug}",
            ip=caller.ip,
            request_id=caller.request_id,
            **detail,
        )


def _check_queries(data: DashboardCreate, origin: str = "") -> None:
    """Every panel query must parse once variables are given sample values."""
    sample = {v.name: "x" for v in data.variables}
    for i, panel in enumerate(data.panels):
        for j, query in enumerate(panel.queries):
            try:
                parse(substitute(query.expr, sample))
            except QueryParseError as exc:
                where = f"panels[{i}].queries[{j}].expr"
                prefix = f"{origin}: " if origin else ""
                raise InvalidInputError(
                    f"{prefix}panel {panel.id!r}: {exc.message}", field=where
                ) from exc
