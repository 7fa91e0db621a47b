"""insurance updates and transfers, contact changes, statement deliveries

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

POLICY_COLUMNS = (
    ('subscriber', sa.String(length=200)),
    ('effective_date', sa.Date()),
    ('reported_at', sa.DateTime()),
    ('reported_by', sa.String(length=64)),
    ('conversation_id', sa.String(length=128)),
    ('verified_at', sa.DateTime()),
    ('verified_by', sa.String(length=64)),
    ('status_note', sa.String(length=500)),
)


def upgrade() -> None:
    with op.batch_alter_table('insurance_policies') as batch:
        for name, kind in POLICY_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_table('insurance_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('close_note', sa.String(length=500), nullable=True),
    sa.Column('return_entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['policy_id'], ['insurance_policies.id'], ),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], ),
    sa.ForeignKeyConstraint(['return_entry_id'], ['ledger_entries.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_insurance_transfers_account_id', 'insurance_transfers', ['account_id'], unique=False)
    op.create_table('contact_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('old_value', sa.String(length=500), nullable=True),
    sa.Column('new_value', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('notice_to', sa.String(length=200), nullable=True),
    sa.Column('notice_status', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_contact_changes_client_id', 'contact_changes', ['client_id'], unique=False)
    op.create_index('ix_contact_changes_patient_id', 'contact_changes', ['patient_id'], unique=False)
    op.create_table('statement_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('delivery', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('sent_to', sa.String(length=300), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('downloaded_at', sa.DateTime(), nullable=True),
    sa.Column('failed_checks', sa.Integer(), nullable=False),
    sa.Column('mailed_at', sa.DateTime(), nullable=True),
    sa.Column('mailed_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_statement_deliveries_account_id', 'statement_deliveries', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_statement_deliveries_account_id', table_name='statement_deliveries')
    op.drop_table('statement_deliveries')
    op.drop_index('ix_contact_changes_patient_id', table_name='contact_changes')
    op.drop_index('ix_contact_changes_client_id', table_name='contact_changes')
    op.drop_table('contact_changes')
    op.drop_index('ix_insurance_transfers_account_id', table_name='insurance_transfers')
    op.drop_table('insurance_transfers')
    with op.batch_alter_table('insurance_policies') as batch:
        for name, _ in reversed(POLICY_COLUMNS):
            batch.drop_column(name)
