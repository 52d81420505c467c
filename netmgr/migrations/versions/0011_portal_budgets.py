"""portal budgets: what each SMS and wrong-code budget has spent per window

Revision ID: 0011_portal_budgets
Revises: 0013_aaa_hardening
Create Date: 2026-12-07 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_portal_budgets"
down_revision: str | None = "0013_aaa_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_budget_counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_budget_counters")),
        sa.UniqueConstraint("budget", "key", "window_start", name="uq_portal_budget_counters_budget_key_window"),
    )
    op.create_index("ix_portal_budget_counters_window_start", "portal_budget_counters", ["window_start"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_portal_budget_counters_window_start", table_name="portal_budget_counters")
    op.drop_table("portal_budget_counters")
