"""desk languages: the languages a staff user speaks; a handoff's language and its summary as data

Revision ID: 0013_desk_languages
Revises: 0012_desk_projection
Create Date: 2026-12-01 23:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_desk_languages'
down_revision = '0012_desk_projection'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users') as batch:
        batch.add_column(sa.Column('languages', sa.String(length=40), nullable=False, server_default='en'))
    with op.batch_alter_table('handoffs') as batch:
        batch.add_column(sa.Column('facts', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=False, server_default='en'))


def downgrade() -> None:
    with op.batch_alter_table('handoffs') as batch:
        batch.drop_column('language')
        batch.drop_column('facts')
    with op.batch_alter_table('staff_users') as batch:
        batch.drop_column('languages')
