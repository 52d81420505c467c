"""indexes for sorting long lists (devices, alerts, live hotspot sessions)

Revision ID: 0025_i14l
Revises: 0022_i13
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025_i14l"
down_revision: str | None = "0022_i13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("devices", "ix_devices_status_id", ["status", "id"]),
    ("devices", "ix_devices_role_id", ["role", "id"]),
    ("devices", "ix_devices_platform_id", ["platform", "id"]),
    ("devices", "ix_devices_last_seen_at_id", ["last_seen_at", "id"]),
    ("devices", "ix_devices_site_id_id", ["site_id", "id"]),
    ("alerts", "ix_alerts_opened_at_id", ["opened_at", "id"]),
    ("hotspot_sessions", "ix_hotspot_sessions_status_started_at_id", ["status", "started_at", "id"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
