"""The complaint workflow: the one state machine every status change goes through.

A transition names the states it leaves from, the state it reaches, who may make
it, what it needs (a message, a guard on the complaint), and how it reads on the
timeline. ``transition()`` is the only function that writes ``Complaint.status``.
Listeners (deadline clocks, notifications) subscribe with ``on_transition``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..i18n import lazy_gettext as _l
from ..models import OPEN_STATUSES, STATUSES, Action, Complaint, utcnow
from .timeline import actor_roles, record

# The states, in the order a complaint normally travels them (the column's values).
STATES = STATUSES
OPEN_STATES = OPEN_STATUSES

STATE_LABELS = {
    "received": _l("Received"),
    "verifying": _l("Being verified"),
    "waiting_customer": _l("Waiting for your information"),
    "accepted": _l("Accepted as a quality case"),
    "rejected": _l("Not a product problem"),
    "containment": _l("Containment"),
    "analysis": _l("Root-cause analysis"),
    "corrective_action": _l("Corrective action"),
    "verifying_effectiveness": _l("Verifying effectiveness"),
    "answered": _l("Answered"),
    "closed": _l("Closed"),
}
# What staff see where the customer label is written for the customer.
STAFF_STATE_LABELS = {**STATE_LABELS, "waiting_customer": _l("Waiting on customer")}


class TransitionError(Exception):
    """A transition was refused. ``code`` is stable for tests; ``message`` is for people."""

    def __init__(self, code: str, message):
        super().__init__(code)  # the (lazy) message is rendered where a locale is known
        self.code = code
        self.message = message


Guard = Callable[[Complaint], "str | None"]


def _classified(c: Complaint):
    if not (c.severity and c.cause_category and c.responsible_department_id):
        return _l("Classify the complaint first: severity, cause category and responsible department.")
    return None


def _has_containment(c: Complaint):
    if not _actions_of(c, "containment"):
        return _l("Record at least one containment measure first.")
    return None


def _has_root_cause(c: Complaint):
    if not (c.root_cause or "").strip():
        return _l("Record the root cause first.")
    return None


def _corrective_actions_done(c: Complaint):
    actions = _actions_of(c, "corrective")
    if not actions:
        return _l("Add at least one corrective action first.")
    if any(a.done_at is None for a in actions):
        return _l("Every corrective action must be done before effectiveness is verified.")
    return None


def _verified_effective(c: Complaint):
    if c.effective is not True:
        return _l("Quality must confirm the actions were effective before the answer goes out.")
    return None


def _minor(c: Complaint):
    if c.severity != "minor":
        return _l("Only a minor problem can be answered straight after containment.")
    return None


def _actions_of(c: Complaint, kind: str) -> list[Action]:
    from sqlalchemy import select

    from ..extensions import db

    return list(db.session.scalars(
        select(Action).where(Action.complaint_id == c.id, Action.kind == kind)
    ))


@dataclass(frozen=True)
class Transition:
    name: str
    source: tuple[str, ...]
    target: str
    roles: frozenset[str]
    label: object
    needs_message: bool = False
    guards: tuple[Guard, ...] = ()
    customer_visible: bool = True
    # Writes on the complaint besides the status (the message lands in this attribute).
    message_field: str | None = None
    effects: dict = field(default_factory=dict)


AFTER_SALES = frozenset({"after_sales"})
LEADS = frozenset({"after_sales", "quality", "manager"})

TRANSITIONS: tuple[Transition, ...] = (
    Transition("start_verification", ("received",), "verifying",
               frozenset({"after_sales", "quality", "manager"}), _l("Started verification")),
    Transition("request_information", ("verifying",), "waiting_customer",
               frozenset({"after_sales", "quality", "technical"}),
               _l("Asked the customer for information"), needs_message=True),
    Transition("provide_information", ("waiting_customer",), "verifying",
               frozenset({"customer"}), _l("Customer provided information"), needs_message=True),
    Transition("resume_verification", ("waiting_customer",), "verifying",
               frozenset({"after_sales", "manager"}),
               _l("Resumed verification with information received otherwise"),
               needs_message=True, customer_visible=False),
    Transition("accept", ("verifying",), "accepted", frozenset({"after_sales", "quality"}),
               _l("Confirmed as a quality case")),
    Transition("reject", ("verifying",), "rejected", LEADS,
               _l("Judged not a problem of our product"), needs_message=True,
               message_field="rejection_reason"),
    Transition("start_containment", ("accepted",), "containment",
               frozenset({"after_sales", "quality"}), _l("Containment started"),
               guards=(_classified,)),
    Transition("start_analysis", ("containment",), "analysis",
               frozenset({"after_sales", "quality"}), _l("Root-cause analysis started"),
               guards=(_has_containment,)),
    Transition("start_corrective_action", ("analysis",), "corrective_action",
               frozenset({"quality", "technical", "responder"}),
               _l("Corrective actions under way"), guards=(_has_root_cause,)),
    Transition("submit_for_verification", ("corrective_action",), "verifying_effectiveness",
               frozenset({"quality", "technical", "responder"}),
               _l("Actions done; effectiveness being verified"),
               guards=(_corrective_actions_done,)),
    Transition("not_effective", ("verifying_effectiveness",), "analysis",
               frozenset({"quality"}), _l("Actions not effective; back to analysis"),
               needs_message=True, customer_visible=False, message_field="effectiveness_note",
               effects={"effective": False}),
    Transition("answer", ("verifying_effectiveness",), "answered", LEADS,
               _l("Answer sent to the customer"), needs_message=True, message_field="answer",
               guards=(_verified_effective,), effects={"customer_verdict": None}),
    Transition("answer", ("containment",), "answered", LEADS,
               _l("Answer sent to the customer"), needs_message=True, message_field="answer",
               guards=(_minor,), effects={"customer_verdict": None}),
    Transition("customer_accept", ("answered",), "closed", frozenset({"customer"}),
               _l("Customer accepted the answer"), effects={"customer_verdict": "accepted"}),
    Transition("dispute", ("answered",), "analysis", frozenset({"customer"}),
               _l("Customer disputed the answer"), needs_message=True,
               effects={"customer_verdict": "disputed", "effective": None}),
    Transition("dispute", ("rejected",), "verifying", frozenset({"customer"}),
               _l("Customer disputed the judgement"), needs_message=True),
    Transition("close", ("answered",), "closed", LEADS, _l("Closed")),
    Transition("reopen", ("closed",), "analysis", LEADS, _l("Reopened"), needs_message=True,
               effects={"closed_at": None, "effective": None}),
    Transition("reopen", ("rejected",), "verifying", frozenset({"after_sales", "manager"}),
               _l("Reopened"), needs_message=True),
)

_listeners: list[Callable[[Complaint, Transition, object, str], None]] = []


def on_transition(listener):
    """Register ``listener(complaint, transition, actor, from_status)``, called after each
    transition inside the same transaction (deadline clocks, notifications)."""
    _listeners.append(listener)
    return listener


def find(name: str, status: str) -> Transition | None:
    for t in TRANSITIONS:
        if t.name == name and status in t.source:
            return t
    return None


def available(complaint: Complaint, actor) -> list[Transition]:
    """The transitions this actor may make now (guards not yet checked: a guard failing
    explains itself when tried, which is more useful than a hidden button)."""
    roles = actor_roles(actor)
    return [t for t in TRANSITIONS if complaint.status in t.source and roles & t.roles
            and _may_touch(complaint, actor)]


def _may_touch(complaint: Complaint, actor) -> bool:
    if getattr(actor, "kind", None) == "contact":
        return complaint.customer_company_id == actor.company_id
    return True


def can(complaint: Complaint, actor, name: str) -> bool:
    """A model-level predicate for templates: may this actor make transition ``name`` now?"""
    return any(t.name == name for t in available(complaint, actor))


def transition(complaint: Complaint, actor, name: str, message: str | None = None) -> Transition:
    """Move ``complaint`` along transition ``name`` as ``actor``.

    Raises TransitionError (nothing changed) when the transition does not leave from the
    current status, the actor's roles do not allow it, a required message is missing, or a
    guard fails. Writes the status, its effects and a timeline event; flushes, never commits.
    """
    t = find(name, complaint.status)
    if t is None:
        raise TransitionError("not_from_status", _l("This step is not possible at this stage."))
    if not (actor_roles(actor) & t.roles) or not _may_touch(complaint, actor):
        raise TransitionError("forbidden", _l("You are not allowed to take this step."))
    message = (message or "").strip() or None
    if t.needs_message and not message:
        raise TransitionError("message_required", _l("Please write a message for this step."))
    for guard in t.guards:
        problem = guard(complaint)
        if problem:
            raise TransitionError("guard", problem)

    from_status = complaint.status
    now = utcnow()
    complaint.status = t.target
    complaint.status_changed_at = now
    if t.message_field:
        setattr(complaint, t.message_field, message)
    for attribute, value in t.effects.items():
        setattr(complaint, attribute, value)
    if t.target == "answered":
        complaint.answered_at = now
    if t.target == "closed":
        complaint.closed_at = now
    record(complaint, actor, f"transition.{t.name}", message=message,
           from_status=from_status, to_status=t.target, customer_visible=t.customer_visible)
    for listener in _listeners:
        listener(complaint, t, actor, from_status)
    return t
