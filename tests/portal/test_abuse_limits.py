"""Abuse limits that hold (issue 15): counted on the server, not in the cookie; the sign-in
link limited per address and per e-mail; wrong passwords slow the (account, address) pair
with growing delays without locking colleagues out; common passwords refused wherever a
password is set; the 429 page in the user's language with Retry-After."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts import throttle
from portal.models import OperatorSignInFailure, OutboxMessage, SignInFailure, Tenant
from portal.tenancy import activate, unscoped
from tests.conftest import PASSWORD, csrf_from
from tests.customer.conftest import jpeg

GATEWAY = {"REMOTE_ADDR": "203.0.113.7"}  # one factory's gateway address
ELSEWHERE = {"REMOTE_ADDR": "198.51.100.20"}


def post_form(client, path, data, page=None, environ=None):
    html = client.get(page or path, environ_base=environ or {}).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(html), **data},
                       environ_base=environ or {})


# -- photo staging: per address and per form, whatever the cookie says -----------------------

def _stage(client, tenant, token, key, cookie=None):
    if cookie:
        client.set_cookie("session", cookie)
    return client.post(f"/t/{tenant.slug}/photos/stage",
                       data={"csrf_token": token, "form_key": key,
                             "photo": (io.BytesIO(jpeg()), "IMG_1.jpg")},
                       content_type="multipart/form-data")


def test_replayed_cookie_gets_no_more_uploads(app, db, make_tenant, monkeypatch):
    monkeypatch.setitem(app.config, "STAGE_LIMIT_PER_ADDRESS", "3 per hour")
    tenant = make_tenant()
    first = app.test_client()
    page = first.get(f"/t/{tenant.slug}/complaints/new")
    token = csrf_from(page.get_data(as_text=True))
    cookie = first.get_cookie("session").value  # the first cookie, kept aside
    for n in range(3):
        # a fresh client each time, replaying the first cookie: no state of its own
        assert _stage(app.test_client(), tenant, token, f"form-{n:02d}" + "k" * 26,
                      cookie).status_code == 200
    refused = _stage(app.test_client(), tenant, token, "form-99" + "k" * 25, cookie)
    assert refused.status_code == 429
    assert "Too many photos were sent from here" in refused.json["error"]
    assert 0 < int(refused.headers["Retry-After"]) <= 3600


def test_one_form_cannot_stage_without_end(app, db, make_tenant, monkeypatch):
    tenant = make_tenant()
    with unscoped():
        db.session.get(Tenant, tenant.id).settings = {"max_photos": 1}
        db.session.flush()
    client = app.test_client()
    token = csrf_from(client.get(f"/t/{tenant.slug}/complaints/new").get_data(as_text=True))
    key = "f" * 32
    for _ in range(3):  # three times the photos a complaint may have
        assert _stage(client, tenant, token, key).status_code == 200
    assert _stage(client, tenant, token, key).status_code == 429
    assert _stage(client, tenant, token, "g" * 32).status_code == 200  # another form may


# -- the one-time sign-in link ---------------------------------------------------------------

def _ask_link(client, tenant, email, environ=None):
    return post_form(client, f"/t/{tenant.slug}/sign-in/link", {"email": email},
                     page=f"/t/{tenant.slug}/sign-in", environ=environ)


def _mails_to(db, tenant, email):
    with unscoped():
        return [m for m in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.tenant_id == tenant.id, OutboxMessage.job == "jobs.mail.send_email"))
            if m.args[0] == email]


def test_sign_in_link_is_limited_per_email(client, app, db, make_tenant, make_contact):
    tenant = make_tenant()
    contact = make_contact(tenant)
    limit = int(app.config["SIGNIN_LINK_LIMIT_PER_EMAIL"].split()[0])
    for n in range(limit):  # from different addresses: the e-mail is what is counted
        assert _ask_link(client, tenant, contact.email,
                         {"REMOTE_ADDR": f"192.0.2.{n + 1}"}).status_code == 303
    refused = _ask_link(client, tenant, contact.email.upper(), {"REMOTE_ADDR": "192.0.2.99"})
    assert refused.status_code == 429
    assert "Too many requests" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 0
    assert len(_mails_to(db, tenant, contact.email)) == limit


def test_sign_in_link_is_limited_per_address(client, app, db, make_tenant, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_LINK_LIMIT_PER_ADDRESS", "2 per hour")
    tenant = make_tenant()
    for n in range(2):
        assert _ask_link(client, tenant, f"someone{n}@example.com").status_code == 303
    assert _ask_link(client, tenant, "someone-else@example.com").status_code == 429
    # another address is not affected
    assert _ask_link(client, tenant, "someone-else@example.com", ELSEWHERE).status_code == 303


def test_429_page_speaks_chinese_and_says_when(client, app, db, make_tenant, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_RATE_LIMIT", "2 per minute")
    tenant = make_tenant(default_locale="zh_CN")
    path = f"/t/{tenant.slug}/staff/sign-in"
    for _ in range(2):
        post_form(client, path, {"email": "x@example.com", "password": "wrong-password"})
    refused = post_form(client, path, {"email": "x@example.com", "password": "wrong-password"})
    assert refused.status_code == 429
    text = refused.get_data(as_text=True)
    assert "请求过多" in text and "Too many" not in text
    assert 0 < int(refused.headers["Retry-After"]) <= 60


# -- wrong passwords: the pair waits, colleagues do not ----------------------------------------

def _staff_sign_in(client, tenant, email, password, environ):
    return post_form(client, f"/t/{tenant.slug}/staff/sign-in",
                     {"email": email, "password": password}, environ=environ)


def test_typos_slow_one_pair_not_the_colleagues_behind_the_gateway(
        app, db, make_tenant, make_staff):
    tenant = make_tenant()
    clumsy = make_staff(tenant, "quality", email="clumsy@factory.example.com")
    colleague = make_staff(tenant, "logistics", email="colleague@factory.example.com")
    client = app.test_client()
    for _ in range(app.config["SIGNIN_FREE_FAILURES"] + 1):
        _staff_sign_in(client, tenant, clumsy.email, "typo-typo-typo", GATEWAY)
    waits = _staff_sign_in(client, tenant, clumsy.email, PASSWORD, GATEWAY)
    assert waits.status_code == 422 and "Too many failed attempts" in waits.get_data(as_text=True)
    # the colleague behind the same gateway, and the same account from elsewhere, sign in
    assert _staff_sign_in(app.test_client(), tenant, colleague.email, PASSWORD,
                          GATEWAY).status_code == 303
    assert _staff_sign_in(app.test_client(), tenant, clumsy.email, PASSWORD,
                          ELSEWHERE).status_code == 303


def _age(db, table, seconds):
    """Move every recorded failure ``seconds`` into the past (time passing, without sleep)."""
    with unscoped():
        for row in db.session.scalars(select(table)):
            row.at -= timedelta(seconds=seconds)
        db.session.flush()


def test_delays_grow_with_each_failure_and_a_success_clears_them(app, db, make_tenant,
                                                                 make_staff):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    client = app.test_client()
    free, first = app.config["SIGNIN_FREE_FAILURES"], app.config["SIGNIN_FIRST_DELAY_SECONDS"]
    for _ in range(free):
        _staff_sign_in(client, tenant, user.email, "wrong-password", GATEWAY)
    text = _staff_sign_in(client, tenant, user.email, PASSWORD, GATEWAY).get_data(as_text=True)
    assert f"Wait {first} seconds" in text
    _age(db, SignInFailure, first + 1)  # the first delay has passed: one more try is allowed
    _staff_sign_in(client, tenant, user.email, "wrong-again", GATEWAY)
    text = _staff_sign_in(client, tenant, user.email, PASSWORD, GATEWAY).get_data(as_text=True)
    assert f"Wait {2 * first} seconds" in text  # twice as long now
    _age(db, SignInFailure, 2 * first + 1)
    assert _staff_sign_in(client, tenant, user.email, PASSWORD, GATEWAY).status_code == 303
    with activate(tenant):
        assert db.session.scalars(select(SignInFailure)).all() == []


def test_delay_is_capped(app):
    with app.app_context():
        cap = app.config["SIGNIN_MAX_DELAY_SECONDS"]
        assert throttle.pair_delay(app.config["SIGNIN_FREE_FAILURES"] - 1) == 0
        assert throttle.pair_delay(200) == cap


def test_abusive_volume_from_one_address_is_refused(app, db, make_tenant, make_staff,
                                                    monkeypatch):
    monkeypatch.setitem(app.config, "SIGNIN_MAX_FAILURES_PER_ADDRESS", 6)
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    client = app.test_client()
    for n in range(6):  # one guess each at six accounts: no pair is slowed, the address is
        _staff_sign_in(client, tenant, f"guess{n}@example.com", "password-guess", GATEWAY)
    refused = _staff_sign_in(client, tenant, user.email, PASSWORD, GATEWAY)
    assert "Too many failed attempts" in refused.get_data(as_text=True)
    assert _staff_sign_in(client, tenant, user.email, PASSWORD, ELSEWHERE).status_code == 303


def test_operator_sign_in_shares_the_pair_throttle(app, db):
    from tests.portal.test_operator import make_operator

    make_operator(db)
    make_operator(db, email="second@closeloop.example.com")

    def attempt(email, password, environ):
        return post_form(app.test_client(), "/operator/sign-in",
                         {"email": email, "password": password},
                         environ={**environ, "HTTP_ACCEPT_LANGUAGE": "en"})

    for _ in range(app.config["SIGNIN_FREE_FAILURES"]):
        assert attempt("op@closeloop.example.com", "wrong-password", GATEWAY).status_code == 422
    waits = attempt("op@closeloop.example.com", PASSWORD, GATEWAY)
    assert waits.status_code == 422 and "Too many failed attempts" in waits.get_data(as_text=True)
    assert "sign-in link" not in waits.get_data(as_text=True)  # operators have none
    assert attempt("second@closeloop.example.com", PASSWORD, GATEWAY).status_code == 303
    assert db.session.scalar(select(OperatorSignInFailure.ip_address)) == GATEWAY["REMOTE_ADDR"]


# -- common passwords, wherever a password is set ---------------------------------------------

COMMON = ["password123", "1234567890", "qwertyuiop", "Password123 "]
REFUSED = "one of the most common ones"


@pytest.mark.parametrize("password", COMMON)
def test_sign_up_refuses_a_common_password(app, db, password):
    response = post_form(app.test_client(), "/signup", {
        "company_name": "Common Co.", "slug": "common-co", "admin_name": "Lin Wei",
        "email": "lin@common.example.com", "password": password, "confirm": password,
        "default_locale": "en", "timezone": "Asia/Shanghai"},
        environ={"HTTP_ACCEPT_LANGUAGE": "en"})
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    assert "Common Co." in response.get_data(as_text=True)  # what was typed is kept
    with unscoped():
        assert db.session.scalar(select(Tenant).where(Tenant.slug == "common-co")) is None


@pytest.mark.parametrize("staff", [True, False])
def test_password_change_refuses_a_common_password(app, db, make_tenant, make_staff,
                                                   make_contact, sign_in, staff):
    tenant = make_tenant()
    user = make_staff(tenant, "quality") if staff else make_contact(tenant)
    client = app.test_client()
    assert sign_in(client, tenant, user.email, staff=staff).status_code == 303
    path = f"/t/{tenant.slug}/staff/account/password" if staff \
        else f"/t/{tenant.slug}/account/password"
    response = post_form(client, path, {"current_password": PASSWORD,
                                        "new_password": "qwertyuiop", "confirm": "qwertyuiop"})
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    assert post_form(client, path, {"current_password": PASSWORD, "new_password":
                                    "plum-kettle-orbit", "confirm": "plum-kettle-orbit"}
                     ).status_code == 303


def test_invitation_refuses_a_common_password(app, db, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    client = app.test_client()
    assert sign_in(client, tenant, admin.email).status_code == 303
    post_form(client, f"/t/{tenant.slug}/staff/admin/people",
              {"name": "New Person", "email": "new@staff.example.com", "department_id": "0",
               "roles": ["quality"], "locale": "en"})
    with unscoped():
        text = [m.args[2] for m in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.job == "jobs.mail.send_email")) if m.args[0] == "new@staff.example.com"]
    link = "/" + re.search(r"http://\S+/invitation/\S+", text[-1]).group(0).split("/", 3)[3]
    fresh = app.test_client()
    response = post_form(fresh, link, {"password": "1234567890", "confirm": "1234567890"})
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    with unscoped():
        from portal.models import StaffUser

        person = db.session.scalar(select(StaffUser).where(
            StaffUser.email == "new@staff.example.com"))
        assert person.password_hash is None  # nothing was set


def test_create_operator_refuses_a_common_password(app, db):
    result = app.test_cli_runner().invoke(args=[
        "create-operator", "--email", "root@example.com", "--name", "Root",
        "--password", "password123"])
    assert result.exit_code != 0 and "most common passwords" in result.output


def test_common_password_message_is_translated(app, db, make_tenant, make_staff, sign_in):
    tenant = make_tenant(default_locale="zh_CN")
    user = make_staff(tenant, "quality", locale="zh_CN")
    client = app.test_client()
    assert sign_in(client, tenant, user.email).status_code == 303
    response = post_form(client, f"/t/{tenant.slug}/staff/account/password",
                         {"current_password": PASSWORD, "new_password": "password123",
                          "confirm": "password123"})
    assert "最常见" in response.get_data(as_text=True)


def test_old_failures_are_forgotten_by_housekeeping(app, db, make_tenant, make_staff):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    client = app.test_client()
    _staff_sign_in(client, tenant, user.email, "wrong-password", GATEWAY)
    _staff_sign_in(client, tenant, user.email, "wrong-password", ELSEWHERE)
    _age(db, SignInFailure, app.config["SIGNIN_PAIR_WINDOW_HOURS"] * 3600 + 60)
    _staff_sign_in(client, tenant, user.email, "wrong-password", GATEWAY)  # a fresh one
    with app.app_context():
        from portal import uow

        assert throttle.forget_old_failures() == 2
        assert throttle.forget_old_failures() == 0
        uow.commit()
    with activate(tenant):
        assert len(db.session.scalars(select(SignInFailure)).all()) == 1


def test_a_store_that_does_not_answer_is_a_503_that_says_so(pg_schema):
    from portal.storage import StorageUnavailable
    from tests.conftest import make_app

    application = make_app(pg_schema)

    @application.get("/store-test")
    def store_test():
        raise StorageUnavailable("S3 did not answer")

    response = application.test_client().get("/store-test",
                                             headers={"Accept-Language": "en"})
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "what you sent was not saved" in text and "lost" not in text


def test_rate_limits_fail_open_when_redis_is_down(pg_schema, db, make_tenant, make_contact,
                                                  tmp_path):
    """Counters are a guard, not a dependency: with their Redis unreachable, people still
    sign in and ask for links (and the outage is logged)."""
    import socket

    from tests.conftest import make_app

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    down = make_app(pg_schema, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed}/0",
                    LOCAL_STORAGE_DIR=str(tmp_path))
    try:
        tenant = make_tenant()
        contact = make_contact(tenant)
        client = down.test_client()
        assert _ask_link(client, tenant, contact.email).status_code == 303
        page = client.get(f"/t/{tenant.slug}/complaints/new").get_data(as_text=True)
        staged = client.post(f"/t/{tenant.slug}/photos/stage", data={
            "csrf_token": csrf_from(page), "form_key": "d" * 32,
            "photo": (io.BytesIO(jpeg()), "IMG_5.jpg")}, content_type="multipart/form-data")
        assert staged.status_code == 200
    finally:
        make_app(pg_schema, RATELIMIT_STORAGE_URI="memory://")  # later tests count in memory


def test_orphan_purge_on_local_storage_keeps_photos_waiting_for_their_job(
        app, db, make_tenant, make_complaint):
    """The embedded default's disk store lists and purges like S3 (tested on moto in
    tests/jobs/test_outages_real.py)."""
    from portal import photos
    from portal.models import Photo, utcnow
    from portal.storage import get_storage

    tenant = make_tenant()
    complaint = make_complaint(tenant)
    with app.test_request_context(), activate(tenant):
        data = jpeg()
        orphan = photos.stage(tenant.id, data, photos.StagedUpload(
            key="", filename="o.jpg", content_type="image/jpeg", size=len(data), sha256="x",
            width=64, height=48))
        kept = photos.stage(tenant.id, data, photos.StagedUpload(
            key="", filename="k.jpg", content_type="image/jpeg", size=len(data), sha256="x",
            width=64, height=48))
        db.session.add(Photo(complaint_id=complaint.id, uploaded_by="visitor",
                             original_filename="k.jpg", size_bytes=len(data),
                             staging_key=kept.key))
        db.session.flush()
        listed = dict(get_storage().list(f"t/{tenant.id}/staging/"))
        assert {orphan.key, kept.key} <= set(listed)
        later = utcnow() + photos.ORPHAN_AFTER + timedelta(minutes=5)
        assert photos.purge_orphaned_staging(now=later) >= 1
        assert not get_storage().exists(orphan.key) and get_storage().exists(kept.key)
