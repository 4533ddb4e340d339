"""The tenant's notification channels bound what users can receive."""

from portal.notifications import plan
from portal.tenancy import activate


def test_tenant_without_email_sends_no_email(db, make_tenant, make_staff):
    tenant = make_tenant(settings={"notification_channels": ["in_app"]})
    user = make_staff(tenant, "quality")
    with activate(tenant):
        planned = plan("report.opened", [user], tenant=tenant, data={})
    assert len(planned) == 1 and planned[0].channel is None
    assert planned[0].values["read_at"] is None  # still in the bell


def test_default_channels_send_both(db, make_tenant, make_staff):
    tenant = make_tenant()
    user = make_staff(tenant, "quality")
    with activate(tenant):
        planned = plan("report.opened", [user], tenant=tenant, data={})
    assert [p.channel for p in planned] == ["email"]
    assert planned[0].values["read_at"] is None
