"""The admin connects a mailbox (the login is tried against the real Dovecot first; the
password is stored encrypted), refused hosts and logins say why; reading helpers."""

from __future__ import annotations

import email

import pytest
from sqlalchemy import select

from portal.mailin.reading import automatic, strip_quoted
from portal.models import Mailbox
from portal.secretbox import decrypt
from portal.tenancy import activate, unscoped
from tests.conftest import csrf_from


def _admin(client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    sign_in(client, tenant, make_staff(tenant, "admin").email)
    return tenant


def _post(client, tenant, **data):
    path = f"/t/{tenant.slug}/staff/admin/mailboxes"
    token = csrf_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def test_admin_connects_a_mailbox_after_a_real_login(client, db, intake_settings, imap_user,
                                                    make_tenant, make_staff, sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    fields = dict(address="Service@Maker.example.com", host="127.0.0.1",
                  port=imap_user.server["port"], username=imap_user.name, folder="INBOX")
    response = _post(client, tenant, **fields, password="wrong")
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "The sign-in to the mailbox failed" in text
    assert imap_user.name in text and "wrong" not in text.split("form-errors")[0][-50:]

    response = _post(client, tenant, **fields, password=imap_user.password)
    assert response.status_code == 303
    with activate(tenant):
        [mailbox] = db.session.scalars(select(Mailbox)).all()
        assert mailbox.address == "service@maker.example.com"
        assert imap_user.password not in mailbox.password_encrypted
        assert decrypt(mailbox.password_encrypted) == imap_user.password
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing fetched yet." in page and imap_user.password not in page


def test_internal_hosts_are_refused(client, db, make_tenant, make_staff, sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    for host in ("127.0.0.1", "10.0.0.5", "169.254.169.254", "localhost", "a/b"):
        response = _post(client, tenant, address="s@m.example.com", host=host, port=993,
                         username="u", password="p", folder="INBOX")
        assert response.status_code == 422, host
        assert "private or internal network" in response.get_data(as_text=True)


def test_the_form_validates_and_keeps_what_was_typed(client, db, make_tenant, make_staff,
                                                     sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    response = _post(client, tenant, address="not-an-address", host="", port=70000,
                     username="<b>me</b>", password="", folder="INBOX")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("Enter a valid e-mail address.", "Enter the IMAP server",
                    "Enter a port between 1 and 65535.", "Enter the password."):
        assert message in text
    assert "&lt;b&gt;me&lt;/b&gt;" in text and "not-an-address" in text


def test_mailbox_pages_are_admin_only_and_tenant_bound(client, db, make_tenant, make_staff,
                                                       sign_in):
    tenant, other = make_tenant(), make_tenant()
    with activate(other):
        from portal import mailin

        foreign = mailin.connect(address="x@y.example", host="imap.y.example", port=993,
                                 username="x", password="p")
    sign_in(client, tenant, make_staff(tenant, "after_sales").email)
    assert client.get(f"/t/{tenant.slug}/staff/admin/mailboxes").status_code == 403
    admin_client = client.application.test_client()
    sign_in(admin_client, tenant, make_staff(tenant, "admin").email)
    assert admin_client.get(
        f"/t/{tenant.slug}/staff/admin/mailboxes/{foreign.id}").status_code == 404
    token = csrf_from(admin_client.get(
        f"/t/{tenant.slug}/staff/admin/mailboxes").get_data(as_text=True))
    assert admin_client.post(f"/t/{tenant.slug}/staff/admin/mailboxes/{foreign.id}/delete",
                             data={"csrf_token": token}).status_code == 404
    with unscoped():
        assert db.session.get(Mailbox, foreign.id) is not None


@pytest.mark.parametrize("text,expected", [
    ("Thanks, here it is.\n\nOn Mon, 7 Dec 2026 at 09:00, Service <s@m.example> wrote:\n> old",
     "Thanks, here it is."),
    ("好的\n\n在 2026年12月7日 09:00，售后 写道：\n> 旧内容", "好的"),
    ("见附件\n\n-----原始邮件-----\n发件人: 售后\n主题: 旧", "见附件"),
    ("OK\r\n\r\n-----Original Message-----\r\nFrom: x", "OK"),
    ("Line one\n> quoted\nLine two\n-- \nSignature", "Line one\nLine two"),
    ("发自我的iPhone\n\n发件人: 售后 <s@m.example>\n日期: …", "发自我的iPhone"),
])
def test_quoted_history_is_stripped(text, expected):
    assert strip_quoted(text) == expected


@pytest.mark.parametrize("headers,reason", [
    ({"Auto-Submitted": "auto-generated"}, "auto-submitted"),
    ({"Auto-Submitted": "no"}, None),
    ({"Precedence": "junk"}, "bulk"),
    ({"X-Autoreply": "yes"}, "auto-reply"),
    ({"Return-Path": "<>"}, "bounce"),
    ({"List-Id": "<q.lists.example>"}, "list"),
])
def test_machines_are_recognised(headers, reason):
    lines = "".join(f"{k}: {v}\n" for k, v in headers.items())
    message = email.message_from_string(f"{lines}From: a@b.example\nSubject: x\n\nbody")
    assert automatic(message, "a@b.example", {"service@m.example"}) == reason


def test_own_addresses_and_daemons_are_recognised():
    message = email.message_from_string("From: x\nSubject: x\n\nbody")
    assert automatic(message, "service+c1x00@m.example", {"service@m.example"}) == "own address"
    assert automatic(message, "MAILER-DAEMON@mx.example", set()) == "bounce"
    assert automatic(message, "", set()) == "bounce"
