"""tenant sign-up address and e-mail, counted by the sign-up rate limit

Revision ID: be4b2474f123
Revises: c7e4a91d2b10
Create Date: 2026-11-25 22:53:12.646363

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'be4b2474f123'
down_revision = 'c7e4a91d2b10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signup_address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('signup_email', sa.String(length=254), nullable=True))
        batch_op.create_index(batch_op.f('ix_tenants_signup_address'), ['signup_address'], unique=False)
        batch_op.create_index(batch_op.f('ix_tenants_signup_email'), ['signup_email'], unique=False)


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenants_signup_email'))
        batch_op.drop_index(batch_op.f('ix_tenants_signup_address'))
        batch_op.drop_column('signup_email')
        batch_op.drop_column('signup_address')
