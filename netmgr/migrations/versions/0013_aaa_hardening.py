"""hotspot sessions keep RADIUS's 32-bit unsigned session time and interim interval (BIGINT)

Acct-Session-Time and Acct-Interim-Interval are unsigned 32-bit on the wire; a signed INTEGER column made
PostgreSQL refuse values from 2**31 on.

Revision ID: 0013_aaa_hardening
Revises: 0009_grant_mac_index
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_aaa_hardening"
down_revision: str | None = "0009_grant_mac_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("session_time_s", "interim_interval_s")


def upgrade() -> None:
    with op.batch_alter_table("hotspot_sessions", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.alter_column(name, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("hotspot_sessions", schema=None) as batch_op:
        for name in _COLUMNS:
            batch_op.alter_column(name, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
