"""hotspot admin: opening hours on policies, a price on voucher batches

Revision ID: 0015_hotspot_admin
Revises: 0014_uplink_contract_history
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_hotspot_admin"
down_revision: str | None = "0014_uplink_contract_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hotspot_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opening_start", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("opening_end", sa.String(length=5), nullable=True))
    with op.batch_alter_table("voucher_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("price_idr", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("voucher_batches", schema=None) as batch_op:
        batch_op.drop_column("price_idr")
    with op.batch_alter_table("hotspot_policies", schema=None) as batch_op:
        batch_op.drop_column("opening_end")
        batch_op.drop_column("opening_start")
