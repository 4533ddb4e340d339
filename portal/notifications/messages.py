"""What each notification says, in the recipient's language (English msgids, translated by
the catalogue). ``compose(notification, locale)`` returns subject and body lines."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext

from ..i18n import lazy_gettext as _l

# Event kinds a user or a group robot can subscribe to.
EVENTS = {
    "deadline.warning": _l("A deadline is near"),
    "deadline.breached": _l("A deadline was missed"),
    "deadline.escalated": _l("A missed deadline is escalated again"),
    "report.opened": _l("An escalation report was opened"),
    "deadline.digest": _l("Daily digest of missed deadlines (not yours)"),
    "webhook.paused": _l("A webhook receiver keeps failing and was paused"),
    "mailbox.failed": _l("A connected mailbox cannot be read"),
    # Your own work (portal/notifications/routing.py).
    "work.arrived": _l("A new complaint arrived"),
    "work.assigned": _l("You were made owner of a complaint"),
    "work.department": _l("A complaint was routed to your department"),
    "work.action_assigned": _l("A measure or action was assigned to you"),
    "work.approval_waiting": _l("An approval waits for your signature"),
    "work.customer_replied": _l("The customer replied"),
    "work.customer_disputed": _l("The customer disputed the answer"),
    "work.to_verify": _l("Effectiveness to verify"),
    "work.return_received": _l("Returned goods arrived for analysis and appraisal"),
    "work.return_appraised": _l("A returned part was appraised"),
    "work.to_classify": _l("A complaint was accepted: classify and route it"),
    "work.request_to_fulfil": _l("A request is ready to ship, receive or pay"),
    "work.action_due_soon": _l("Your measure or action is due within a day"),
    "work.action_overdue": _l("Your measure or action is overdue"),
}
# What the customer is told (by e-mail with a sign-in link; see routing.CUSTOMER_EVENTS).
CUSTOMER_KINDS = {
    "customer.information_requested": _l("We need more information"),
    "customer.accepted": _l("Your complaint was accepted"),
    "customer.rejected": _l("Your complaint was not accepted"),
    "customer.containment": _l("We started containment measures"),
    "customer.shipped": _l("Your replacement was shipped"),
    "customer.received": _l("We received your returned goods"),
    "customer.answered": _l("Our answer is ready"),
    "customer.closed": _l("Your complaint is closed"),
    "customer.return_appraised": _l("We examined your returned goods"),
    "customer.parts_issued": _l("Good parts are on their way"),
    "customer.eight_d": _l("Your 8D report is ready to download"),
}
# Subjects of the kinds above: "<number>: <what happened>".
SUBJECTS = {
    "work.arrived": _l("%(number)s: new complaint"),
    "work.assigned": _l("%(number)s: you are the owner"),
    "work.department": _l("%(number)s: routed to your department"),
    "work.action_assigned": _l("%(number)s: a measure or action for you"),
    "work.approval_waiting": _l("%(number)s: your approval is needed"),
    "work.customer_replied": _l("%(number)s: the customer replied"),
    "work.customer_disputed": _l("%(number)s: the customer disputed the answer"),
    "work.to_verify": _l("%(number)s: effectiveness to verify"),
    "work.to_classify": _l("%(number)s: accepted, to classify and route"),
    "work.request_to_fulfil": _l("%(number)s: a request to ship, receive or pay"),
    "work.action_due_soon": _l("%(number)s: your measure or action is due within a day"),
    "work.action_overdue": _l("%(number)s: your measure or action is overdue"),
    "customer.information_requested": _l("%(number)s: we need more information"),
    "customer.accepted": _l("%(number)s: your complaint was accepted"),
    "customer.rejected": _l("%(number)s: your complaint was not accepted"),
    "customer.containment": _l("%(number)s: we started containment measures"),
    "customer.shipped": _l("%(number)s: your replacement was shipped"),
    "customer.received": _l("%(number)s: we received your returned goods"),
    "customer.answered": _l("%(number)s: our answer is ready"),
    "customer.closed": _l("%(number)s: your complaint is closed"),
    "work.return_received": _l("%(number)s: returned goods arrived"),
    "work.return_appraised": _l("%(number)s: returned part appraised"),
    "customer.return_appraised": _l("%(number)s: we examined your returned goods"),
    "customer.parts_issued": _l("%(number)s: good parts are on their way"),
    "customer.eight_d": _l("%(number)s: your 8D report is ready to download"),
}
CHANNELS = ("in_app", "email")
ROBOT_CHANNELS = ("wecom", "dingtalk", "feishu")


def _when(value: str | None, timezone: str) -> str:
    if not value:
        return ""
    from datetime import datetime

    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(timezone))
    return moment.strftime("%Y-%m-%d %H:%M") + f" ({timezone})"


def compose(event: str, data: dict, locale: str, timezone: str) -> tuple[str, list[str]]:
    """``(subject, lines)`` for an event's data, rendered in ``locale``."""
    with force_locale(locale or "zh_CN"):
        from portal.deadlines.policy import LABELS

        clock = str(LABELS.get(data.get("clock_kind", ""), data.get("clock_kind", "")))
        subject_of = data.get("number") or data.get("report_number") or ""
        due = _when(data.get("due_at"), timezone)
        if event == "deadline.warning":
            subject = gettext("%(number)s: deadline near — %(clock)s", number=subject_of,
                              clock=clock)
            lines = [gettext("%(clock)s is due at %(due)s.", clock=clock, due=due)]
        elif event == "deadline.breached":
            subject = gettext("%(number)s: deadline missed — %(clock)s", number=subject_of,
                              clock=clock)
            lines = [gettext("%(clock)s was due at %(due)s and is not done.", clock=clock,
                             due=due)]
        elif event == "deadline.escalated":
            subject = gettext("%(number)s: still overdue — %(clock)s", number=subject_of,
                              clock=clock)
            lines = [gettext("%(clock)s was due at %(due)s and is still not done. "
                             "This is the second escalation.", clock=clock, due=due)]
        elif event == "report.opened":
            from portal.complaints.vocabulary import REPORT_KIND_LABELS

            kind = data.get("report_kind")
            title = str(REPORT_KIND_LABELS.get(kind, REPORT_KIND_LABELS["special"]))
            subject = gettext("%(title)s %(number)s opened", title=title, number=subject_of)
            lines = [gettext("Trigger: %(trigger)s", trigger=data.get("trigger_text", "")),
                     gettext("Due: %(due)s", due=due)]
        elif event == "deadline.digest":
            subject = gettext("%(count)s complaints with missed deadlines in the past day",
                              count=data.get("count", 0))
            lines = [", ".join(data.get("numbers") or [])]
        elif event in ("webhook.paused", "mailbox.failed"):
            subject, lines = _integration(event, data)
        elif event in SUBJECTS:
            subject, lines = str(SUBJECTS[event]) % {"number": subject_of}, _details(data)
            if due:
                lines.append(gettext("Due: %(due)s", due=due))
        else:  # a kind without its own words: a generic wording, never the raw event name
            subject, lines = generic_subject(subject_of), _details(data)
        if data.get("title"):
            lines.insert(0, data["title"])
        return subject, lines


