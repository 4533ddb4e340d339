"""queue index for open complaints newest first: the default view reads its page off it

Revision ID: 2914e259b2bc
Revises: be4b2474f123
Create Date: 2026-12-01 21:29:12.301057

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2914e259b2bc'
down_revision = 'be4b2474f123'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_open_newest', ['tenant_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_where=sa.text("status IN ('received', 'verifying', 'waiting_customer', 'accepted', 'containment', 'analysis', 'corrective_action', 'verifying_effectiveness', 'answered')"))



def downgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_open_newest', postgresql_where=sa.text("status IN ('received', 'verifying', 'waiting_customer', 'accepted', 'containment', 'analysis', 'corrective_action', 'verifying_effectiveness', 'answered')"))

