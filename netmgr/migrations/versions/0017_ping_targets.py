"""ping targets: ICMP status on devices and uplinks, the uplink's probe address and SLA terms, hourly ping rollups

Revision ID: 0017_ping_targets
Revises: 0016_task_outbox
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_ping_targets"
down_revision: str | None = "0016_task_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PING_STATUS = (
    ("ping_status", lambda: sa.Column("ping_status", sa.String(length=10), server_default="unknown", nullable=False)),
    ("ping_checked_at", lambda: sa.Column("ping_checked_at", sa.DateTime(timezone=True), nullable=True)),
    ("ping_rtt_ms", lambda: sa.Column("ping_rtt_ms", sa.Float(), nullable=True)),
    ("ping_loss_percent", lambda: sa.Column("ping_loss_percent", sa.Float(), nullable=True)),
)
_UPLINK_TERMS = (
    ("sla_max_latency_ms", lambda: sa.Column("sla_max_latency_ms", sa.Float(), nullable=True)),
    ("sla_max_loss_percent", lambda: sa.Column("sla_max_loss_percent", sa.Float(), nullable=True)),
    ("sla_restitution_cap_percent", lambda: sa.Column("sla_restitution_cap_percent", sa.Float(), nullable=True)),
    ("probe_address", lambda: sa.Column("probe_address", sa.String(length=100), nullable=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        for _, column in _PING_STATUS:
            batch_op.add_column(column())
    with op.batch_alter_table("uplinks", schema=None) as batch_op:
        for _, column in (*_UPLINK_TERMS, *_PING_STATUS):
            batch_op.add_column(column())
    op.create_table(
        "ping_hourly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("up_rounds", sa.Integer(), nullable=False),
        sa.Column("up_s", sa.Float(), nullable=False),
        sa.Column("down_s", sa.Float(), nullable=False),
        sa.Column("rtt_sum_ms", sa.Float(), nullable=False),
        sa.Column("rtt_min_ms", sa.Float(), nullable=True),
        sa.Column("rtt_max_ms", sa.Float(), nullable=True),
        sa.Column("loss_sum_percent", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ping_hourly")),
        sa.UniqueConstraint("subject_type", "subject_id", "hour_start",
                            name="uq_ping_hourly_subject_type_subject_id_hour_start"),
    )


def downgrade() -> None:
    op.drop_table("ping_hourly")
    with op.batch_alter_table("uplinks", schema=None) as batch_op:
        for name, _ in reversed((*_UPLINK_TERMS, *_PING_STATUS)):
            batch_op.drop_column(name)
    with op.batch_alter_table("devices", schema=None) as batch_op:
        for name, _ in reversed(_PING_STATUS):
            batch_op.drop_column(name)
