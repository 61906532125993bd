"""dashboards and kiosk links

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 01:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import radiator.storage.state.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> radiator.storage.state.tables.UTCDateTime:
    return radiator.storage.state.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dashboards",
        sa.Column("id", _ID, nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboards")),
        sa.UniqueConstraint("slug", name=op.f("uq_dashboards_slug")),
    )
    op.create_table(
        "kiosk_links",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("dashboards", sa.JSON(), nullable=False),
        sa.Column("rotate_seconds", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("revoked_at", _time(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_links")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_kiosk_links_secret_hash")),
    )


def downgrade() -> None:
    op.drop_table("kiosk_links")
    op.drop_table("dashboards")
