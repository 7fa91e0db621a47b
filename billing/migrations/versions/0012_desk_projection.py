"""desk projection: conversations and their events fed by Rasa's event broker, and the feed's high-water marks

Revision ID: 0012_desk_projection
Revises: 0011_outreach_pace
Create Date: 2026-12-01 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_desk_projection'
down_revision = '0011_outreach_pace'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'desk_conversations',
        sa.Column('id', sa.String(length=255), nullable=False),
        sa.Column('client_id', sa.String(length=40), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=True),
        sa.Column('language', sa.String(length=8), nullable=True),
        sa.Column('started_at', sa.Float(), nullable=False),
        sa.Column('last_at', sa.Float(), nullable=False),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column('patient_turns', sa.Integer(), nullable=False),
        sa.Column('intents', sa.JSON(), nullable=False),
        sa.Column('actions', sa.JSON(), nullable=False),
        sa.Column('paused', sa.Boolean(), nullable=False),
        sa.Column('verified_at', sa.Float(), nullable=True),
        sa.Column('detail_before_verification', sa.Integer(), nullable=False),
        sa.Column('max_fallbacks_in_a_row', sa.Integer(), nullable=False),
        sa.Column('opt_out_at', sa.Float(), nullable=True),
        sa.Column('opt_out_honoured', sa.Boolean(), nullable=False),
        sa.Column('messages_after_opt_out', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_desk_conversations_last_at'), 'desk_conversations', ['last_at'], unique=False)
    op.create_table(
        'desk_conversation_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.String(length=255), nullable=False),
        sa.Column('identity', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('timestamp', sa.Float(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('outreach_attempt', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('identity'),
    )
    op.create_index(op.f('ix_desk_conversation_events_conversation_id'), 'desk_conversation_events', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_desk_conversation_events_timestamp'), 'desk_conversation_events', ['timestamp'], unique=False)
    op.create_index(op.f('ix_desk_conversation_events_outreach_attempt'), 'desk_conversation_events', ['outreach_attempt'], unique=False)
    op.create_table(
        'desk_projection_marks',
        sa.Column('source', sa.String(length=255), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('source'),
    )


def downgrade() -> None:
    op.drop_table('desk_projection_marks')
    op.drop_index(op.f('ix_desk_conversation_events_outreach_attempt'), table_name='desk_conversation_events')
    op.drop_index(op.f('ix_desk_conversation_events_timestamp'), table_name='desk_conversation_events')
    op.drop_index(op.f('ix_desk_conversation_events_conversation_id'), table_name='desk_conversation_events')
    op.drop_table('desk_conversation_events')
    op.drop_index(op.f('ix_desk_conversations_last_at'), table_name='desk_conversations')
    op.drop_table('desk_conversations')
