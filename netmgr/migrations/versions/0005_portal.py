"""portal configuration per hotspot (gateway kind and hosts, FAS key, logo)

Revision ID: 0005_portal
Revises: 0004_hotspot
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_portal"
down_revision: str | None = "0004_hotspot"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hotspot_portal_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotspot_id", sa.Integer(), nullable=False),
        sa.Column("gateway_kind", sa.String(length=20), nullable=False),
        sa.Column("gateway_hosts", sa.JSON(), nullable=False),
        sa.Column("faskey_encrypted", sa.Text(), nullable=False),
        sa.Column("free_logins_per_day", sa.Integer(), nullable=False),
        sa.Column("default_language", sa.String(length=5), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["hotspot_id"], ["hotspots.id"],
                                name=op.f("fk_hotspot_portal_configs_hotspot_id_hotspots"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_portal_configs")),
        sa.UniqueConstraint("hotspot_id", name=op.f("uq_hotspot_portal_configs_hotspot_id")),
    )


def downgrade() -> None:
    op.drop_table("hotspot_portal_configs")
