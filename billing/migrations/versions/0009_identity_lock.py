"""verification failures counted per patient, and the patient's lock

Revision ID: 0009_identity_lock
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_identity_lock'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_identity_failures_patient_id', 'identity_failures', ['patient_id'], unique=False)
    op.create_table('identity_locks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('locked_at', sa.DateTime(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=False),
    sa.Column('unlocked_at', sa.DateTime(), nullable=True),
    sa.Column('unlocked_by', sa.String(length=64), nullable=True),
    sa.Column('unlock_note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_identity_locks_patient_id', 'identity_locks', ['patient_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_identity_locks_patient_id', table_name='identity_locks')
    op.drop_table('identity_locks')
    op.drop_index('ix_identity_failures_patient_id', table_name='identity_failures')
    op.drop_table('identity_failures')
