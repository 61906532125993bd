"""Settings: defaults, the TOML file, RADIATOR_* variables, and errors that name the setting."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from radiator.config import Settings, load_settings
from radiator.errors import ConfigError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No RADIATOR_* variables and an empty working directory (so no ./radiator.toml)."""
    for name in list(os.environ):
        if name.startswith("RADIATOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _error(**overrides: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    return caught.value.message


# -- sources and precedence ------------------------------------------------------------------


def test_defaults_apply_without_a_file_or_environment() -> None:
    settings = load_settings()

    assert settings.data_dir == Path("radiator-data")
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.log_level == "INFO"
    assert settings.resolved_state_dsn == f"sqlite:///{Path('radiator-data') / 'state.db'}"
    assert settings.resolved_telemetry_path == str(Path("radiator-data") / "telemetry.duckdb")
    assert settings.resolved_public_url == "http://127.0.0.1:8080"


def test_radiator_toml_in_the_working_directory_is_read(clean_environment: Path) -> None:
    _write(clean_environment / "radiator.toml", 'port = 9090\nlog_level = "DEBUG"\n')

    settings = load_settings()

    assert (settings.port, settings.log_level) == (9090, "DEBUG")


def test_file_named_by_radiator_config_is_read(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    _write(clean_environment / "radiator.toml", "port = 1111\n")
    named = _write(
        clean_environment / "elsewhere.toml",
        'port = 9090\ndata_dir = "/var/lib/radiator"\nself_telemetry = false\n'
        'public_url = "https://radiator.example/"\n',
    )
    monkeypatch.setenv("RADIATOR_CONFIG", str(named))

    settings = load_settings()

    assert settings.port == 9090
    assert settings.data_dir == Path("/var/lib/radiator")
    assert settings.self_telemetry is False
    assert settings.resolved_public_url == "https://radiator.example"


def test_environment_overrides_the_file(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    named = _write(clean_environment / "r.toml", 'port = 9090\nhost = "0.0.0.0"\n')
    monkeypatch.setenv("RADIATOR_CONFIG", str(named))
    monkeypatch.setenv("RADIATOR_PORT", "7070")
    monkeypatch.setenv("RADIATOR_SESSION_COOKIE_SECURE", "false")

    settings = load_settings()

    assert settings.port == 7070
    assert settings.host == "0.0.0.0"
    assert settings.session_cookie_secure is False


def test_keyword_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADIATOR_PORT", "7070")

    assert load_settings(port=6060).port == 6060


def test_missing_file_named_by_radiator_config_is_an_error(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    monkeypatch.setenv("RADIATOR_CONFIG", str(clean_environment / "typo.toml"))

    assert "typo.toml" in _error()


def test_unparsable_toml_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    monkeypatch.setenv("RADIATOR_CONFIG", str(_write(clean_environment / "r.toml", "port =\n")))

    assert "cannot read configuration" in _error()


# -- wrong values ----------------------------------------------------------------------------


def test_unknown_log_level_names_the_setting_and_the_accepted_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RADIATOR_LOG_LEVEL", "LOUD")

    message = _error()

    assert "'log_level'" in message
    assert "RADIATOR_LOG_LEVEL" in message
    assert "'LOUD'" in message
    for accepted in ("DEBUG", "INFO", "WARNING", "ERROR"):
        assert f"'{accepted}'" in message


def test_unknown_telemetry_backend_names_the_accepted_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RADIATOR_TELEMETRY_BACKEND", "clickhouse")

    message = _error()

    assert "telemetry_backend" in message
    assert "'duckdb'" in message


@pytest.mark.parametrize("port", ["0", "65536", "eighty"])
def test_port_outside_its_range_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    monkeypatch.setenv("RADIATOR_PORT", port)

    message = _error()

    assert "'port'" in message
    assert "RADIATOR_PORT" in message
    assert repr(port) in message


def test_wrong_value_in_the_file_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    named = _write(clean_environment / "r.toml", "port = 0\n")
    monkeypatch.setenv("RADIATOR_CONFIG", str(named))

    message = _error()

    assert "'port'" in message
    assert "greater than or equal to 1" in message


def test_unknown_key_in_the_file_is_named(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    named = _write(clean_environment / "r.toml", 'colour = "red"\n')
    monkeypatch.setenv("RADIATOR_CONFIG", str(named))

    message = _error()

    assert "'colour'" in message
    assert "is not a Radiator setting" in message


def test_every_wrong_setting_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADIATOR_LOG_LEVEL", "LOUD")
    monkeypatch.setenv("RADIATOR_PORT", "0")

    message = _error()

    assert "'log_level'" in message
    assert "'port'" in message


def test_state_dsn_of_another_database_is_refused() -> None:
    message = _error(state_dsn="mysql://db.example/radiator")

    assert "state_dsn" in message
    assert "postgresql" in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_body_bytes", 10),
        ("session_ttl_hours", 0),
        ("login_max_failures", 0),
        ("login_failure_window_seconds", 0),
        ("self_telemetry_flush_seconds", -1),
        ("demo_tick_seconds", 0),
    ],
)
def test_limits_below_their_minimum_are_refused(name: str, value: float) -> None:
    assert f"'{name}'" in _error(**{name: value})


# -- documentation ---------------------------------------------------------------------------


def test_every_setting_has_a_default_and_help_text() -> None:
    for name, field in Settings.model_fields.items():
        assert not field.is_required(), f"{name} has no default"
        assert field.description, f"{name} has no help text"


def _renderings(value: object) -> list[str]:
    """Ways the docs may spell a default."""
    if isinstance(value, bool):
        return [str(value), str(value).lower()]
    if isinstance(value, float) and value.is_integer():
        return [str(value), str(int(value))]
    text = str(value)
    return [text] if text else ["(empty)", '""', "''", "empty"]


def _documents(line: str, rendering: str) -> bool:
    if f"`{rendering}`" in line:
        return True
    cell = rf"(?:^|\|)\s*{re.escape(rendering)}\s*(?:\||$)"
    return re.search(cell, line) is not None


def test_every_setting_is_documented_with_its_default() -> None:
    assert DOCS.is_file(), f"{DOCS} is missing (generate it with `radiator config docs`)"
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    missing: list[str] = []
    for name, field in Settings.model_fields.items():
        mentions = [line for line in lines if f"`{name}`" in line]
        renderings = _renderings(field.default)
        if not any(_documents(line, r) for line in mentions for r in renderings):
            missing.append(f"{name} (default {renderings[0]})")

    assert missing == [], f"docs/configuration.md lacks: {', '.join(missing)}"
