"""payments: processor records, payment links, retries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sandbox_charges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('token', sa.String(length=128), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('reference')
    )
    op.create_table('payment_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_payment_links_account_id', 'payment_links', ['account_id'], unique=False)
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gateway_reference', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('retry_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('settled_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_payments_retry_of', 'payments', ['retry_of_id'], ['id'])
    with op.batch_alter_table('sandbox_vault', schema=None) as batch_op:
        batch_op.add_column(sa.Column('brand', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sandbox_vault', schema=None) as batch_op:
        batch_op.drop_column('brand')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint('fk_payments_retry_of', type_='foreignkey')
        batch_op.drop_column('settled_at')
        batch_op.drop_column('retry_of_id')
        batch_op.drop_column('gateway_reference')
    op.drop_index('ix_payment_links_account_id', table_name='payment_links')
    op.drop_table('payment_links')
    op.drop_table('sandbox_charges')
