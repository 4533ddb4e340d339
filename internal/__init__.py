"""The staff workspace blueprint, mounted at /t/<slug>/staff/."""

from flask import Blueprint

blueprint = Blueprint("internal", __name__, template_folder="templates")

from . import (  # noqa: E402,F401  (each module registers its pages on the blueprint)
    admin_catalogue,  # tenant administration: catalogue, shipments, imports
    admin_customers,  # tenant administration: customers and contacts
    admin_people,  # tenant administration: hub, first run, people, departments
    admin_robots,  # tenant administration: WeCom / DingTalk / Feishu group robots
    admin_settings,  # tenant administration: rules and their history
    analytics,  # quality analytics dashboard and the monthly meeting pack
    deadlines,  # deadline pages and template helpers
    notifications,  # the bell, notification choices, failed sends
    reports,  # escalation reports (market exception, special) and their PDF
    surveys,  # survey campaigns and results
    views,
)
