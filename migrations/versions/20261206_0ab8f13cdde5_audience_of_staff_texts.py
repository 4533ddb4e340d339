"""audience: a timeline entry's text is shown to the customer only when its rule or someone's choice says so (customer_text_visible); a containment measure is on the customer's page only when chosen (actions.customer_visible)

Revision ID: 0ab8f13cdde5
Revises: 5c3e9a1f7d20
Create Date: 2026-12-06 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0ab8f13cdde5'
down_revision = '5c3e9a1f7d20'
branch_labels = None
depends_on = None

# The kinds whose text was always written for the customer (portal/complaints/audience.py):
# their visible entries keep showing their text; every other text becomes staff-only until
# someone chooses to show it.
CUSTOMER_TEXT_KINDS = (
    "transition.request_information", "transition.provide_information", "transition.reject",
    "transition.answer", "transition.customer_accept", "transition.dispute", "submitted",
    "email.reply", "photo.rejected", "request.shipped", "eight_d.summary",
)


def upgrade():
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_text_visible', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_visible', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    events = sa.table('timeline_events', sa.column('kind', sa.String),
                      sa.column('customer_visible', sa.Boolean),
                      sa.column('customer_text_visible', sa.Boolean))
    op.execute(events.update()
               .where(events.c.customer_visible.is_(True), events.c.kind.in_(CUSTOMER_TEXT_KINDS))
               .values(customer_text_visible=True))
    # Entries whose rule hides them now (a request's note, an action's title) leave the
    # customer's timeline; their measures stay staff-only until someone shows them.
    op.execute(events.update()
               .where(events.c.kind.in_(("action.added", "action.done")))
               .values(customer_visible=False))


def downgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('customer_visible')
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_column('customer_text_visible')
