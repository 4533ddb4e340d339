"""What every printed form shares: WeasyPrint's rendering of a template extending
``pdf/_layout.html``, labels in both languages (a form is filed and read by people of either),
and the sign-off rows of ``pdf/_macros.html``'s ``signoffs`` block, read from the timeline:
who signed a step, in which role, and when — or an empty box to sign by hand."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from .extensions import db
from .models import StaffUser, TimelineEvent, utcnow


def render_pdf(template: str, **context) -> bytes:
    """``template`` rendered and laid out as PDF (Noto Sans CJK; images as data: URIs)."""
    from weasyprint import HTML

    context.setdefault("printed_at", utcnow())
    return HTML(string=render_template(template, **context)).write_pdf()


def bilingual(label) -> str:
    """A (lazy) label as "English 中文", or once where both read the same."""
    with force_locale("en"):
        english = str(label)
    with force_locale("zh_CN"):
        chinese = str(label)
    return english if english == chinese else f"{english} {chinese}"


def bilingual_labels(labels: dict) -> dict:
    return {key: bilingual(label) for key, label in labels.items()}


def signoff(role, event: TimelineEvent | None = None, *, roles: dict | None = None) -> dict:
    """One cell of a sign-off block: the step's ``role`` label (bilingual), and the signer's
    name with their staff roles and the time when ``event`` recorded it (else an empty box)."""
    if event is None:
        return {"role": bilingual(role), "name": None, "at": None}
    name = event.actor_name
    staff_roles = (roles or {}).get(event.actor)
    if staff_roles:
        name = f"{name} · {staff_roles}"
    return {"role": bilingual(role), "name": name, "at": event.created_at}


def last_events(complaint_id: int, kinds: tuple[str, ...]) -> dict[str, TimelineEvent]:
    """The latest timeline event of each of ``kinds`` on the complaint (one statement)."""
    rows = db.session.scalars(select(TimelineEvent).where(
        TimelineEvent.complaint_id == complaint_id, TimelineEvent.kind.in_(kinds))
        .order_by(TimelineEvent.id)).all()
    return {row.kind: row for row in rows}


def signer_roles(events) -> dict[str, str]:
    """``"staff:<id>"`` -> that user's roles in both languages, for the signers of ``events``."""
    from .complaints.vocabulary import ROLE_LABELS

    ids = {int(e.actor.partition(":")[2]) for e in events
           if e is not None and (e.actor or "").startswith("staff:")
           and e.actor.partition(":")[2].isdigit()}
    if not ids:
        return {}
    rows = db.session.execute(select(StaffUser.id, StaffUser.roles)
                              .where(StaffUser.id.in_(ids))).all()
    return {f"staff:{uid}": ", ".join(bilingual(ROLE_LABELS[r]) for r in (roles or [])
                                       if r in ROLE_LABELS)
            for uid, roles in rows}
