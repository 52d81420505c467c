"""bandwidth finance: plans with versions and allocations, budgets (pagu), bandwidth requests, closed months

Revision ID: 0008_finance
Revises: 0007_alerts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_finance"
down_revision: str | None = "0007_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "bandwidth_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("wan_interface", sa.String(length=64), nullable=False),
        sa.Column("lan_interface", sa.String(length=64), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_bandwidth_plans_device_id_devices"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bandwidth_plans")),
        sa.UniqueConstraint("name", name=op.f("uq_bandwidth_plans_name")),
    )
    op.create_table(
        "bandwidth_plan_uplinks",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("uplink_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["bandwidth_plans.id"],
                                name=op.f("fk_bandwidth_plan_uplinks_plan_id_bandwidth_plans"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uplink_id"], ["uplinks.id"],
                                name=op.f("fk_bandwidth_plan_uplinks_uplink_id_uplinks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "uplink_id", name=op.f("pk_bandwidth_plan_uplinks")),
    )
    op.create_table(
        "bandwidth_plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("capacity_down_mbps", sa.Float(), nullable=False),
        sa.Column("capacity_up_mbps", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_by", sa.String(length=64), nullable=True),
        sa.Column("provision_job_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["bandwidth_plans.id"],
                                name=op.f("fk_bandwidth_plan_versions_plan_id_bandwidth_plans"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["provision_job_id"], ["provision_jobs.id"],
                                name=op.f("fk_bandwidth_plan_versions_provision_job_id_provision_jobs"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bandwidth_plan_versions")),
        sa.UniqueConstraint("plan_id", "number", name="uq_bandwidth_plan_versions_plan_id"),
    )
    with op.batch_alter_table("bandwidth_plan_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bandwidth_plan_versions_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bandwidth_plan_versions_status"), ["status"], unique=False)
    op.create_table(
        "bandwidth_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("is_hotspot_pool", sa.Boolean(), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("cir_mbps", sa.Float(), nullable=False),
        sa.Column("mir_mbps", sa.Float(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"],
                                name=op.f("fk_bandwidth_allocations_agency_id_agencies"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["version_id"], ["bandwidth_plan_versions.id"],
                                name=op.f("fk_bandwidth_allocations_version_id_bandwidth_plan_versions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bandwidth_allocations")),
        sa.UniqueConstraint("version_id", "name", name="uq_bandwidth_allocations_version_id"),
    )
    with op.batch_alter_table("bandwidth_allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bandwidth_allocations_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bandwidth_allocations_version_id"), ["version_id"], unique=False)
    op.create_table(
        "budget_years",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("pagu_idr", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_years")),
        sa.UniqueConstraint("year", name=op.f("uq_budget_years_year")),
    )
    op.create_table(
        "bandwidth_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("cir_mbps", sa.Float(), nullable=False),
        sa.Column("mir_mbps", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_bandwidth_requests_agency_id_agencies"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_bandwidth_requests_decided_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["plan_id"], ["bandwidth_plans.id"],
                                name=op.f("fk_bandwidth_requests_plan_id_bandwidth_plans"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_bandwidth_requests_requested_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["version_id"], ["bandwidth_plan_versions.id"],
                                name=op.f("fk_bandwidth_requests_version_id_bandwidth_plan_versions"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bandwidth_requests")),
    )
    with op.batch_alter_table("bandwidth_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bandwidth_requests_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bandwidth_requests_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bandwidth_requests_status"), ["status"], unique=False)
    op.create_table(
        "closed_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_periods")),
        sa.UniqueConstraint("month", name=op.f("uq_closed_periods_month")),
    )


def downgrade() -> None:
    op.drop_table("closed_periods")
    with op.batch_alter_table("bandwidth_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bandwidth_requests_status"))
        batch_op.drop_index(batch_op.f("ix_bandwidth_requests_plan_id"))
        batch_op.drop_index(batch_op.f("ix_bandwidth_requests_agency_id"))
    op.drop_table("bandwidth_requests")
    op.drop_table("budget_years")
    with op.batch_alter_table("bandwidth_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bandwidth_allocations_version_id"))
        batch_op.drop_index(batch_op.f("ix_bandwidth_allocations_agency_id"))
    op.drop_table("bandwidth_allocations")
    with op.batch_alter_table("bandwidth_plan_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bandwidth_plan_versions_status"))
        batch_op.drop_index(batch_op.f("ix_bandwidth_plan_versions_plan_id"))
    op.drop_table("bandwidth_plan_versions")
    op.drop_table("bandwidth_plan_uplinks")
    op.drop_table("bandwidth_plans")
