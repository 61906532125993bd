"""Settings: one TOML file plus ``RADIATOR_*`` environment variables.

Precedence, highest first: keyword arguments, environment, the TOML file, defaults.
The TOML file is ``radiator.toml`` in the working directory, or the path in
``RADIATOR_CONFIG``. Every field has a default and help text; ``docs/configuration.md``
is generated from this class (``radiator config docs``) and a test keeps them in step.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from radiator.errors import ConfigError

__all__ = ["ScrapeTarget", "Settings", "load_settings"]

LogLevelName = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
TelemetryBackend = Literal["duckdb"]
WalSync = Literal["always", "interval", "never"]

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class ScrapeTarget(BaseModel):
    """One Prometheus metrics endpoint to scrape (an entry of ``scrape_targets``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    job: str = Field(
        min_length=1, max_length=200, description="Value of the `job` tag of every series."
    )
    url: str = Field(description="http:// or https:// URL of the endpoint, e.g. .../metrics.")
    interval_seconds: float = Field(15.0, gt=0, description="Time between two scrapes.")
    timeout_seconds: float | None = Field(
        None,
        gt=0,
        description="Longest a scrape may take; empty means 10 s or the interval if shorter.",
    )
    labels: dict[str, str] = Field(
        {}, description="Extra tags for every series (`instance` may be overridden here)."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        scheme, _, rest = value.partition("://")
        if scheme.lower() not in ("http", "https") or not rest.split("/", 1)[0]:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _LABEL_NAME.match(name) or name.startswith("__"):
                raise ValueError(f"{name!r} is not a Prometheus label name")
            if name == "job":
                raise ValueError("set the job with `job`, not in labels")
        return value

    @property
    def timeout(self) -> float:
        if self.timeout_seconds is None:
            return min(10.0, self.interval_seconds)
        return self.timeout_seconds


class Settings(BaseSettings):
    """Everything Radiator can be configured with."""

    model_config = SettingsConfigDict(
        env_prefix="RADIATOR_",
        extra="forbid",
        validate_default=True,
        toml_file="radiator.toml",
    )

    data_dir: Path = Field(
        Path("radiator-data"),
        description="Directory for the embedded stores, the write-ahead log and archives.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(8080, ge=1, le=65535, description="TCP port of the HTTP API and UI.")
    public_url: str = Field(
        "",
        description="URL people use to reach Radiator (for links in pages and notifications); "
        "empty means http://HOST:PORT.",
    )
    state_dsn: str = Field(
        "",
        description="SQLAlchemy URL of the state database. Empty means SQLite at "
        "DATA_DIR/state.db; use postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    telemetry_backend: TelemetryBackend = Field(
        "duckdb", description="Telemetry store implementation."
    )
    telemetry_path: str = Field(
        "",
        description="File of the DuckDB telemetry store. Empty means DATA_DIR/telemetry.duckdb; "
        "':memory:' keeps it in memory (tests).",
    )
    telemetry_recent_hours: float = Field(
        12.0,
        ge=0,
        le=168,
        description="Hours of raw points the server keeps in memory, grouped by series, so "
        "charts of recent hours need no sort (0 turns it off). Loaded in the background at "
        "start-up; reads use the store until then and for anything older.",
    )
    telemetry_recent_max_mb: int = Field(
        512,
        ge=1,
        description="Memory the recent raw points may use, in MB (16 bytes a point). Past it "
        "the oldest are dropped from memory (not from the store).",
    )
    log_level: LogLevelName = Field("INFO", description="Level of Radiator's own log output.")
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest request body accepted, in bytes."
    )
    session_ttl_hours: float = Field(
        12.0, gt=0, description="How long a UI login session lasts without activity."
    )
    session_cookie_secure: bool = Field(
        True,
        description="Mark the session cookie Secure. Browsers still send it to http://localhost "
        "and http://127.0.0.1; turn off only to serve plain HTTP on another host name.",
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins allowed per user and address within the window."
    )
    login_failure_window_seconds: int = Field(
        300, ge=1, description="Window over which failed logins are counted and blocked."
    )
    self_telemetry: bool = Field(
        True, description="Record Radiator's own request counts and latencies as metrics."
    )
    self_telemetry_flush_seconds: float = Field(
        10.0, gt=0, description="How often Radiator's own metrics are written to the store."
    )
    ingest_buffer_max_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024 * 1024,
        description="Most telemetry held in memory awaiting a flush; beyond it HTTP ingest "
        "answers 503 with Retry-After and UDP packets are dropped (and counted).",
    )
    ingest_flush_seconds: float = Field(
        1.0, gt=0, description="Longest time accepted telemetry waits before it is queryable."
    )
    ingest_flush_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="Flush early once this much telemetry is buffered.",
    )
    wal_sync: WalSync = Field(
        "interval",
        description="When the write-ahead log is forced to disk: 'always' (every batch, "
        "survives power loss), 'interval' (every flush; survives a killed process), 'never'.",
    )
    wal_segment_bytes: int = Field(
        64 * 1024 * 1024, ge=1024 * 1024, description="Size at which a new log segment starts."
    )
    max_series_per_metric: int = Field(
        10_000,
        ge=1,
        description="Distinct tag combinations one metric may have; points of further "
        "series are rejected with a reason and counted.",
    )
    scrape_targets: list[ScrapeTarget] = Field(
        [],
        description="Prometheus endpoints to scrape, each {job, url, interval_seconds (15), "
        "timeout_seconds, labels}: one [[scrape_targets]] table each in the TOML file, a JSON "
        "list in the environment. See docs/ingest/prometheus.md.",
    )
    statsd_host: str = Field(
        "127.0.0.1",
        description="Address the StatsD/DogStatsD UDP listener binds to ('0.0.0.0' for all "
        "interfaces, '::' for IPv6). See docs/ingest/statsd.md.",
    )
    statsd_port: int = Field(
        8125, ge=0, le=65535, description="UDP port of the StatsD listener; 0 turns it off."
    )
    statsd_flush_seconds: float = Field(
        10.0,
        gt=0,
        description="StatsD aggregation interval: counters, sets and timers are summed up "
        "and written once per interval, like StatsD's flushInterval.",
    )
    statsd_max_keys: int = Field(
        100_000,
        ge=1,
        description="Most distinct StatsD series (name + tags) aggregated per interval, and "
        "most gauges remembered; samples of further series are dropped and counted "
        "(radiator.statsd.overflow).",
    )
    statsd_gauge_ttl_seconds: float = Field(
        3600.0,
        gt=0,
        description="A StatsD gauge is written again every interval until it has not been "
        "updated for this long.",
    )
    statsd_receive_buffer_bytes: int = Field(
        8 * 1024 * 1024,
        ge=64 * 1024,
        description="Kernel receive buffer (SO_RCVBUF) of the StatsD socket; absorbs bursts. "
        "Above net.core.rmem_max it needs root or CAP_NET_ADMIN.",
    )
    log_metrics_dir: str = Field(
        "",
        description="Directory of log-to-metric rule files (*.yaml, *.yml), loaded at start "
        "and re-read every interval; empty turns rules as code off. See docs/logs.md.",
    )
    log_metrics_interval_seconds: int = Field(
        10,
        ge=1,
        le=3600,
        description="Bucket width of log metrics (logs.records and every rule), and how "
        "often they are brought up to date.",
    )
    log_metrics_lag_seconds: float = Field(
        10.0,
        ge=0,
        description="Log metrics count a bucket only once it ended this long ago, so records "
        "still on their way through ingest are counted; later arrivals are not.",
    )
    log_metrics_backfill_hours: float = Field(
        24.0,
        ge=0,
        description="How much history a new log metric rule counts when it is created.",
    )
    log_tail_max_streams: int = Field(
        20,
        ge=1,
        description="Most live log tails (GET /api/v1/logs/tail) served at once; more are "
        "refused with 503.",
    )
    archive_enabled: bool = Field(
        True,
        description="Write telemetry to date-partitioned Parquet in archive_dir before "
        "retention deletes it; archived days stay queryable. See docs/retention.md.",
    )
    archive_dir: str = Field(
        "", description="Directory of the Parquet archive. Empty means DATA_DIR/archive."
    )
    retention_delete_unarchived: bool = Field(
        False,
        description="With archive_enabled off, delete telemetry past its retention anyway "
        "(lost for good). Off: nothing is deleted while archiving is off.",
    )
    retention_points_days: int = Field(
        14, ge=0, description="Days raw metric points stay in the live store; 0 keeps them."
    )
    retention_rollup_1m_days: int = Field(
        90, ge=0, description="Days 1-minute rollups stay in the live store; 0 keeps them."
    )
    retention_rollup_1h_days: int = Field(
        730, ge=0, description="Days 1-hour rollups stay in the live store; 0 keeps them."
    )
    retention_logs_days: int = Field(
        14, ge=0, description="Days log records stay in the live store; 0 keeps them."
    )
    retention_spans_days: int = Field(
        7, ge=0, description="Days spans stay in the live store; 0 keeps them."
    )
    retention_events_days: int = Field(
        0,
        ge=0,
        description="Days events (deploys, alerts, incidents, ...: the timeline) stay in the "
        "live store; 0 keeps them for good.",
    )
    retention_interval_seconds: float = Field(
        3600.0,
        gt=0,
        description="How often the retention job archives and deletes telemetry past its "
        "retention (whole UTC days).",
    )
    notify_max_attempts: int = Field(
        3,
        ge=1,
        le=10,
        description="Attempts per notification (webhook, e-mail, Slack) before it is logged "
        "as failed. See docs/oncall.md.",
    )
    notify_backoff_seconds: float = Field(
        2.0,
        ge=0,
        le=300,
        description="Wait before the second attempt of a notification; doubled before each "
        "further one (exponential backoff).",
    )
    alert_evaluation_seconds: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="How often every enabled alert rule is evaluated; also the step of the "
        "range queries of detector, absence and burn-rate rules. See docs/alerting.md.",
    )
    alert_rules_dir: str = Field(
        "",
        description="Directory of alert rule files (*.yaml, *.yml), loaded at start and "
        "re-read every evaluation; empty turns alert rules as code off. See docs/alerting.md.",
    )
    alert_backtest_max_steps: int = Field(
        200_000,
        ge=1000,
        le=1_000_000,
        description="The most steps one backtest query may evaluate (30 days at 1 minute "
        "is 43,200).",
    )
    oncall_escalation_seconds: float = Field(
        30.0,
        gt=0,
        description="How often un-acknowledged pages are checked and escalated once their "
        "step's wait has run out.",
    )
    query_timeout_seconds: float = Field(
        30.0, gt=0, description="A metric query running longer than this is cancelled (503)."
    )
    query_parallel: int = Field(
        4,
        ge=1,
        le=64,
        description="How many queries of one request (a dashboard's panels) are evaluated "
        "at once; they share their store reads.",
    )
    query_max_series: int = Field(
        10_000, ge=1, description="The most series one selector of a query may match."
    )
    query_max_points: int = Field(
        11_000,
        ge=10,
        description="The most steps (points per series) a range query may return; a larger "
        "request is refused with a message asking for a larger step.",
    )
    query_max_samples: int = Field(
        20_000_000,
        ge=1000,
        description="The most stored points or rollup buckets one query may read.",
    )
    rollup_interval_seconds: float = Field(
        15.0,
        gt=0,
        description="How often the 1-minute and 1-hour rollups are brought up to date.",
    )
    dashboards_dir: str = Field(
        "",
        description="A directory of dashboard YAML files (dashboards as code), loaded at start "
        "and re-synced every 30 s; empty means none.",
    )
    demo_tick_seconds: float = Field(
        5.0, gt=0, description="How often `radiator demo` feeds new live data."
    )

    @field_validator("scrape_targets")
    @classmethod
    def _distinct_targets(cls, value: list[ScrapeTarget]) -> list[ScrapeTarget]:
        seen: set[tuple[str, str]] = set()
        for target in value:
            if target.timeout > target.interval_seconds:
                raise ValueError(f"{target.url}: timeout_seconds exceeds interval_seconds")
            if (target.job, target.url) in seen:
                raise ValueError(f"{target.url} is listed twice for job {target.job!r}")
            seen.add((target.job, target.url))
        return value

    @field_validator("state_dsn")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be empty, a sqlite:/// URL or a postgresql+psycopg:// URL")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        named = os.environ.get("RADIATOR_CONFIG", "")
        # The default file is optional, but a file asked for by name must exist: a typo in
        # the path would otherwise start Radiator on defaults without a word.
        if named and not Path(named).is_file():
            raise FileNotFoundError(f"RADIATOR_CONFIG names {named!r}, which is not a file")
        toml_path = named or "radiator.toml"
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_path),
        )

    @property
    def resolved_state_dsn(self) -> str:
        return self.state_dsn or f"sqlite:///{self.data_dir / 'state.db'}"

    @property
    def resolved_telemetry_path(self) -> str:
        return self.telemetry_path or str(self.data_dir / "telemetry.duckdb")

    @property
    def resolved_archive_dir(self) -> Path:
        return Path(self.archive_dir) if self.archive_dir else self.data_dir / "archive"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


def _describe(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error["loc"]]
    name = ".".join(loc) or "settings"
    message = str(error["msg"])
    if error["type"] == "extra_forbidden" and len(loc) > 1:  # inside e.g. a scrape target
        message = "is not a field it takes (see docs/configuration.md)"
    elif error["type"] == "extra_forbidden":
        message = "is not a Radiator setting (see docs/configuration.md for the list)"
    elif "input" in error and error["type"] != "missing":
        message = f"{message} (got {error['input']!r})"
    env_name = "RADIATOR_" + (loc[0] if loc else name).upper()
    return f"setting '{name}' ({env_name}): {message}"


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation failures into one ``ConfigError`` naming each setting.

    Raises:
        ConfigError: a setting has a value outside what it accepts, or the TOML file is invalid.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [_describe(dict(err)) for err in exc.errors()]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}") from exc
