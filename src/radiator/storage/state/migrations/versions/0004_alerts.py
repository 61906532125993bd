"""alerts: rules, alerts, notes, silences, maintenance windows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 00:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import radiator.storage.state.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(
        name, radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("owner", sa.String(length=63), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("broken_error", sa.Text(), nullable=False),
        _time("broken_since", nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_rules_name")),
    )
    op.create_index(op.f("ix_alert_rules_owner"), "alert_rules", ["owner"], unique=False)
    op.create_table(
        "alerts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("rule", sa.String(length=63), nullable=False),
        sa.Column("fingerprint", sa.String(length=40), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=63), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        _time("started_at"),
        _time("fired_at", nullable=True),
        _time("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=False),
        _time("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=False),
        _time("last_seen_at"),
        sa.Column("suppressed_by", sa.String(length=63), nullable=False),
        sa.Column("page_id", sa.BigInteger(), nullable=True),
        sa.Column("group_key", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    for column in ("rule", "fingerprint", "owner", "state", "started_at"):
        op.create_index(op.f(f"ix_alerts_{column}"), "alerts", [column], unique=False)
    op.create_table(
        "alert_notes",
        sa.Column("id", _ID, nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _time("created_at"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_notes_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notes")),
    )
    op.create_index(op.f("ix_alert_notes_alert_id"), "alert_notes", ["alert_id"], unique=False)
    op.create_table(
        "alert_silences",
        sa.Column("id", _ID, nullable=False),
        sa.Column("matchers", sa.JSON(), nullable=False),
        _time("starts_at"),
        _time("ends_at"),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_silences")),
    )
    op.create_index(op.f("ix_alert_silences_ends_at"), "alert_silences", ["ends_at"], unique=False)
    op.create_table(
        "maintenance_windows",
        sa.Column("id", _ID, nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        _time("starts_at"),
        _time("ends_at"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        _time("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
    )
    op.create_index(
        op.f("ix_maintenance_windows_service"), "maintenance_windows", ["service"], unique=False
    )
    op.create_index(
        op.f("ix_maintenance_windows_ends_at"), "maintenance_windows", ["ends_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("maintenance_windows")
    op.drop_table("alert_silences")
    op.drop_table("alert_notes")
    op.drop_table("alerts")
    op.drop_table("alert_rules")
