"""Who acted, and the timeline entry every change writes."""

from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..models import Complaint, TimelineEvent


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
           data: dict | None = None, customer_visible: bool = False,
           from_status: str | None = None, to_status: str | None = None) -> TimelineEvent:
    """Append an event to the complaint's timeline (added to the session, not committed)."""
    event = TimelineEvent(
        complaint=complaint,
        actor=actor.get_id() if actor is not None else None,
        actor_name=getattr(actor, "name", None) or "—",
        kind=kind,
        message=message,
        data=data or {},
        customer_visible=customer_visible,
        from_status=from_status,
        to_status=to_status,
    )
    db.session.add(event)
    return event
