"""carrier of a shipped replacement or exchange (service_requests.carrier, and the name typed
for "other" in carrier_name), told to the customer next to the tracking number

Revision ID: 73fbfe5a95d1
Revises: 5c1f9a2e7b3d
Create Date: 2026-12-06 08:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '73fbfe5a95d1'
down_revision = '5c1f9a2e7b3d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carrier', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('carrier_name', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_column('carrier_name')
        batch_op.drop_column('carrier')
