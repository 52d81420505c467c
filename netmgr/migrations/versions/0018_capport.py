"""capport: hotspot sessions looked up by client address (Captive Portal API, connectivity probes)

Revision ID: 0018_capport
Revises: 0017_ping_targets
Create Date: 2026-12-07 18:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018_capport"
down_revision: str | None = "0017_ping_targets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hotspot_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_hotspot_sessions_ip_status", ["ip", "status", "hotspot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hotspot_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_hotspot_sessions_ip_status")
