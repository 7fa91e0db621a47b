"""disputes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 03:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('service_line_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolution', sa.String(length=1000), nullable=True),
    sa.Column('adjustment_entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['adjustment_entry_id'], ['ledger_entries.id'], ),
    sa.ForeignKeyConstraint(['service_line_id'], ['service_lines.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    op.create_index('ix_disputes_account_id', 'disputes', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_disputes_account_id', table_name='disputes')
    op.drop_table('disputes')
