"""Who may do what: the one permission table of the house, read by views and operations alike.

Two tables, one for each kind of step:

- ``TRANSITION_ROLES`` — who may make each status change, keyed by the transition's name and
  the status it leaves (``reopen`` from ``closed`` is the leads', from ``rejected`` the
  after-sales team's). The workflow (workflow.py) asks ``transition_roles()``;
- ``ABILITIES`` — who may take each step that is not a status change (classifying,
  containment, 8D, requests, costs, filing…) and the workspace's areas (administration,
  survey results, escalation reports), and at which statuses;
- ``ROUTED_ABILITIES`` — the steps a complaint's own people take whatever their role: its
  owner and the staff of its responsible department contain it, analyse it, correct it and
  write their 8D sections (quality still classifies and verifies).

``may()`` is the predicate templates use to show a form or a link; ``require()`` is the
guard every operation calls first and raises ``Refused``; ``permitted()`` is the views'
guard for an area and answers 403. There is no second check with its own message elsewhere.

``Refused`` is the one exception for a step the house declines: not allowed, not at this
stage, a message missing, a guard unmet, a stale form, a value not on the list. ``code`` is
stable for tests; ``message`` is for people (a lazy string rendered in the reader's language).
"""

from __future__ import annotations

from ..i18n import lazy_gettext as _l
from .timeline import actor_roles
from .vocabulary import OPEN_STATUSES


class Refused(Exception):
    """A step was refused and nothing changed. ``code`` is stable for tests (``forbidden``,
    ``not_from_status``, ``message_required``, ``guard``, ``stale``, ``invalid``…);
    ``message`` is for people."""

    def __init__(self, code: str, message):
        super().__init__(code)  # the (lazy) message is rendered where a locale is known
        self.code = code
        self.message = message


FORBIDDEN = _l("You are not allowed to take this step.")
NOT_NOW = _l("This step is not possible at this stage.")
STALE_MESSAGE = _l("Someone else changed this complaint while you were editing. The page "
                   "now shows their version; what you typed is kept below. Check it and save "
                   "again.")

_r = frozenset
AFTER_SALES = _r({"after_sales"})
LEADS = _r({"after_sales", "quality", "manager"})
ENGINEERS = _r({"quality", "technical", "responder"})
CUSTOMER = _r({"customer"})

# (transition, from status) -> the roles that may make it.
TRANSITION_ROLES: dict[tuple[str, str], frozenset[str]] = {
    ("start_verification", "received"): LEADS,
    ("request_information", "verifying"): _r({"after_sales", "quality", "technical"}),
    ("provide_information", "waiting_customer"): CUSTOMER,
    ("resume_verification", "waiting_customer"): _r({"after_sales", "manager"}),
    ("accept", "verifying"): _r({"after_sales", "quality"}),
    ("reject", "verifying"): LEADS,
    ("start_containment", "accepted"): _r({"after_sales", "quality"}),
    ("start_analysis", "containment"): _r({"after_sales", "quality"}),
    ("start_corrective_action", "analysis"): ENGINEERS,
    ("submit_for_verification", "corrective_action"): ENGINEERS,
    ("not_effective", "verifying_effectiveness"): _r({"quality"}),
    ("answer", "verifying_effectiveness"): LEADS,
    ("answer", "containment"): LEADS,
    ("customer_accept", "answered"): CUSTOMER,
    ("dispute", "answered"): CUSTOMER,
    ("dispute", "rejected"): CUSTOMER,
    ("close", "answered"): LEADS,
    ("reopen", "closed"): LEADS,
    ("reopen", "rejected"): _r({"after_sales", "manager"}),
}

_AFTER_ACCEPT = _r({"accepted", "containment", "analysis", "corrective_action",
                   "verifying_effectiveness", "answered"})
_ENGINEERS_AND_MANAGER = ENGINEERS | {"manager"}

