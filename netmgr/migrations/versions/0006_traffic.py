"""traffic usage meters, rollups, poll state and leases

Revision ID: 0006_traffic
Revises: 0005_portal
Create Date: 2026-11-22 13:37:34.097806
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_traffic'
down_revision: str | None = '0005_portal'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('traffic_dirty_hours',
    sa.Column('hour_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('hour_start', name=op.f('pk_traffic_dirty_hours'))
    )
    op.create_table('poll_leases',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_poll_leases_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_poll_leases'))
    )
    op.create_table('poll_state',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_poll_state_device_id_devices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('device_id', name=op.f('pk_poll_state'))
    )
    op.create_table('traffic_meters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('interface_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('billing', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_traffic_meters_agency_id_agencies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_traffic_meters_device_id_devices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interface_id'], ['interfaces.id'], name=op.f('fk_traffic_meters_interface_id_interfaces'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_traffic_meters')),
    sa.UniqueConstraint('device_id', 'kind', 'name', name='uq_traffic_meters_device_id_kind_name')
    )
    with op.batch_alter_table('traffic_meters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_traffic_meters_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_traffic_meters_device_id'), ['device_id'], unique=False)

    op.create_table('traffic_5m',
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('bucket_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hour_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('in_octets', sa.BigInteger(), nullable=False),
    sa.Column('out_octets', sa.BigInteger(), nullable=False),
    sa.Column('covered_s', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['meter_id'], ['traffic_meters.id'], name=op.f('fk_traffic_5m_meter_id_traffic_meters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meter_id', 'bucket_start', name=op.f('pk_traffic_5m'))
    )
    with op.batch_alter_table('traffic_5m', schema=None) as batch_op:
        batch_op.create_index('ix_traffic_5m_day', ['day'], unique=False)
        batch_op.create_index('ix_traffic_5m_hour_start', ['hour_start'], unique=False)

    op.create_table('traffic_daily',
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('in_octets', sa.BigInteger(), nullable=False),
    sa.Column('out_octets', sa.BigInteger(), nullable=False),
    sa.Column('p95_in_bps', sa.Float(), nullable=False),
    sa.Column('p95_out_bps', sa.Float(), nullable=False),
    sa.Column('max_in_bps', sa.Float(), nullable=False),
    sa.Column('max_out_bps', sa.Float(), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meter_id'], ['traffic_meters.id'], name=op.f('fk_traffic_daily_meter_id_traffic_meters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meter_id', 'day', name=op.f('pk_traffic_daily'))
    )
    op.create_table('traffic_hourly',
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('hour_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('in_octets', sa.BigInteger(), nullable=False),
    sa.Column('out_octets', sa.BigInteger(), nullable=False),
    sa.Column('covered_s', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['meter_id'], ['traffic_meters.id'], name=op.f('fk_traffic_hourly_meter_id_traffic_meters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meter_id', 'hour_start', name=op.f('pk_traffic_hourly'))
    )
    with op.batch_alter_table('traffic_hourly', schema=None) as batch_op:
        batch_op.create_index('ix_traffic_hourly_day', ['day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('traffic_hourly', schema=None) as batch_op:
        batch_op.drop_index('ix_traffic_hourly_day')

    op.drop_table('traffic_hourly')
    op.drop_table('traffic_daily')
    with op.batch_alter_table('traffic_5m', schema=None) as batch_op:
        batch_op.drop_index('ix_traffic_5m_hour_start')
        batch_op.drop_index('ix_traffic_5m_day')

    op.drop_table('traffic_5m')
    with op.batch_alter_table('traffic_meters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_traffic_meters_device_id'))
        batch_op.drop_index(batch_op.f('ix_traffic_meters_agency_id'))

    op.drop_table('traffic_meters')
    op.drop_table('poll_state')
    op.drop_table('poll_leases')
    op.drop_table('traffic_dirty_hours')
