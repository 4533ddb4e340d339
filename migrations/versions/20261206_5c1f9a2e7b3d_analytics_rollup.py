"""analytics rollups: complaints counted per tenant, local month, source and dimension (received,
defective units, closed), kept current by the complaints' flush hook and filled here from the
existing complaints; the loop figures (clocks, rates, recurrences, survey scores) per month,
refreshed by a job

Revision ID: 5c1f9a2e7b3d
Revises: 0ab8f13cdde5
Create Date: 2026-12-06 07:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

import portal.models.base

# revision identifiers, used by Alembic.
revision = '5c1f9a2e7b3d'
down_revision = '0ab8f13cdde5'
branch_labels = None
depends_on = None

FILL = (
    "INSERT INTO analytics_monthly (tenant_id, month, source, dimension, key, received, "
    "defects, closed) SELECT x.tid, x.m, x.s, d.dimension, d.key, sum(x.r), sum(x.q), sum(x.c) "
    "FROM (SELECT c.tenant_id AS tid, {created} AS m, coalesce(c.source, '') AS s, "
    "c.cause_category AS ca, c.failure_mode_id AS fm, c.product_model_id AS p, "
    "c.customer_company_id AS cu, c.responsible_department_id AS dep, 1 AS r, "
    "c.defect_quantity AS q, 0 AS c FROM complaints c JOIN tenants t ON t.id = c.tenant_id "
    "WHERE c.status <> 'rejected' {where} "
    "UNION ALL SELECT c.tenant_id, {closed}, coalesce(c.source, ''), c.cause_category, "
    "c.failure_mode_id, c.product_model_id, c.customer_company_id, "
    "c.responsible_department_id, 0, 0, 1 FROM complaints c JOIN tenants t ON t.id = c.tenant_id "
    "WHERE c.status = 'closed' AND c.closed_at IS NOT NULL {where}) AS x "
    "CROSS JOIN LATERAL (VALUES ('all', ''), ('cause', coalesce(x.ca, '')), "
    "('mode', coalesce(x.fm::text, '')), ('product', coalesce(x.p::text, '')), "
    "('customer', coalesce(x.cu::text, '')), ('department', coalesce(x.dep::text, ''))) "
    "AS d (dimension, key) GROUP BY x.tid, x.m, x.s, d.dimension, d.key")


def upgrade():
    op.create_table('analytics_loop_monthly',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('computed_at', portal.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('figure', sa.String(length=12), nullable=False),
    sa.Column('key1', sa.String(length=40), nullable=False),
    sa.Column('key2', sa.String(length=40), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('n1', sa.Integer(), nullable=False),
    sa.Column('n2', sa.Integer(), nullable=False),
    sa.Column('n3', sa.Integer(), nullable=False),
    sa.Column('n4', sa.Integer(), nullable=False),
    sa.Column('x', sa.Float(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_analytics_loop_monthly_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_loop_monthly'))
    )
    with op.batch_alter_table('analytics_loop_monthly', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_loop_monthly_read', ['tenant_id', 'figure', 'month'], unique=False, postgresql_include=['source', 'key1', 'key2', 'bucket', 'n1', 'n2', 'n3', 'n4', 'x', 'computed_at'])
        batch_op.create_index(batch_op.f('ix_analytics_loop_monthly_tenant_id'), ['tenant_id'], unique=False)
    op.create_table('analytics_monthly',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('dimension', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('defects', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_analytics_monthly_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_monthly'))
    )
    with op.batch_alter_table('analytics_monthly', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_monthly_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('uq_analytics_monthly_key', ['tenant_id', 'month', 'source', 'dimension', 'key'], unique=True, postgresql_include=['received', 'defects', 'closed'])
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_low', ['tenant_id', 'total_score', 'id'], unique=False, postgresql_where=sa.text('answered_at IS NOT NULL AND total_score IS NOT NULL'))
    if op.get_bind().dialect.name == 'postgresql':
        # Existing complaints, counted as portal/analytics/rollup.py's rebuild() counts them
        # (the embedded SQLite default starts empty; the demo rebuilds after its bulk history).
        month = "date_trunc('month', timezone(t.timezone, c.{}))::date"
        op.execute(FILL.format(created=month.format("created_at"),
                               closed=month.format("closed_at"), where=""))


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_low', postgresql_where=sa.text('answered_at IS NOT NULL AND total_score IS NOT NULL'))
    with op.batch_alter_table('analytics_loop_monthly', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_loop_monthly_tenant_id'))
        batch_op.drop_index('ix_analytics_loop_monthly_read', postgresql_include=['source', 'key1', 'key2', 'bucket', 'n1', 'n2', 'n3', 'n4', 'x', 'computed_at'])
    op.drop_table('analytics_loop_monthly')
    with op.batch_alter_table('analytics_monthly', schema=None) as batch_op:
        batch_op.drop_index('uq_analytics_monthly_key', postgresql_include=['received', 'defects', 'closed'])
        batch_op.drop_index(batch_op.f('ix_analytics_monthly_tenant_id'))

    op.drop_table('analytics_monthly')
