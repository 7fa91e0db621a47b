"""outreach pace and schedule: each sending number's next free send slot, shared by every worker; when the planner last ran per client

Revision ID: 0011_outreach_pace
Revises: 0010_outreach
Create Date: 2026-12-01 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_outreach_pace'
down_revision = '0010_outreach'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outreach_pace',
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('next_slot', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('number'),
    )
    op.create_table(
        'outreach_schedule',
        sa.Column('client_id', sa.String(length=40), nullable=False),
        sa.Column('last_planned', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['clients.id']),
        sa.PrimaryKeyConstraint('client_id'),
    )


def downgrade() -> None:
    op.drop_table('outreach_schedule')
    op.drop_table('outreach_pace')
