"""Sending e-mail (retried by RQ when the SMTP server fails)."""

from portal.mail import deliver

from . import tenant_job


@tenant_job
def send_email(to: str, subject: str, text: str, html: str | None = None,
               headers: dict | None = None) -> str:
    return deliver(to, subject, text, html, headers)
