"""cost entries corrected or voided: a state (active, corrected, voided), the entry that replaced a corrected one, and who, when and why

Revision ID: 5c3e9a1d7b24
Revises: 3c8e5a1f9b27
Create Date: 2026-12-06 06:44:31.030128

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base


# revision identifiers, used by Alembic.
revision = '5c3e9a1d7b24'
down_revision = '3c8e5a1f9b27'
branch_labels = None
depends_on = None


def upgrade():

    with op.batch_alter_table('cost_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=10), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('replaced_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('state_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('state_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('state_at', portal.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cost_entries_state_by_id_staff_users'), 'staff_users', ['state_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_cost_entries_replaced_by_id_cost_entries'), 'cost_entries', ['replaced_by_id'], ['id'], ondelete='SET NULL')




def downgrade():

    with op.batch_alter_table('cost_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cost_entries_replaced_by_id_cost_entries'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cost_entries_state_by_id_staff_users'), type_='foreignkey')
        batch_op.drop_column('state_at')
        batch_op.drop_column('state_by_id')
        batch_op.drop_column('state_reason')
        batch_op.drop_column('replaced_by_id')
        batch_op.drop_column('state')


