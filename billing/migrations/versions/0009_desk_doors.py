"""the handoff queues (departments) a desk user works

Revision ID: 0009_desk_doors
Revises: 0009_identity_lock
Create Date: 2026-11-30 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_desk_doors'
down_revision = '0009_identity_lock'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users') as batch:
        batch.add_column(sa.Column('departments', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_users') as batch:
        batch.drop_column('departments')
