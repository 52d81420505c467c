"""hotspot terms versions: every version of a hotspot's terms and privacy text, and which one a consent accepted

Revision ID: 0022_i13
Revises: 0027_i15p
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_i13"
down_revision: str | None = "0027_i15p"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hotspot_terms_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hotspot_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("terms_text", sa.Text(), nullable=False),
        sa.Column("privacy_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["hotspot_id"], ["hotspots.id"],
                                name=op.f("fk_hotspot_terms_versions_hotspot_id_hotspots"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_terms_versions")),
        sa.UniqueConstraint("hotspot_id", "version", name=op.f("uq_hotspot_terms_versions_hotspot_id")),
    )
    with op.batch_alter_table("hotspot_terms_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_terms_versions_hotspot_id"), ["hotspot_id"], unique=False)
    with op.batch_alter_table("hotspots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("privacy_text", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("terms_version_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_consent_records_terms_version_id"), ["terms_version_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_consent_records_terms_version_id_hotspot_terms_versions"),
                                    "hotspot_terms_versions", ["terms_version_id"], ["id"], ondelete="SET NULL")
    # Each hotspot's current terms become its first kept version; consents to it point at that version.
    op.execute(sa.text(
        "INSERT INTO hotspot_terms_versions (hotspot_id, version, terms_text, privacy_text, created_at, created_by) "
        "SELECT id, terms_version, terms_text, '', updated_at, 'migration' FROM hotspots"))
    op.execute(sa.text(
        "UPDATE consent_records SET terms_version_id = (SELECT v.id FROM hotspot_terms_versions v "
        "WHERE v.hotspot_id = consent_records.hotspot_id AND v.version = consent_records.terms_version)"))


def downgrade() -> None:
    with op.batch_alter_table("consent_records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_consent_records_terms_version_id_hotspot_terms_versions"),
                                 type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_consent_records_terms_version_id"))
        batch_op.drop_column("terms_version_id")
    with op.batch_alter_table("hotspots", schema=None) as batch_op:
        batch_op.drop_column("privacy_text")
    with op.batch_alter_table("hotspot_terms_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_terms_versions_hotspot_id"))
    op.drop_table("hotspot_terms_versions")
