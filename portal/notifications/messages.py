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
    "webhook.paused": _l("A webhook receiver keeps failing and was paused"),
    "mailbox.failed": _l("A connected mailbox cannot be read"),
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
        elif event in ("webhook.paused", "mailbox.failed"):
            subject, lines = _integration(event, data)
        else:
            subject, lines = event, []
        if data.get("title"):
            lines.insert(0, data["title"])
        return subject, lines


def _integration(event: str, data: dict) -> tuple[str, list[str]]:
    """Webhooks and mailboxes (portal/webhooks, portal/mailin), told to the tenant's admins."""
    if event == "webhook.paused":
        return (gettext("Webhook %(name)s paused", name=data.get("name", "")),
                [gettext("%(url)s failed %(count)s times in a row. Nothing more is sent to it "
                         "until an admin resumes it.", url=data.get("url", ""),
                         count=data.get("failures", ""))])
    return (gettext("Mailbox %(address)s cannot be read", address=data.get("address", "")),
            [gettext("The last attempt failed: %(error)s", error=data.get("error", ""))])
