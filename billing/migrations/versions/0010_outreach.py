"""outreach: attempts keyed on (account, campaign, step, channel), partners' holds, paused campaigns

Revision ID: 0010_outreach
Revises: 0009_desk_doors
Create Date: 2026-12-01 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_outreach'
down_revision = '0009_desk_doors'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outreach_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=40), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.String(length=64), nullable=False),
        sa.Column('campaign', sa.String(length=40), nullable=False),
        sa.Column('step', sa.String(length=64), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('to', sa.String(length=20), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('status_at', sa.DateTime(), nullable=True),
        sa.Column('provider_sid', sa.String(length=64), nullable=True),
        sa.Column('error_code', sa.String(length=16), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('answered_by', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id']),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'campaign', 'step', 'channel'),
    )
    op.create_index(op.f('ix_outreach_attempts_account_id'), 'outreach_attempts', ['account_id'], unique=False)
    op.create_index(op.f('ix_outreach_attempts_client_id'), 'outreach_attempts', ['client_id'], unique=False)
    op.create_index(op.f('ix_outreach_attempts_patient_id'), 'outreach_attempts', ['patient_id'], unique=False)
    op.create_index(op.f('ix_outreach_attempts_created_at'), 'outreach_attempts', ['created_at'], unique=False)
    op.create_index(op.f('ix_outreach_attempts_provider_sid'), 'outreach_attempts', ['provider_sid'], unique=False)
    op.create_table(
        'outreach_holds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=False),
        sa.Column('placed_at', sa.DateTime(), nullable=False),
        sa.Column('placed_by', sa.String(length=64), nullable=False),
        sa.Column('lifted_at', sa.DateTime(), nullable=True),
        sa.Column('lifted_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_outreach_holds_account_id'), 'outreach_holds', ['account_id'], unique=False)
    op.create_table(
        'outreach_pauses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=40), nullable=False),
        sa.Column('campaign', sa.String(length=40), nullable=False),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.Column('changed_by', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('client_id', 'campaign'),
    )


def downgrade() -> None:
    op.drop_table('outreach_pauses')
    op.drop_index(op.f('ix_outreach_holds_account_id'), table_name='outreach_holds')
    op.drop_table('outreach_holds')
    for column in ('provider_sid', 'created_at', 'patient_id', 'client_id', 'account_id'):
        op.drop_index(op.f(f'ix_outreach_attempts_{column}'), table_name='outreach_attempts')
    op.drop_table('outreach_attempts')
