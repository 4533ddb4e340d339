"""the language a visitor filed a complaint in, so that its later e-mails are written in it

Revision ID: 5c3e9a1f7d20
Revises: a3c81f5e07d2
Create Date: 2026-12-06 07:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c3e9a1f7d20'
down_revision = 'a3c81f5e07d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_locale', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('reporter_locale')
