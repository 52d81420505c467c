"""edge collectors: remote pollers that forward their sites' metrics and usage to the centre

Revision ID: 0029_edge_collectors
Revises: 0020_alert_transports
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029_edge_collectors"
down_revision: str | None = "0020_alert_transports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "edge_collectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token_prefix", sa.String(length=12), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_address", sa.String(length=64), nullable=False),
        sa.Column("backlog_points", sa.Integer(), nullable=False),
        sa.Column("oldest_backlog_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent_version", sa.String(length=40), nullable=False),
        sa.Column("link_down", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_edge_collectors_site_id_sites"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edge_collectors")),
        sa.UniqueConstraint("name", name=op.f("uq_edge_collectors_name")),
        sa.UniqueConstraint("site_id", name=op.f("uq_edge_collectors_site_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_edge_collectors_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("edge_collectors")
