"""Who acted, and the timeline entry every change writes."""

from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..models import Complaint, TimelineEvent
from . import audience


@dataclass(frozen=True)
class SystemActor:
    """Closeloop itself (deadline sweeps, jobs)."""

    name: str = "Closeloop"
    kind: str = "system"
    roles: tuple = ()

    def get_id(self) -> str:
        return "system"


SYSTEM = SystemActor()


@dataclass(frozen=True)
class Visitor:
    """Someone filing without an account: known only by what they typed."""

    name: str
    kind: str = "visitor"
    roles: tuple = ()

    def get_id(self) -> str:
        return "visitor"


def actor_roles(actor) -> frozenset[str]:
    kind = getattr(actor, "kind", None)
    if kind == "staff":
        return frozenset(actor.roles or ())
    if kind in ("contact", "visitor"):
        return frozenset({"customer"})
    if kind == "system":
        return frozenset({"system"})
    return frozenset()


def record(complaint: Complaint, actor, kind: str, *, message: str | None = None,
           data: dict | None = None, shown: bool = False, customer_visible: bool | None = None,
           from_status: str | None = None, to_status: str | None = None) -> TimelineEvent:
    """Append an event to the complaint's timeline (added to the session, not committed).

    Whether the customer sees the entry and its text is the audience rule's answer
    (``audience.resolve``) for ``kind``, given whether someone chose to show its text
    (``shown``). ``customer_visible`` is a caller's expectation, checked against the rule."""
    visible, text_visible = audience.resolve(kind, data, shown)
    if customer_visible is not None and customer_visible != visible:
        raise ValueError(f"timeline kind {kind!r}: its audience rule says "
                         f"customer_visible={visible}")
    event = TimelineEvent(
        complaint=complaint,
        actor=actor.get_id() if actor is not None else None,
        actor_name=getattr(actor, "name", None) or "—",
        kind=kind,
        message=message,
        data=data or {},
        customer_visible=visible,
        customer_text_visible=text_visible,
        from_status=from_status,
        to_status=to_status,
    )
    db.session.add(event)
    return event