# ability -> (roles allowed, statuses allowed; None: any status, or not about a complaint)
ABILITIES: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {
    # casework on a complaint
    "verify": (_r({"after_sales", "quality", "technical", "manager"}),
               _r({"received", "verifying", "waiting_customer"})),
    "classify": (LEADS, _r(OPEN_STATUSES)),
    "failure_modes": (_r({"quality", "manager"}), None),
    "problem": (_r({"quality", "technical", "manager"}), _AFTER_ACCEPT | {"closed"}),
    "containment": (LEADS, _r({"accepted", "containment", "analysis"})),
    "corrective": (_ENGINEERS_AND_MANAGER, _r({"analysis", "corrective_action"})),
    "root_cause": (_ENGINEERS_AND_MANAGER, _r({"analysis", "corrective_action"})),
    "effectiveness": (_r({"quality"}), _r({"verifying_effectiveness"})),
    # the recurrence check an effective verdict schedules (months later, often after closing)
    "recurrence_check": (_r({"quality"}), _r({"verifying_effectiveness", "answered", "closed"})),
    "request": (LEADS, _AFTER_ACCEPT),
    "ship": (_r({"logistics"}), None),
    "pay": (_r({"finance"}), None),
    "cost": (_r({"after_sales", "quality", "finance", "manager"}), None),
    "cost_sheet": (_r({"quality", "finance", "manager"}), None),
    "cost_correct": (_r({"quality", "finance", "manager"}), None),
    # a serial's installation date (the start of a warranty from installation)
    "installation": (LEADS, None),
    "eight_d": (_ENGINEERS_AND_MANAGER, _AFTER_ACCEPT | {"closed"}),
    "file": (LEADS, None),
    "production": (_r({"quality", "responder", "manager"}), None),
    # a returned part (portal/returns/): receipt into quarantine, first analysis and grade,
    # quality's appraisal, good parts issued against it, the return closed
    "return_receive": (_r({"logistics"}), _AFTER_ACCEPT),
    "return_analyse": (AFTER_SALES, _AFTER_ACCEPT),
    "return_appraise": (_r({"quality"}), _AFTER_ACCEPT),
    "return_issue": (_r({"after_sales", "logistics"}), _AFTER_ACCEPT | {"closed"}),
    "return_close": (LEADS, _AFTER_ACCEPT | {"closed"}),
    # areas of the workspace
    "administer": (_r({"admin"}), None),
    "survey_results": (_r({"admin", "manager", "after_sales", "quality"}), None),
    "survey_campaigns": (_r({"admin"}), None),
    "edit_reports": (_r({"quality", "manager", "admin"}), None),
    "view_analytics": (_r({"quality", "manager", "admin"}), None),
}


# Steps open to the complaint's owner and to the people of its responsible department, at the
# statuses ABILITIES gives them (DOMAIN.md: the responsible department contains, finds the
# root cause and corrects).
ROUTED_ABILITIES = frozenset({"containment", "corrective", "root_cause", "eight_d"})


def routed_to(actor, complaint) -> bool:
    """Is ``complaint`` routed to ``actor``: its owner, or one of its responsible department?
    Reads only loaded columns (no query): templates ask it for every panel."""
    if complaint is None or getattr(actor, "kind", None) != "staff":
        return False
    ident = getattr(actor, "id", None)
    if ident is not None and complaint.owner_id == ident:
        return True
    department = getattr(actor, "department_id", None)
    return department is not None and department == complaint.responsible_department_id


def _allowed(actor, ability: str, complaint) -> bool:
    roles = ABILITIES[ability][0]
    if getattr(actor, "kind", None) != "staff":
        return False
    return bool(actor_roles(actor) & roles) or (
        ability in ROUTED_ABILITIES and routed_to(actor, complaint))


def transition_roles(name: str, status: str) -> frozenset[str]:
    """The roles that may make transition ``name`` from ``status`` (none if not in the table)."""
    return TRANSITION_ROLES.get((name, status), frozenset())


def may_transition(actor, name: str, complaint) -> bool:
    """May ``actor`` make transition ``name`` on ``complaint`` at its present status? A
    customer acts on their own company's complaints only."""
    if not actor_roles(actor) & transition_roles(name, complaint.status):
        return False
    if getattr(actor, "kind", None) == "contact":
        return complaint.customer_company_id == actor.company_id
    return True


def may(actor, ability: str, complaint=None) -> bool:
    """May ``actor`` do ``ability`` (on ``complaint`` at its present status)? The steps of
    ``ROUTED_ABILITIES`` are also open to the complaint's owner and responsible department."""
    statuses = ABILITIES[ability][1]
    if not _allowed(actor, ability, complaint):
        return False
    return complaint is None or statuses is None or complaint.status in statuses


def require(actor, ability: str, complaint=None) -> None:
    """Raise Refused ("forbidden" or "not_from_status") unless ``may()``."""
    statuses = ABILITIES[ability][1]
    if not _allowed(actor, ability, complaint):
        raise Refused("forbidden", FORBIDDEN)
    if complaint is not None and statuses is not None and complaint.status not in statuses:
        raise Refused("not_from_status", NOT_NOW)


def may_sign_off(actor, member) -> bool:
    """D8: a member of an 8D team signs off for themselves only (whatever their roles)."""
    return getattr(actor, "kind", None) == "staff" and member.staff_user_id == actor.id


def permitted(ability: str) -> None:
    """The views' guard for an area: 403 unless the signed-in user ``may()`` do ``ability``."""
    from flask import abort
    from flask_login import current_user

    if not may(current_user, ability):
        abort(403)


def check_version(complaint, expected) -> None:
    """Refuse an edit made on an older version of ``complaint`` (someone saved meanwhile)."""
    if expected is None or str(expected) != str(complaint.version):
        raise Refused("stale", STALE_MESSAGE)
