"""alerts, their damped conditions, and the notifications sent

Revision ID: 0007_alerts
Revises: 0006_traffic
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_alerts"
down_revision: str | None = "0006_traffic"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=15), nullable=False),
        sa.Column("subject_type", sa.String(length=15), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_name", sa.String(length=300), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_alerts_agency_id_agencies"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_alerts_site_id_sites"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_alerts_device_id_devices"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_subject", ["kind", "subject_type", "subject_id", "state"], unique=False)
        batch_op.create_index("ix_alerts_state_opened_at", ["state", "opened_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_device_id"), ["device_id"], unique=False)

    op.create_table(
        "alert_conditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject_type", sa.String(length=15), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Boolean(), nullable=False),
        sa.Column("raw_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_conditions")),
        sa.UniqueConstraint("kind", "subject_type", "subject_id", name="uq_alert_conditions_subject"),
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name=op.f("fk_notifications_alert_id_alerts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_alert_id", ["alert_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_alert_id")
    op.drop_table("notifications")
    op.drop_table("alert_conditions")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_device_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_site_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_agency_id"))
        batch_op.drop_index("ix_alerts_state_opened_at")
        batch_op.drop_index("ix_alerts_subject")
    op.drop_table("alerts")
