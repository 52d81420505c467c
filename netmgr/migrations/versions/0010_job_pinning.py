"""provisioning jobs pin what was approved (template and variables digests), so a later edit voids the approval

Revision ID: 0010_job_pinning
Revises: 0011_portal_budgets
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_job_pinning"
down_revision: str | None = "0011_portal_budgets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("provision_jobs", sa.Column("approved_pin", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("provision_jobs") as batch:
        batch.drop_column("approved_pin")
