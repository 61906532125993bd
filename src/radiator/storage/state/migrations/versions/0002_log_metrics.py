"""log metrics: rules that count log records, and their materialisation watermarks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:25:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import radiator.storage.state.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_metric_rules",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("metric", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=63), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_metric_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_log_metric_rules_name")),
    )
    op.create_table(
        "log_metric_watermarks",
        sa.Column("key", sa.String(length=63), nullable=False),
        sa.Column(
            "watermark", radiator.storage.state.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_log_metric_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("log_metric_watermarks")
    op.drop_table("log_metric_rules")
