"""uplink contract history: the terms an uplink was billed at before a renewal or a price change

Revision ID: 0014_uplink_contract_history
Revises: 0012_web_sessions
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_uplink_contract_history"
down_revision: str | None = "0012_web_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uplink_contract_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uplink_id", sa.Integer(), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=True),
        sa.Column("contract_end", sa.Date(), nullable=False),
        sa.Column("monthly_price_idr", sa.BigInteger(), nullable=False),
        sa.Column("tax_percent", sa.Float(), nullable=False),
        sa.Column("billing_model", sa.String(length=20), nullable=False),
        sa.Column("committed_mbps", sa.Integer(), nullable=True),
        sa.Column("price_per_gb_idr", sa.BigInteger(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["uplink_id"], ["uplinks.id"],
                                name=op.f("fk_uplink_contract_history_uplink_id_uplinks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uplink_contract_history")),
    )
    with op.batch_alter_table("uplink_contract_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_uplink_contract_history_uplink_id"), ["uplink_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("uplink_contract_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_uplink_contract_history_uplink_id"))
    op.drop_table("uplink_contract_history")
