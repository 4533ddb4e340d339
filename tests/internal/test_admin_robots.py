"""Group robots: the admin adds and removes them; addresses only on the platforms' hosts."""

from sqlalchemy import select

from portal.models import SettingChange, Tenant
from portal.tenancy import activate, unscoped
from tests.conftest import csrf_from

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"
DINGTALK = "https://oapi.dingtalk.com/robot/send?access_token=tok"


def _admin(client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    sign_in(client, tenant, make_staff(tenant, "admin").email)
    return tenant


def _post(client, tenant, **data):
    url = f"/t/{tenant.slug}/staff/admin/robots"
    token = csrf_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _robots(db, tenant):
    with unscoped():
        db.session.expire_all()
        return db.session.get(Tenant, tenant.id).setting("webhooks")


def test_admin_adds_and_removes_a_robot(client, db, make_tenant, make_staff, sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    response = _post(client, tenant, name="售后群", channel="wecom", url=WECOM,
                     events=["deadline.breached", "report.opened"])
    assert response.status_code == 303
    robots = _robots(db, tenant)
    assert robots == [{"name": "售后群", "channel": "wecom", "url": WECOM, "secret": None,
                       "events": ["deadline.breached", "report.opened"]}]
    with activate(tenant):
        change = db.session.scalars(select(SettingChange).where(
            SettingChange.key == "webhooks")).one()
    assert "abc-123" not in str(change.new_value)  # the webhook key stays out of the history

    page = client.get(f"/t/{tenant.slug}/staff/admin/robots").get_data(as_text=True)
    assert "售后群" in page and "abc-123" not in page
    response = client.post(f"/t/{tenant.slug}/staff/admin/robots/0/delete",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert _robots(db, tenant) == []


def test_robot_addresses_must_be_the_platforms_own(client, db, make_tenant, make_staff,
                                                    sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    for url in ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
                "https://127.0.0.1:6379/", "https://qyapi.weixin.qq.com.evil.example/x",
                "https://oapi.dingtalk.com/robot/send"):
        response = _post(client, tenant, name="x", channel="wecom", url=url,
                         events=["report.opened"])
        assert response.status_code == 422, url
        assert "Use the https address the platform gives" in response.get_data(as_text=True)
    assert _robots(db, tenant) == []


def test_signing_robots_need_a_secret_and_events(client, db, make_tenant, make_staff, sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    response = _post(client, tenant, name="质量群", channel="dingtalk", url=DINGTALK)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "paste the robot&#39;s signing secret" in text or "paste the robot's signing secret" in text
    assert "Choose at least one event." in text
    assert "质量群" in text  # what was typed is kept


def test_robots_are_for_admins_only(client, make_tenant, make_staff, sign_in):
    tenant = make_tenant()
    sign_in(client, tenant, make_staff(tenant, "quality").email)
    assert client.get(f"/t/{tenant.slug}/staff/admin/robots").status_code == 403


def test_removing_a_robot_that_does_not_exist_is_404(client, make_tenant, make_staff, sign_in):
    tenant = _admin(client, make_tenant, make_staff, sign_in)
    page = client.get(f"/t/{tenant.slug}/staff/admin/robots").get_data(as_text=True)
    response = client.post(f"/t/{tenant.slug}/staff/admin/robots/5/delete",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404
