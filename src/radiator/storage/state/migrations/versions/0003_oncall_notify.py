"""oncall and notify: schedules, escalation policies, contacts, pages, channels, deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 00:26:16.777409
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import radiator.storage.state.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_channels",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_channels")),
        sa.UniqueConstraint("name", name=op.f("uq_notify_channels_name")),
    )
    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=63), nullable=False),
        sa.Column("channel_type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.JSON(), nullable=False),
        sa.Column("page_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_deliveries")),
    )
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notify_deliveries_channel"), ["channel"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notify_deliveries_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notify_deliveries_page_id"), ["page_id"], unique=False)

    op.create_table(
        "oncall_contacts",
        sa.Column("username", sa.String(length=63), nullable=False),
        sa.Column("channel", sa.String(length=63), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("username", "channel", name=op.f("pk_oncall_contacts")),
    )
    op.create_table(
        "oncall_escalation_policies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_escalation_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_oncall_escalation_policies_name")),
    )
    op.create_table(
        "oncall_pages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("policy", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("target_user", sa.String(length=63), nullable=True),
        sa.Column(
            "triggered_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "escalate_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "acknowledged_at",
            radiator.storage.state.tables.UTCDateTime(timezone=True),
            nullable=True,
        ),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column(
            "resolved_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_pages")),
    )
    with op.batch_alter_table("oncall_pages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oncall_pages_service_dedup_key", ["service", "dedup_key"], unique=False
        )
        batch_op.create_index(
            "ix_oncall_pages_status_escalate_at", ["status", "escalate_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oncall_pages_triggered_at"), ["triggered_at"], unique=False
        )

    op.create_table(
        "oncall_schedules",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("handoff_time", sa.String(length=8), nullable=False),
        sa.Column("rotation", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oncall_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_oncall_schedules_name")),
    )
    op.create_table(
        "oncall_ack_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("page_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=63), nullable=True),
        sa.Column(
            "created_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["oncall_pages.id"],
            name=op.f("fk_oncall_ack_tokens_page_id_oncall_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oncall_ack_tokens")),
    )
    with op.batch_alter_table("oncall_ack_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oncall_ack_tokens_page_id"), ["page_id"], unique=False)

    op.create_table(
        "oncall_policy_services",
        sa.Column("service", sa.String(length=63), nullable=False),
        sa.Column(
            "policy_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["oncall_escalation_policies.id"],
            name=op.f("fk_oncall_policy_services_policy_id_oncall_escalation_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service", name=op.f("pk_oncall_policy_services")),
    )
    with op.batch_alter_table("oncall_policy_services", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oncall_policy_services_policy_id"), ["policy_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oncall_policy_services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_policy_services_policy_id"))

    op.drop_table("oncall_policy_services")
    with op.batch_alter_table("oncall_ack_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_ack_tokens_page_id"))

    op.drop_table("oncall_ack_tokens")
    op.drop_table("oncall_schedules")
    with op.batch_alter_table("oncall_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oncall_pages_triggered_at"))
        batch_op.drop_index("ix_oncall_pages_status_escalate_at")
        batch_op.drop_index("ix_oncall_pages_service_dedup_key")

    op.drop_table("oncall_pages")
    op.drop_table("oncall_escalation_policies")
    op.drop_table("oncall_contacts")
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notify_deliveries_page_id"))
        batch_op.drop_index(batch_op.f("ix_notify_deliveries_created_at"))
        batch_op.drop_index(batch_op.f("ix_notify_deliveries_channel"))

    op.drop_table("notify_deliveries")
    op.drop_table("notify_channels")
