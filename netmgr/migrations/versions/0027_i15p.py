"""poll workers' heartbeats and the poll cycle of each device's last poll

Revision ID: 0027_i15p
Revises: 0024_i14m
Create Date: 2026-12-07 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_i15p"
down_revision: str | None = "0024_i14m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "poll_workers",
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("node", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cycle", sa.BigInteger(), nullable=True),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("lateness_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("holder", name=op.f("pk_poll_workers")),
    )
    with op.batch_alter_table("poll_state") as batch:
        batch.add_column(sa.Column("cycle", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("poll_state") as batch:
        batch.drop_column("cycle")
    op.drop_table("poll_workers")
