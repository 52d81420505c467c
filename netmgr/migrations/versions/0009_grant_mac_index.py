"""index hotspot grants by MAC and time (the portal's free-session count per device)

Revision ID: 0009_grant_mac_index
Revises: 0008_finance
Create Date: 2026-11-22 14:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_grant_mac_index"
down_revision: str | None = "0008_finance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_hotspot_grants_mac_created_at", "hotspot_grants", ["mac", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_hotspot_grants_mac_created_at", table_name="hotspot_grants")
