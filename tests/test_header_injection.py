"""No query string reaches the HTTP status line or a header: every GET route is requested with
CR/LF and overlong values in each query parameter it reads, as the signed-in user of its area.

Routes come from the URL map and the parameters from what each view actually reads
(``request.args`` records the keys it is asked for), plus names commonly read, so a new route
or a new parameter is covered as soon as it exists.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from flask import Request
from werkzeug.datastructures import ImmutableMultiDict

from tests.test_isolation import NOT_IDS, _url, build_world

HOSTILE = [
    "200 OK\r\nX-Injected: yes\r\nSet-Cookie: session=stolen\r\n\r\n<script>alert(1)</script>",
    "x" * 10_000,
]
# Read by many views; tried on every route even where the view reads nothing.
COMMON = {"status", "next"}


class RecordingArgs(ImmutableMultiDict):
    """Query arguments that remember which keys the view asked for."""

    asked: set[str] = set()

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        RecordingArgs.asked.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        RecordingArgs.asked.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        RecordingArgs.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        RecordingArgs.asked.add(key)
        return super().__contains__(key)


@pytest.fixture
def recording_args(monkeypatch):
    monkeypatch.setattr(Request, "parameter_storage_class", RecordingArgs)
    RecordingArgs.asked = set()
    return RecordingArgs


def _problems(response, label):
    found = []
    status_line = response.status
    if "\r" in status_line or "\n" in status_line:
        found.append((label, "status line", status_line[:80]))
    else:
        code = int(status_line.split(" ", 1)[0])
        if code >= 500:
            found.append((label, "server error", code))
        elif status_line.split(" ", 1)[1:] != [HTTPStatus(code).phrase.upper()] \
                and status_line.split(" ", 1)[1:] != [HTTPStatus(code).phrase]:
            found.append((label, "changed status line", status_line[:80]))
    for name, value in response.headers.items():
        if name.lower() == "x-injected" or "\r" in value or "\n" in value:
            found.append((label, "header", f"{name}: {value[:60]}"))
    if "stolen" in response.headers.get("Set-Cookie", ""):
        found.append((label, "cookie", response.headers["Set-Cookie"][:60]))
    return found


def test_query_strings_never_reach_status_or_headers(app, db, make_tenant, make_staff,
                                                      make_contact, make_complaint, make_product,
                                                      sign_in, recording_args):
    tenant = make_tenant()
    ids, staff, contact = build_world(db, tenant, make_staff, make_contact, make_complaint,
                                      make_product)
    staff_client, customer_client, visitor = app.test_client(), app.test_client(), \
        app.test_client()
    sign_in(staff_client, tenant, staff.email)
    sign_in(customer_client, tenant, contact.email, staff=False)

    failures, checked, asked_by = [], 0, {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if not set(rule.arguments) - {"tenant_slug"} - NOT_IDS <= set(ids):
            continue
        url = _url(rule, tenant.slug, ids)
        if rule.rule.startswith("/t/<tenant_slug>/staff/"):
            browser = staff_client
        elif rule.rule.startswith("/t/<tenant_slug>/"):
            browser = customer_client
        else:
            browser = visitor
        RecordingArgs.asked = set()
        failures += _problems(browser.get(url), url)
        asked_by[rule.endpoint] = set(RecordingArgs.asked)
        for key in sorted(RecordingArgs.asked | COMMON):
            for value in HOSTILE:
                response = browser.get(url, query_string={key: value})
                failures += _problems(response, f"{url}?{key}={value[:20]!r}")
                checked += 1
    # The recording sees what views read (the deliveries page reads ?status=), and the sweep
    # reached the staff, customer and public areas.
    assert "status" in asked_by["internal.deliveries"]
    assert "q" in asked_by["internal.index"]
    assert checked > 300
    assert failures == [], failures[:20]


def test_render_refuses_a_status_that_is_not_an_http_status(app):
    from portal.web import render

    with app.test_request_context("/"), pytest.raises(TypeError):
        render("home.html", None, "200 OK\r\nX-Injected: yes", tenants=[])


def test_deliveries_page_keeps_a_hostile_status_out_of_the_response(app, db, client, make_tenant,
                                                                     make_staff, sign_in):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin")
    sign_in(client, tenant, admin.email)
    response = client.get(f"/t/{tenant.slug}/staff/admin/deliveries",
                          query_string={"status": "200 OK\r\nContent-Type: text/html\r\n\r\n"
                                                  "<script>alert(1)</script>"})
    assert response.status == "200 OK"
    assert response.headers["Content-Type"].startswith("text/html; charset=utf-8")
    assert "<script>alert(1)" not in response.get_data(as_text=True)
