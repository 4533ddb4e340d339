"""complaint search index: pg_trgm GIN over the searched text, with the tenant (PostgreSQL only)

The queue's search (portal/complaints/queue.py ``search_expression``) looks for a substring of
number, title, description and reporter company — Chinese included, where words have no
spaces. A trigram GIN index answers that for three characters or more; the tenant column is in
the same GIN index (btree_gin) so one tenant's matches are found without reading the others'.
SQLite (the embedded demo) has no such index and scans, which is fine at demo sizes.

Revision ID: c7e4a91d2b10
Revises: 9192178b79a6
Create Date: 2026-11-25 22:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'c7e4a91d2b10'
down_revision = '9192178b79a6'
branch_labels = None
depends_on = None

SEARCH_EXPRESSION = ("(((((((number)::text || ' '::text) || (title)::text) || ' '::text) "
                     "|| description) || ' '::text) || (COALESCE(reporter_company, ''::character varying))::text)")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # Extensions are per database: install once into public, and name the operator class by
    # its schema so a connection whose search_path lacks public (tests) still finds it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public")
    schema = bind.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar_one()
    op.execute(f'CREATE INDEX IF NOT EXISTS ix_complaints_search ON complaints USING gin '
               f'(tenant_id, ({SEARCH_EXPRESSION}) "{schema}".gin_trgm_ops)')


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_complaints_search")
