"""alert transports and the routes that send alerts to them

Revision ID: 0020_alert_transports
Revises: 0018_capport
Create Date: 2026-12-07 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_alert_transports"
down_revision: str | None = "0018_capport"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_transports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=15), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_transports")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_transports_name")),
    )
    op.create_table(
        "alert_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transport_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("min_severity", sa.String(length=10), nullable=False),
        sa.Column("start", sa.String(length=5), nullable=True),
        sa.Column("end", sa.String(length=5), nullable=True),
        sa.ForeignKeyConstraint(["transport_id"], ["alert_transports.id"],
                                name=op.f("fk_alert_routes_transport_id_alert_transports"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_alert_routes_site_id_sites"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_alert_routes_agency_id_agencies"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_routes")),
    )
    op.create_index(op.f("ix_alert_routes_transport_id"), "alert_routes", ["transport_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_routes_transport_id"), table_name="alert_routes")
    op.drop_table("alert_routes")
    op.drop_table("alert_transports")
