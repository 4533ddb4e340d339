"""The staff workspace blueprint, mounted at /t/<slug>/staff/."""

from flask import Blueprint

blueprint = Blueprint("internal", __name__, template_folder="templates")

from . import (  # noqa: E402,F401  (each module registers its pages on the blueprint)
    admin_api,  # tenant administration: API tokens for other systems
    admin_catalogue,  # tenant administration: catalogue, shipments, imports
    admin_customers,  # tenant administration: customers and contacts
    admin_mailboxes,  # tenant administration: mailboxes complaints arrive in by e-mail
    admin_people,  # tenant administration: hub, first run, people, departments
    admin_robots,  # tenant administration: WeCom / DingTalk / Feishu group robots
    admin_settings,  # tenant administration: rules and their history
    admin_suppliers,  # tenant administration: suppliers and their contacts (issue 12)
    admin_webhooks,  # tenant administration: webhooks out, their deliveries
    analytics,  # quality analytics dashboard and the monthly meeting pack
    analytics_tables,  # the analytics tables drawn in Python (template globals)
    deadlines,  # deadline pages and template helpers
    mail_files,  # files that came by e-mail with a complaint
    my_work,  # everything waiting on the signed-in user, and its count in the header
    notifications,  # the bell, notification choices, failed sends
    reports,  # escalation reports (market exception, special) and their PDF
    supplier_scorecard,  # the supplier scorecard and its export (issue 12)
    suppliers,  # supplier corrective action requests (issue 12)
    surveys,  # survey campaigns and results
    views,
)
