"""The complaint workflow: the one state machine every status change goes through.

A transition names the states it leaves from, the state it reaches, what it needs (a
message, a guard on the complaint), and how it reads on the timeline; who may make it is
the permission table's (permissions.py), the words the vocabulary's (vocabulary.py).
``transition()`` is the only function that writes ``Complaint.status``; a refusal raises
``permissions.Refused`` before anything changed.

Who listens: the application factory (``portal.create_app`` → ``register_listeners``)
subscribes, in this order, inside the same transaction as the transition:

- the deadline clocks (``portal.deadlines.clocks.on_transition``: stop, pause, start clocks);
- the escalation check (``portal.deadlines.escalation.on_transition``);
- the satisfaction survey (``portal.surveys.scheduling.on_transition``: a closed complaint
  queues its survey).

and, for submissions and other changes (``operations.on_submitted`` / ``on_changed``), the
clocks and the escalation check again. Notifications are sent by the deadline sweep and the
escalation reports, not by a transition listener. Nothing subscribes by being imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..i18n import lazy_gettext as _l
from ..models import Action, Complaint, utcnow
from . import audience
from .permissions import FORBIDDEN, NOT_NOW, Refused, may_transition, transition_roles
from .timeline import record
from .vocabulary import OPEN_STATUSES, STATUSES

# The states, in the order a complaint normally travels them (the column's values).
STATES = STATUSES
OPEN_STATES = OPEN_STATUSES




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


def _returns_appraised(c: Complaint):
    from ..returns.records import unappraised_guard

    return unappraised_guard(c)


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
    label: object
    needs_message: bool = False
    guards: tuple[Guard, ...] = ()
    # Writes on the complaint besides the status (the message lands in this attribute).
    message_field: str | None = None
    effects: dict = field(default_factory=dict)

    @property
    def customer_visible(self) -> bool:
        """The customer sees this step on their timeline (the audience rule's answer)."""
        return audience.rule(f"transition.{self.name}").event == audience.CUSTOMER

    @property
    def text_audience(self) -> str:
        """Who the step's message is for (audience.CUSTOMER, INTERNAL or CHOSEN)."""
        return audience.rule(f"transition.{self.name}").text

    @property
    def roles(self) -> frozenset[str]:
        """Who may make it: the permission table's answer (one source status each)."""
        return transition_roles(self.name, self.source[0])


TRANSITIONS: tuple[Transition, ...] = (
    Transition("start_verification", ("received",), "verifying", _l("Started verification")),
    Transition("request_information", ("verifying",), "waiting_customer",
               _l("Asked the customer for information"), needs_message=True),
    Transition("provide_information", ("waiting_customer",), "verifying",
               _l("Customer provided information"), needs_message=True),
    Transition("resume_verification", ("waiting_customer",), "verifying",
               _l("Resumed verification with information received otherwise"),
               needs_message=True),
    Transition("accept", ("verifying",), "accepted",
               _l("Confirmed as a quality case")),
    Transition("reject", ("verifying",), "rejected",
               _l("Judged not a problem of our product"), needs_message=True,
               message_field="rejection_reason"),
    Transition("start_containment", ("accepted",), "containment", _l("Containment started"),
               guards=(_classified,)),
    Transition("start_analysis", ("containment",), "analysis", _l("Root-cause analysis started"),
               guards=(_has_containment,)),
    Transition("start_corrective_action", ("analysis",), "corrective_action",
               _l("Corrective actions under way"), guards=(_has_root_cause,)),
    Transition("submit_for_verification", ("corrective_action",), "verifying_effectiveness",
               _l("Actions done; effectiveness being verified"),
               guards=(_corrective_actions_done,)),
    Transition("not_effective", ("verifying_effectiveness",), "analysis",
               _l("Actions not effective; back to analysis"),
               needs_message=True, message_field="effectiveness_note",
               effects={"effective": False}),
    Transition("answer", ("verifying_effectiveness",), "answered",
               _l("Answer sent to the customer"), needs_message=True, message_field="answer",
               guards=(_verified_effective,), effects={"customer_verdict": None}),
    Transition("answer", ("containment",), "answered",
               _l("Answer sent to the customer"), needs_message=True, message_field="answer",
               guards=(_minor,), effects={"customer_verdict": None}),
    Transition("customer_accept", ("answered",), "closed",
               _l("Customer accepted the answer"), effects={"customer_verdict": "accepted"},
               guards=(_returns_appraised,)),
    Transition("dispute", ("answered",), "analysis",
               _l("Customer disputed the answer"), needs_message=True,
               effects={"customer_verdict": "disputed", "effective": None}),
    Transition("dispute", ("rejected",), "verifying",
               _l("Customer disputed the judgement"), needs_message=True),
    Transition("close", ("answered",), "closed", _l("Closed"), guards=(_returns_appraised,)),
    Transition("reopen", ("closed",), "analysis", _l("Reopened"), needs_message=True,
               effects={"closed_at": None, "effective": None}),
    Transition("reopen", ("rejected",), "verifying",
               _l("Reopened"), needs_message=True),
)

_listeners: list[Callable[[Complaint, Transition, object, str], None]] = []


def on_transition(listener):
    """Register ``listener(complaint, transition, actor, from_status)``, called after each
    transition inside the same transaction (see the module's docstring for who listens).
    Registering the same listener again changes nothing."""
    if listener not in _listeners:
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
    return [t for t in TRANSITIONS if complaint.status in t.source
            and may_transition(actor, t.name, complaint)]


def can(complaint: Complaint, actor, name: str) -> bool:
    """A model-level predicate for templates: may this actor make transition ``name`` now?"""
    return any(t.name == name for t in available(complaint, actor))


def transition(complaint: Complaint, actor, name: str, message: str | None = None, *,
               shown: bool = False) -> Transition:
    """Move ``complaint`` along transition ``name`` as ``actor``.

    Raises Refused (nothing changed) when the transition does not leave from the
    current status, the actor's roles do not allow it, a required message is missing, or a
    guard fails. Writes the status, its effects and a timeline event; flushes, never commits.
    """
    t = find(name, complaint.status)
    if t is None:
        raise Refused("not_from_status", NOT_NOW)
    if not may_transition(actor, name, complaint):
        raise Refused("forbidden", FORBIDDEN)
    message = (message or "").strip() or None
    if t.needs_message and not message:
        raise Refused("message_required", _l("Please write a message for this step."))
    for guard in t.guards:
        problem = guard(complaint)
        if problem:
            raise Refused("guard", problem)

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
           from_status=from_status, to_status=t.target, shown=shown)
    for listener in _listeners:
        listener(complaint, t, actor, from_status)
    return t
