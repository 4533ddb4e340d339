"""Domain events: what happened to a complaint, announced once, inside the transaction of the
operation that made it happen.

Status changes are announced from one place, the workflow's transition listener below (each
transition maps to an event); a new complaint from the submission hook; the few events that
are not status changes (classified, assigned, containment and actions, service requests) by a
one-line ``announce()`` in their operation. Subscribers (webhooks now, notifications later)
are registered explicitly by the app factory through ``register()``; they run inside the same
transaction, so whatever they write (a delivery row, an outbox job) commits or rolls back
with the change itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .i18n import lazy_gettext as _l
from .models import utcnow

# The catalogue: a subscriber can rely on these names (webhook receivers do).
EVENTS = {
    "submitted": _l("Complaint submitted"),
    "verification_started": _l("Verification started"),
    "information_requested": _l("Information requested from the customer"),
    "information_supplied": _l("Information supplied"),
    "accepted": _l("Accepted as a quality case"),
    "rejected": _l("Rejected (not a product problem)"),
    "classified": _l("Classified"),
    "assigned": _l("Owner assigned"),
    "containment_started": _l("Containment started"),
    "containment_added": _l("Containment measure added"),
    "analysis_started": _l("Root-cause analysis started"),
    "action_added": _l("Action added"),
    "action_done": _l("Action done"),
    "corrective_action_started": _l("Corrective actions started"),
    "effectiveness_to_verify": _l("Effectiveness to verify"),
    "effectiveness_verified": _l("Effectiveness verified"),
    "not_effective": _l("Actions not effective"),
    "answered": _l("Answer sent"),
    "customer_accepted": _l("Customer accepted the answer"),
    "customer_disputed": _l("Customer disputed"),
    "customer_replied": _l("Customer wrote or sent files outside a question"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
    "request_created": _l("Service request created"),
    "approval_needed": _l("Next approval signature needed"),
    "request_approved": _l("Service request approved"),
    "request_refused": _l("Service request refused"),
    "request_shipped": _l("Replacement or exchange shipped"),
    "request_received": _l("Returned goods received"),
    "request_paid": _l("Claim paid"),
    # a returned part's record (portal/returns/)
    "return_received": _l("Returned part received into quarantine"),
    "return_appraised": _l("Returned part appraised"),
    "good_parts_issued": _l("Good parts issued against the appraisal"),
    "eight_d_sent": _l("8D report sent to the customer"),
}

# Each workflow transition's event (portal/complaints/workflow.py names the transitions).
TRANSITION_EVENTS = {
    "start_verification": "verification_started",
    "request_information": "information_requested",
    "provide_information": "information_supplied",
    "resume_verification": "information_supplied",
    "accept": "accepted",
    "reject": "rejected",
    "start_containment": "containment_started",
    "start_analysis": "analysis_started",
    "start_corrective_action": "corrective_action_started",
    "submit_for_verification": "effectiveness_to_verify",
    "not_effective": "not_effective",
    "answer": "answered",
    "customer_accept": "customer_accepted",
    "dispute": "customer_disputed",
    "close": "closed",
    "reopen": "reopened",
}


@dataclass(frozen=True)
class Event:
    """One announced event. ``id`` is unique and stable: subscribers use it to be idempotent."""

    name: str
    complaint: object
    actor: object
    data: dict = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime = field(default_factory=utcnow)


Subscriber = Callable[[Event], None]
_subscribers: dict[str, Subscriber] = {}


def subscribe(key: str, subscriber: Subscriber) -> None:
    """Register ``subscriber(event)`` under ``key`` (registering a key again replaces it, so
    building a second app does not announce twice)."""
    _subscribers[key] = subscriber


def announce(name: str, complaint, actor=None, **data) -> Event:
    """Tell every subscriber that ``name`` happened to ``complaint``, inside the caller's
    transaction. ``data`` must be JSON-friendly (ids, strings, numbers)."""
    if name not in EVENTS:
        raise ValueError(f"unknown domain event {name!r}")
    event = Event(name=name, complaint=complaint, actor=actor, data=data)
    for subscriber in list(_subscribers.values()):
        subscriber(event)
    return event


def _on_transition(complaint, transition, actor, from_status: str) -> None:
    name = TRANSITION_EVENTS.get(transition.name)
    if name is None:
        return
    data = {"transition": transition.name, "from_status": from_status,
            "to_status": transition.target}
    announce(name, complaint, actor, **data)
    if transition.target == "closed" and name != "closed":
        announce("closed", complaint, actor, **data)  # "closed" whoever closed it


def _on_submitted(complaint) -> None:
    announce("submitted", complaint, None, channel=complaint.channel, source=complaint.source)


_registered = False


def register(app) -> None:
    """Called by the app factory: hook the workflow and the submission, then subscribe the
    consumers of events."""
    global _registered
    if not _registered:
        from .complaints import operations, workflow

        workflow.on_transition(_on_transition)
        operations.on_submitted(_on_submitted)
        _registered = True
    from . import webhooks
    from .notifications import routing

    subscribe("webhooks", webhooks.on_event)
    subscribe("notifications", routing.on_event)


def describe_actor(actor) -> dict | None:
    """The actor as a receiver sees it: kind, id and name (no roles, no e-mail)."""
    if actor is None:
        return None
    kind = getattr(actor, "kind", None)
    ident = getattr(actor, "id", None) if kind in ("staff", "contact") else None
    return {"kind": kind, "id": ident, "name": getattr(actor, "name", None)}
