"""Dashboards: query checks, variables, as-code sync, panels from Explore, kiosk links."""

from __future__ import annotations

import pytest

from radiator.dashboards import (
    BUILTIN_DASHBOARDS,
    DashboardCreate,
    dump_yaml,
    load_yaml,
    substitute,
)
from radiator.dashboards.models import KioskLinkCreate
from radiator.errors import ConflictError, InvalidInputError, NotFoundError
from radiator.runtime import Runtime

BOARD = """
slug: checkout
title: Checkout
variables:
  - {name: service, tag: service, metric: http.server.requests}
panels:
  - id: rps
    title: Requests per second
    queries: [{expr: 'sum(rate(http.server.requests{service=~"$service"}[5m]))'}]
  - id: errors
    title: Errors
    type: logs
    x: 6
    logs: {service: $service, level: ERROR}
"""


def test_yaml_round_trips_every_builtin_dashboard() -> None:
    for dashboard in BUILTIN_DASHBOARDS:
        assert load_yaml(dump_yaml(dashboard), "x.yaml") == [dashboard]


def test_a_bad_yaml_file_names_file_dashboard_and_field() -> None:
    bad = BOARD.replace("x: 6", "x: 9\n    w: 6")
    with pytest.raises(InvalidInputError) as caught:
        load_yaml(bad, "boards/checkout.yaml")
    assert "boards/checkout.yaml" in caught.value.message
    assert "'checkout'" in caught.value.message
    assert "panels[1]" in caught.value.message


def test_a_query_that_does_not_parse_is_refused_with_its_panel(runtime: Runtime) -> None:
    data = load_yaml(BOARD.replace("[5m]))'", "[5m])'"), "x")[0]
    with pytest.raises(InvalidInputError) as caught:
        runtime.dashboards.create(data)
    assert caught.value.field == "panels[0].queries[0].expr"
    assert "column" in caught.value.message


def test_variables_substitute_escaped_values_and_all_as_any() -> None:
    expr = 'rate(x{service=~"$service", env="${env}"}[5m])'
    assert substitute(expr, {"service": "check.out", "env": "prod"}) == (
        'rate(x{service=~"check\\.out", env="prod"}[5m])'
    )
    assert substitute(expr, {"service": "", "env": "prod"}).startswith('rate(x{service=~".*"')


def test_panel_requests_use_variable_defaults(runtime: Runtime) -> None:
    dashboard = runtime.dashboards.create(load_yaml(BOARD, "x")[0])
    [request] = runtime.dashboards.panel_requests(dashboard, {"service": "search"})
    assert request.key == "rps/A"
    assert 'service=~"search"' in request.expr


def test_add_panel_appends_below_and_keeps_ids_distinct(runtime: Runtime) -> None:
    runtime.dashboards.create(load_yaml(BOARD, "x")[0])
    first = runtime.dashboards.add_panel("checkout", "Requests per second", "sum(rate(y[1m]))")
    second = runtime.dashboards.add_panel("checkout", "Requests per second", "sum(rate(z[1m]))")
    ids = [p.id for p in second.panels]
    assert ids == ["rps", "errors", "requests-per-second", "requests-per-second-2"]
    assert first.panels[-1].y == 4
    assert second.version == first.version + 1


def test_stale_edits_are_refused(runtime: Runtime) -> None:
    created = runtime.dashboards.create(load_yaml(BOARD, "x")[0])
    runtime.dashboards.replace("checkout", created.definition(), expected_version=created.version)
    with pytest.raises(ConflictError):
        runtime.dashboards.replace(
            "checkout", created.definition(), expected_version=created.version
        )


def test_file_dashboards_sync_and_are_read_only(runtime: Runtime) -> None:
    report = runtime.dashboards.sync_files([("a.yaml", BOARD)])
    assert report.loaded == ["checkout"] and not report.errors
    assert runtime.dashboards.get("checkout").source == "file"
    with pytest.raises(ConflictError, match=r"a\.yaml"):
        runtime.dashboards.delete("checkout")
    # A broken edit of the file keeps the last good version and says why.
    broken = runtime.dashboards.sync_files(
        [("a.yaml", BOARD.replace("slug: checkout", "slug: Bad Slug"))]
    )
    assert broken.errors and "a.yaml" in broken.errors[0]
    assert runtime.dashboards.get("checkout").title == "Checkout"
    # Removing the file removes its dashboards.
    assert runtime.dashboards.sync_files([]).removed == ["checkout"]
    with pytest.raises(NotFoundError):
        runtime.dashboards.get("checkout")


def test_builtin_dashboards_exist_and_are_read_only(runtime: Runtime) -> None:
    health = runtime.dashboards.get("radiator-health")
    assert health.source == "builtin"
    with pytest.raises(ConflictError, match="built in"):
        runtime.dashboards.replace("radiator-health", health.definition())


def test_kiosk_links_resolve_until_revoked(runtime: Runtime) -> None:
    link, secret = runtime.dashboards.create_kiosk_link(
        KioskLinkCreate(name="Lobby TV", dashboards=["radiator-health"], rotate_seconds=30)
    )
    assert runtime.dashboards.kiosk(secret).id == link.id
    runtime.dashboards.revoke_kiosk_link(link.id)
    with pytest.raises(NotFoundError):
        runtime.dashboards.kiosk(secret)
    with pytest.raises(NotFoundError):
        runtime.dashboards.kiosk("kiosk_guess")


def test_kiosk_link_to_an_unknown_dashboard_is_refused(runtime: Runtime) -> None:
    with pytest.raises(NotFoundError):
        runtime.dashboards.create_kiosk_link(KioskLinkCreate(name="x", dashboards=["nope"]))


def test_dashboards_persist_on_sqlite_and_postgresql(state_dsn: str) -> None:
    from radiator.audit import AuditLog
    from radiator.dashboards import DashboardService
    from radiator.storage.state import Database, SqlAuditStore, SqlDashboardStore

    db = Database(state_dsn)
    try:
        db.upgrade()
        service = DashboardService(SqlDashboardStore(db), AuditLog(SqlAuditStore(db)))
        service.ensure_builtin()
        data = DashboardCreate.model_validate(load_yaml(BOARD, "x")[0].model_dump())
        created = service.create(data)
        assert service.get("checkout") == created
        assert [d.slug for d in service.list_dashboards()] == [
            "checkout",
            "radiator-health",
            "service-overview",
        ]
    finally:
        db.close()  # an engine left open leaks its pooled connections into later tests
