"""A survey's personal link: the token derived from what the survey is for (HMAC with
SECRET_KEY), its hash (all the database keeps), the lookup, and the absolute URL for e-mails."""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app, url_for
from sqlalchemy import select

from ..extensions import db
from ..models import (
    Survey,
    Tenant,
)

COMPLAINT_LINK_DAYS = 30  # a complaint survey's link works this long after it is due
CAMPAIGN_LINK_DAYS = 60


def survey_token(tenant_id: int, scope: str) -> str:
    """The link's secret for ``scope`` ("complaint:12", "campaign:3:contact:45")."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"survey:{tenant_id}:{scope}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def scope_of(survey: Survey) -> str:
    if survey.campaign_id:
        return f"campaign:{survey.campaign_id}:contact:{survey.contact_id}"
    return f"complaint:{survey.complaint_id}"


def token_for(survey: Survey) -> str:
    return survey_token(survey.tenant_id, scope_of(survey))


def find_by_token(token: str) -> Survey | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(select(Survey).where(Survey.token_hash == token_hash(token)))


def link_for(survey: Survey, tenant: Tenant) -> str:
    """The absolute link for e-mails (built from PUBLIC_URL: jobs have no request)."""
    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base):
        return url_for("customer.public_survey", tenant_slug=tenant.slug,
                       token=token_for(survey), _external=True)
