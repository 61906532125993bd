"""The SQL alert store on SQLite and PostgreSQL: rules, alerts with notes, silences and
maintenance windows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from radiator.alerts import AlertState, Matcher
from radiator.errors import ConflictError, NotFoundError
from radiator.storage.state import Database, SqlAlertStore

from .conftest import T0, threshold_rule


@pytest.fixture
def store(state_dsn: str) -> Iterator[SqlAlertStore]:
    db = Database(state_dsn)
    db.upgrade()
    yield SqlAlertStore(db)
    db.close()


def _rule_values(name: str = "cpu-high") -> dict[str, object]:
    values = threshold_rule(name, labels={"team": "payments"}).model_dump(mode="json")
    return {**values, "source": "api", "source_file": "", "created_at": T0, "updated_at": T0}


def _alert_values(rule: str = "cpu-high", fingerprint: str = "f1") -> dict[str, object]:
    return {
        "rule": rule,
        "fingerprint": fingerprint,
        "labels": {"host": "a"},
        "severity": "warning",
        "owner": "checkout",
        "state": AlertState.FIRING,
        "value": 7.5,
        "summary": "cpu high",
        "started_at": T0,
        "fired_at": T0,
        "last_seen_at": T0,
        "group_key": rule,
    }


def test_rules_stamp_changes_with_every_rule_change(store: SqlAlertStore) -> None:
    assert store.rules_stamp() == (0, 0, None)
    store.add_rule(_rule_values())
    first = store.rules_stamp()
    assert first[:2] == (1, 1) and first[2] == T0
    store.update_rule("cpu-high", {"enabled": False, "updated_at": T0 + timedelta(seconds=1)})
    assert store.rules_stamp() == (1, 1, T0 + timedelta(seconds=1))
    added = store.add_rule({**_rule_values("other"), "updated_at": T0 + timedelta(seconds=2)})
    assert store.rules_stamp() == (2, added.id, T0 + timedelta(seconds=2))
    store.delete_rule("cpu-high")
    assert store.rules_stamp() == (1, added.id, T0 + timedelta(seconds=2))


def test_rules_round_trip_with_their_condition(store: SqlAlertStore) -> None:
    added = store.add_rule(_rule_values())
    assert added.condition.kind == "threshold"
    assert store.get_rule("cpu-high") == added
    assert added.labels == {"team": "payments"} and not added.broken
    with pytest.raises(ConflictError):
        store.add_rule(_rule_values())
    broken = store.update_rule("cpu-high", {"broken_error": "boom", "broken_since": T0})
    assert broken.broken and broken.broken_since == T0
    store.add_rule({**_rule_values("b-rule"), "enabled": False})
    assert [r.name for r in store.list_rules()] == ["b-rule", "cpu-high"]
    assert [r.name for r in store.list_rules(enabled_only=True)] == ["cpu-high"]
    store.delete_rule("b-rule")
    with pytest.raises(NotFoundError):
        store.update_rule("b-rule", {"enabled": True})


def test_alerts_with_notes_filters_and_batch_updates(store: SqlAlertStore) -> None:
    first, second = store.add_alerts([_alert_values(), _alert_values("other", "f2")])
    note = store.add_note(first.id, "ana", "on it", T0 + timedelta(minutes=1))
    assert store.get_alert(first.id).notes == [note]  # type: ignore[union-attr]
    store.update_alerts([(second.id, {"state": AlertState.RESOLVED, "resolved_at": T0})])
    assert [a.id for a in store.open_alerts()] == [first.id]
    assert [a.id for a in store.list_alerts(states=[AlertState.RESOLVED])] == [second.id]
    assert [a.id for a in store.list_alerts(rule="cpu-high")] == [first.id]
    assert store.list_alerts(since=T0 + timedelta(hours=1)) == []
    store.delete_alerts([first.id])
    assert store.get_alert(first.id) is None


def test_silences_and_windows_active_at_a_time(store: SqlAlertStore) -> None:
    silence = store.add_silence(
        {
            "matchers": [Matcher(label="host", value="a")],
            "starts_at": T0,
            "ends_at": T0 + timedelta(hours=1),
            "comment": "deploy",
            "created_by": "ana",
            "created_at": T0,
        }
    )
    assert silence.matchers[0].matches({"host": "a"})
    assert store.list_silences(active_at=T0 + timedelta(minutes=5)) == [silence]
    assert store.list_silences(active_at=T0 + timedelta(hours=2)) == []
    ended = store.update_silence(silence.id, {"ends_at": T0 + timedelta(minutes=1)})
    assert ended.ends_at == T0 + timedelta(minutes=1)
    window = store.add_window(
        {
            "service": "checkout",
            "starts_at": T0,
            "ends_at": T0 + timedelta(hours=1),
            "reason": "db upgrade",
            "created_by": "ana",
            "created_at": T0,
        }
    )
    assert store.list_windows(active_at=T0) == [window]
    store.delete_window(window.id)
    with pytest.raises(NotFoundError):
        store.delete_window(window.id)
