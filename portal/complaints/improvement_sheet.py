"""The feedback analysis and improvement sheet (问题反馈分析改善表) as a printed form: the
complaint, its analysis, its measures and their verification on the frame of every form
(``pdf/_layout.html``), every enumerated value in both languages, and the sign-offs the
product records (accepted, root cause, effectiveness, answer, closing) with name, role and
time, or empty boxes to sign by hand."""

from __future__ import annotations

from ..printing import bilingual_labels, last_events, render_pdf, signer_roles, signoff
from . import vocabulary as v
from .exports import pdf_context

# Sign-off cell -> the timeline kinds that sign it (the latest of them counts).
SIGNOFFS = (
    ("accepted", ("transition.accept",)),
    ("root_cause", ("root_cause.recorded",)),
    ("effective", ("effectiveness.verified",)),
    ("answered", ("transition.answer",)),
    ("closed", ("transition.close", "transition.customer_accept")),
)


def signoffs(complaint_id: int) -> list[dict]:
    kinds = tuple(k for _, ks in SIGNOFFS for k in ks)
    events = last_events(complaint_id, kinds)
    roles = signer_roles(events.values())
    rows = []
    for name, ks in SIGNOFFS:
        found = [events[k] for k in ks if k in events]
        latest = max(found, key=lambda e: e.id) if found else None
        rows.append(signoff(v.SIGNOFF_LABELS[name], latest, roles=roles))
    return rows


def context(complaint, tenant) -> dict:
    labels = {"severities": bilingual_labels(v.SEVERITY_LABELS),
              "causes": bilingual_labels(v.CAUSE_LABELS),
              "demand_labels": bilingual_labels(v.DEMAND_LABELS)}
    return {**pdf_context(complaint, labels), "tenant": tenant, "doc_number": complaint.number,
            "action_labels": bilingual_labels(v.ACTION_LABELS),
            "verdicts": bilingual_labels({"accepted": v.transition_label("customer_accept"),
                                          "disputed": v.transition_label("dispute")}),
            "signoffs": signoffs(complaint.id)}


def pdf(complaint, tenant) -> bytes:
    return render_pdf("pdf/improvement_sheet.html", **context(complaint, tenant))
