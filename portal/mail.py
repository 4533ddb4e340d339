"""E-mail: composed in the request (in the recipient's language), sent by a job.

``MAIL_URL`` (smtp://user:pass@host:port, smtps:// for implicit TLS, ?starttls=1)
chooses the SMTP server; without it, mail is written to the log (the embedded default).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections import deque
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import click
from flask import current_app, render_template
from flask_babel import force_locale

from .models import utcnow
from .queueing import enqueue

log = logging.getLogger(__name__)

# The demo's sent mail, newest first, kept in the process (the demo runs its jobs in process).
DEMO_SENT: deque = deque(maxlen=200)
LINK = re.compile(r"https?://\S+")


def queue_mail(to: str, template: str, locale: str | None, **context) -> None:
    """Render ``template`` (``mail/<name>.txt`` and ``.html``) in ``locale`` and queue it.

    The subject is the text template's first line. Written to the outbox in the caller's
    transaction, so the mail goes only if the transaction commits. A mail about a complaint
    (``complaint`` in the context) carries the complaint's reply token in its Message-ID and,
    when the tenant has a connected mailbox, in its Reply-To (portal/mailin), so the answer
    lands on that complaint.
    """
    with force_locale(locale or "zh_CN"):
        text = render_template(f"mail/{template}.txt", **context)
        html = render_template(f"mail/{template}.html", **context)
    subject, _, body = text.partition("\n")
    args = [to, subject.strip(), body.strip() + "\n", html]
    complaint = context.get("complaint")
    if getattr(complaint, "id", None) is not None:
        from .mailin.threading import reply_headers

        args.append(reply_headers(complaint))
    enqueue("jobs.mail.send_email", *args, queue="mail")


def deliver(to: str, subject: str, text: str, html: str | None = None,
            headers: dict | None = None) -> str:
    """Send one message now. Raises on SMTP failure (the job retries). Returns the Message-ID.
    ``headers`` may set Message-ID and Reply-To (nothing else)."""
    headers = headers or {}
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = headers.get("Message-ID") or make_msgid(domain="closeloop.local")
    if headers.get("Reply-To"):
        message["Reply-To"] = headers["Reply-To"]
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")

    url = current_app.config.get("MAIL_URL")
    if not url:
        links = LINK.findall(text)
        log.warning("mail (no MAIL_URL set, printed instead)\nTo: %s\nSubject: %s\n\n%s",
                    to, subject, text)
        if current_app.config.get("DEMO_MAILBOX"):
            # The demo's console and its local mailbox page (portal/web.py, demo only).
            click.echo(f"[mail] to {to}: {subject}" + "".join(f"\n       {u}" for u in links),
                       err=True)
            DEMO_SENT.appendleft({"to": to, "subject": subject, "links": links,
                                  "text": text, "at": utcnow()})
        return message["Message-ID"]

    parts = urlsplit(url)
    options = parse_qs(parts.query)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_class(parts.hostname, port, timeout=20) as smtp:
        if parts.scheme == "smtp" and options.get("starttls", ["0"])[0] in ("1", "true"):
            smtp.starttls(context=ssl.create_default_context())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)
    return message["Message-ID"]


def address(name: str, email: str) -> str:
    return formataddr((name, email))
