"""outbox request id: a job's log lines carry the id of the request that queued it

Revision ID: 5e0b7d3c9a41
Revises: 2914e259b2bc
Create Date: 2026-12-06 03:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e0b7d3c9a41'
down_revision = '2914e259b2bc'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('request_id')
