"""The demo shows its mail: each outgoing e-mail printed to the console (recipient, subject,
link) and listed on a local page — in the demo only, a 404 anywhere else."""

from __future__ import annotations

import pytest

from portal import mail
from tests.conftest import csrf_from


@pytest.fixture
def demo_mailbox(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_MAILBOX", True)
    monkeypatch.setitem(app.config, "MAIL_URL", None)
    mail.DEMO_SENT.clear()
    yield mail.DEMO_SENT
    mail.DEMO_SENT.clear()


def test_a_customers_link_mail_is_printed_and_listed(client, db, make_tenant, make_contact,
                                                     demo_mailbox, capfd):
    tenant = make_tenant()
    contact = make_contact(tenant, name="<script>alert(1)</script>")
    address = contact.email
    page = client.get(f"/t/{tenant.slug}/sign-in")
    client.post(f"/t/{tenant.slug}/sign-in/link", data={
        "email": address, "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert len(demo_mailbox) == 1
    sent = demo_mailbox[0]
    assert sent["to"] == address and "/sign-in/link/" in sent["links"][0]
    err = capfd.readouterr().err
    assert f"[mail] to {address}: {sent['subject']}" in err and sent["links"][0] in err
    listing = client.get("/demo/mail")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200 and f'href="{sent["links"][0]}"' in html
    assert "<script>alert(1)</script>" not in html
    # The link works from the page: it signs the contact in.
    path = "/" + sent["links"][0].split("/", 3)[3]
    form = client.get(path)
    signed = client.post(path, data={"csrf_token": csrf_from(form.get_data(as_text=True))})
    assert signed.status_code == 303 and "/sign-in" not in signed.headers["Location"]


def test_no_mailbox_page_outside_the_demo(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_MAILBOX", False)
    assert client.get("/demo/mail").status_code == 404
    monkeypatch.setitem(app.config, "DEMO_MAILBOX", True)
    monkeypatch.setitem(app.config, "CLOSELOOP_PRODUCTION", True)
    assert client.get("/demo/mail").status_code == 404


def test_the_demo_empty_mailbox(client, demo_mailbox):
    html = client.get("/demo/mail").get_data(as_text=True)  # no tenant: Chinese
    assert "尚未发送邮件。" in html and "演示发送的邮件" in html
