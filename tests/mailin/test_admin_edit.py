"""The admin changes a connected mailbox: a blank password keeps the stored one, a changed
server, user, password or folder is tried against the real Dovecot before it is saved, and a
refused change keeps what was typed (never the password) and changes nothing."""

from __future__ import annotations

from portal.models import Mailbox
from portal.secretbox import decrypt
from portal.tenancy import activate
from tests.conftest import csrf_from


def _edit(client, tenant, mailbox_id, **data):
    page = f"/t/{tenant.slug}/staff/admin/mailboxes/{mailbox_id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(f"{page}/edit", data={"csrf_token": token, **data})


def _mailbox(db, tenant, mailbox_id) -> Mailbox:
    with activate(tenant):
        db.session.expire_all()
        return db.session.get(Mailbox, mailbox_id)


def _fields(imap_user, **changes):
    fields = dict(address="service@maker.example.com", host="127.0.0.1",
                  port=imap_user.server["port"], username=imap_user.name, password="",
                  folder="INBOX")
    fields.update(changes)
    return fields


def test_a_blank_password_keeps_the_stored_one(client, db, connected, make_staff, sign_in):
    tenant, mailbox_id, imap_user = connected
    sign_in(client, tenant, make_staff(tenant, "admin").email)
    page = client.get(f"/t/{tenant.slug}/staff/admin/mailboxes/{mailbox_id}")
    text = page.get_data(as_text=True)
    assert "Change the mailbox" in text and imap_user.password not in text
    assert 'value="service@maker.example.com"' in text
    response = _edit(client, tenant, mailbox_id,
                     **_fields(imap_user, address="Klage@Maker.example.com"))
    assert response.status_code == 303
    mailbox = _mailbox(db, tenant, mailbox_id)
    assert mailbox.address == "klage@maker.example.com"
    assert decrypt(mailbox.password_encrypted) == imap_user.password


def test_a_changed_login_is_tried_first_and_a_refusal_changes_nothing(
        client, db, connected, make_staff, sign_in):
    tenant, mailbox_id, imap_user = connected
    sign_in(client, tenant, make_staff(tenant, "admin").email)
    before = _mailbox(db, tenant, mailbox_id).password_encrypted
    refused = _edit(client, tenant, mailbox_id,
                    **_fields(imap_user, password="wrong-password", folder="Archive<script>"))
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "The sign-in to the mailbox failed" in text
    assert "Archive&lt;script&gt;" in text and "wrong-password" not in text
    assert _mailbox(db, tenant, mailbox_id).password_encrypted == before
    for host in ("10.0.0.5", "169.254.169.254", "a/b"):
        response = _edit(client, tenant, mailbox_id, **_fields(imap_user, host=host))
        assert response.status_code == 422
        assert "private or internal network" in response.get_data(as_text=True)
    bad = _edit(client, tenant, mailbox_id, **_fields(imap_user, address="not-an-address",
                                                      port="70000"))
    assert bad.status_code == 422 and 'value="not-an-address"' in bad.get_data(as_text=True)
    mailbox = _mailbox(db, tenant, mailbox_id)
    assert (mailbox.host, mailbox.folder, mailbox.address) == (
        "127.0.0.1", "INBOX", "service@maker.example.com")
    # The right password, typed again, is tried and stored (encrypted).
    saved = _edit(client, tenant, mailbox_id, **_fields(imap_user, password=imap_user.password))
    assert saved.status_code == 303
    assert decrypt(_mailbox(db, tenant, mailbox_id).password_encrypted) == imap_user.password


def test_another_tenants_mailbox_cannot_be_changed(client, db, connected, make_tenant,
                                                   make_staff, sign_in):
    tenant, mailbox_id, imap_user = connected
    intruder = make_tenant()
    sign_in(client, intruder, make_staff(intruder, "admin").email)
    token = csrf_from(client.get(f"/t/{intruder.slug}/staff/admin/mailboxes")
                      .get_data(as_text=True))
    response = client.post(f"/t/{intruder.slug}/staff/admin/mailboxes/{mailbox_id}/edit",
                           data={"csrf_token": token, **_fields(imap_user, host="evil.test")})
    assert response.status_code == 404
    assert _mailbox(db, tenant, mailbox_id).host == "127.0.0.1"
