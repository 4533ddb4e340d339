"""tenant reference version: every process's cached reference lists are checked against it

Revision ID: 5d2c8e1f0a47
Revises: 5e0b7d3c9a41
Create Date: 2026-12-06 03:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2c8e1f0a47'
down_revision = '5e0b7d3c9a41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference_version', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('reference_version')
