"""Who may do which piece of casework that is not a status change, and at which stage.

The workflow (workflow.py) owns status changes; this table owns the rest (classifying,
containment, 8D, requests, costs…). ``may()`` is the predicate the templates use to show a
form and ``require()`` the guard every operation calls first, so the server checks again.
"""

from __future__ import annotations

from ..i18n import lazy_gettext as _l
from .timeline import actor_roles
from .workflow import OPEN_STATES, TransitionError

_AFTER_ACCEPT = frozenset({"accepted", "containment", "analysis", "corrective_action",
                           "verifying_effectiveness", "answered"})

# ability -> (roles allowed, statuses allowed; None means any status)
ABILITIES: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {
    "verify": (frozenset({"after_sales", "quality", "technical", "manager"}),
               frozenset({"received", "verifying", "waiting_customer"})),
    "classify": (frozenset({"after_sales", "quality", "manager"}), frozenset(OPEN_STATES)),
    "failure_modes": (frozenset({"quality", "manager"}), None),
    "problem": (frozenset({"quality", "technical", "manager"}), _AFTER_ACCEPT | {"closed"}),
    "containment": (frozenset({"after_sales", "quality", "manager"}),
                    frozenset({"accepted", "containment", "analysis"})),
    "corrective": (frozenset({"quality", "technical", "responder", "manager"}),
                   frozenset({"analysis", "corrective_action"})),
    "root_cause": (frozenset({"quality", "technical", "responder", "manager"}),
                   frozenset({"analysis", "corrective_action"})),
    "effectiveness": (frozenset({"quality"}), frozenset({"verifying_effectiveness"})),
    "request": (frozenset({"after_sales", "quality", "manager"}), _AFTER_ACCEPT),
    "ship": (frozenset({"logistics"}), None),
    "pay": (frozenset({"finance"}), None),
    "cost": (frozenset({"after_sales", "quality", "finance", "manager"}), None),
    "cost_sheet": (frozenset({"quality", "finance", "manager"}), None),
    "eight_d": (frozenset({"quality", "technical", "responder", "manager"}),
                _AFTER_ACCEPT | {"closed"}),
    "file": (frozenset({"after_sales", "quality", "manager"}), None),
    "production": (frozenset({"quality", "responder", "manager"}), None),
}


def may(actor, ability: str, complaint=None) -> bool:
    """May ``actor`` do ``ability`` (on ``complaint`` at its present status)?"""
    roles, statuses = ABILITIES[ability]
    if getattr(actor, "kind", None) != "staff" or not (actor_roles(actor) & roles):
        return False
    return complaint is None or statuses is None or complaint.status in statuses


def require(actor, ability: str, complaint=None) -> None:
    """Raise TransitionError ("forbidden" or "not_from_status") unless ``may()``."""
    roles, statuses = ABILITIES[ability]
    if getattr(actor, "kind", None) != "staff" or not (actor_roles(actor) & roles):
        raise TransitionError("forbidden", _l("You are not allowed to take this step."))
    if complaint is not None and statuses is not None and complaint.status not in statuses:
        raise TransitionError("not_from_status", _l("This step is not possible at this stage."))


STALE_MESSAGE = _l("Someone else changed this complaint while you were editing. The page "
                   "now shows their version; what you typed is kept below. Check it and save "
                   "again.")


def check_version(complaint, expected) -> None:
    """Refuse an edit made on an older version of ``complaint`` (someone saved meanwhile)."""
    if expected is None or str(expected) != str(complaint.version):
        raise TransitionError("stale", STALE_MESSAGE)
