"""Staff pages for deadlines: the tenant's deadline policy and business calendar (admin),
and the template helpers the complaint, queue and customer pages use."""

from __future__ import annotations

from portal import deadlines
from portal.deadlines.clocks import humanize_minutes

from . import blueprint


@blueprint.app_template_global("deadline_clocks")
def _deadline_clocks(complaint):
    return deadlines.clocks_for(complaint)


@blueprint.app_template_global("deadline_badge")
def _deadline_badge(complaint):
    return deadlines.badge_for(complaint)


@blueprint.app_template_global("customer_promises")
def _customer_promises(complaint):
    return deadlines.promises_for(complaint)


@blueprint.app_template_global("deadline_humanize")
def _deadline_humanize(minutes):
    return humanize_minutes(minutes)
