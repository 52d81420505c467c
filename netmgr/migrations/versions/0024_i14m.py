"""alerts keep their reason: the checks that failed and their evidence (JSON, worded when shown)

Revision ID: 0024_i14m
Revises: 0026_i15a
Create Date: 2026-12-07 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_i14m"
down_revision: str | None = "0026_i15a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("reason")
