"""radius_spool_offsets: how far netmgr applied each FreeRADIUS accounting detail file

Revision ID: 0026_i15a
Revises: 0029_edge_collectors
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_i15a"
down_revision: str | None = "0029_edge_collectors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "radius_spool_offsets",
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file", name=op.f("pk_radius_spool_offsets")),
    )


def downgrade() -> None:
    op.drop_table("radius_spool_offsets")
