"""audit entries keep their sentence's key and values, rendered in the reader's language when shown

Revision ID: 0021_i11
Revises: 0025_i14l
Create Date: 2026-12-07 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_i11"
down_revision: str | None = "0025_i14l"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("message", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("params")
        batch.drop_column("message")