def generic_subject(number: str | None) -> str:
    """The subject of a notification whose kind has none of its own (in the current locale)."""
    if number:
        return gettext("%(number)s: something new for you", number=number)
    return gettext("Something new for you")


def label(event: str):
    """The words of a notification kind (or of a domain event), a generic wording for one
    nobody named — never the raw code."""
    from ..events import EVENTS as DOMAIN_EVENTS

    return EVENTS.get(event) or CUSTOMER_KINDS.get(event) or DOMAIN_EVENTS.get(event) \
        or _l("Another notification")


def _integration(event: str, data: dict) -> tuple[str, list[str]]:
    """Webhooks and mailboxes (portal/webhooks, portal/mailin), told to the tenant's admins."""
    if event == "webhook.paused":
        return (gettext("Webhook %(name)s paused", name=data.get("name", "")),
                [gettext("%(url)s failed %(count)s times in a row. Nothing more is sent to it "
                         "until an admin resumes it.", url=data.get("url", ""),
                         count=data.get("failures", ""))])
    return (gettext("Mailbox %(address)s cannot be read", address=data.get("address", "")),
            [gettext("The last attempt failed: %(error)s", error=data.get("error", ""))])


def _details(data: dict) -> list[str]:
    """The lines of a work or customer message: the text shown to the customer (question,
    reason, answer) and the tracking number of a shipment."""
    lines = []
    if data.get("message"):
        lines.append(data["message"])
    if data.get("carrier"):
        from portal.complaints.requests import carrier_text

        lines.append(gettext("Carrier: %(carrier)s",
                             carrier=carrier_text(data["carrier"], data.get("carrier_name"))))
    if data.get("tracking_number"):
        lines.append(gettext("Tracking number: %(number)s", number=data["tracking_number"]))
    if data.get("rma"):
        lines.append(gettext("Return number (RMA): %(rma)s", rma=data["rma"]))
    if data.get("verdict"):
        from portal.complaints.vocabulary import CUSTOMER_RETURN_VERDICT_LABELS

        verdict = CUSTOMER_RETURN_VERDICT_LABELS.get(data["verdict"])
        if verdict is not None:
            lines.append(gettext("Result of the examination: %(verdict)s", verdict=verdict))
    if data.get("quantity"):
        lines.append(gettext("Quantity: %(quantity)s", quantity=data["quantity"]))
    return lines
