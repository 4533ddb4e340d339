"""The complaint in the workspace, one module per panel of its page (mirroring
portal/complaints/). Each panel module has a context function registered with
``@base.panel`` and its partial template ``internal/complaint/_<name>.html``, and the POST
routes of its forms; ``page.py`` composes them.

    base.py            the Case, the panel registry, run() (how a panel's POST answers)
    fields.py          form fields drawn without WTForms' widgets
    page.py            the page; one panel on its own (htmx), ?panel=<name> without JS
    steps.py           next steps (status changes) and the export links
    intake.py          intake and serial numbers (read only)
    photos.py          photos, and the route serving them
    verification.py    checklist and on-site visits
    classification.py  classification and routing, failure modes, the problem
    containment.py     containment measures
    requests.py        requests and approvals, shipping, receiving, paying
    returns.py         returned parts (RMA): receipt, first analysis, appraisal, good parts
    actions.py         root cause, corrective and preventive actions, done with evidence
    eight_d.py         the 8D report (drawn when opened): disciplines, summary
    eight_d_team.py    its team, sign-offs, D3 verified effects, sending, evidence files
    effectiveness.py   the effectiveness verdict
    answer.py          the answer to the customer
    costs.py           costs (drawn when opened) and the cost transfer sheet
    timeline.py        the timeline (drawn when scrolled to)
    clocks.py          the deadline clocks (drawn when scrolled to)
    exports.py         the 8D and improvement-sheet PDFs
    filing.py          filing by staff (on a customer's behalf, production exceptions)
    audience.py        "the customer sees this": the preview of a staff text
"""

from . import (  # noqa: F401  (each module registers its routes and its panel)
    actions,
    answer,
    audience,
    classification,
    clocks,
    containment,
    costs,
    effectiveness,
    eight_d,
    eight_d_team,
    exports,
    filing,
    intake,
    page,
    photos,
    requests,
    returns,
    steps,
    timeline,
    verification,
)
