"""The complaint page as panels (internal/complaint/): a panel's POST under htmx answers with
only that panel; a refused one with the panel, the error and what was typed (422, 409, 403);
a panel the user cannot act on has no form; the heavy panels are drawn when asked for."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from portal.models import Action, Complaint, ServiceRequest
from portal.tenancy import activate
from tests.conftest import csrf_from
from tests.internal.conftest import advance

HX = {"HX-Request": "true"}
VOID = {"input", "br", "img", "meta", "link", "hr", "source", "wbr", "col", "area", "base"}


class _Subtree(HTMLParser):
    """The markup of the element with id ``wanted`` (start and end offsets in the source)."""

    def __init__(self, wanted: str):
        super().__init__(convert_charrefs=False)
        self.wanted, self.depth, self.start, self.end = wanted, 0, None, None

    def handle_starttag(self, tag, attrs):
        if self.end is not None or tag in VOID:
            return
        if self.start is None and dict(attrs).get("id") == self.wanted:
            self.start, self.depth = self.getpos(), 1
        elif self.start is not None:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.start is not None and self.end is None and tag not in VOID:
            self.depth -= 1
            if self.depth == 0:
                self.end = self.getpos()


def element(html: str, element_id: str) -> str | None:
    parser = _Subtree(element_id)
    parser.feed(html)
    if parser.start is None or parser.end is None:
        return None
    lines = html.splitlines(keepends=True)

    def offset(pos):
        return sum(len(line) for line in lines[:pos[0] - 1]) + pos[1]
    return html[offset(parser.start):offset(parser.end)]


def panels_in(html: str) -> list[str]:
    return re.findall(r'class="panel[^"]*" id="panel-([a-z_]+)"', html)


def _case(db, shop, make_complaint, status: str) -> int:
    complaint = make_complaint(shop.tenant, shop.contact, demands=["return"])
    if status != "received":
        advance(db, shop, complaint, status)
    with activate(shop.tenant):
        return complaint.id


def hx_post(staff, cid: int, route: str, data: dict, **kw):
    """Post like htmx from the page: the page's CSRF token and version, HX-Request."""
    html = staff.get(f"/complaints/{cid}").get_data(as_text=True)
    payload = {"csrf_token": csrf_from(html)}
    version = re.search(r'name="version" value="(\d+)"', html)
    if version:
        payload["version"] = version.group(1)
    payload.update(data)
    return staff.client.post(staff.url(f"/complaints/{cid}{route}"), data=payload,
                             headers=HX, **kw)


# (status, role, route, data, panel answering)
POSTS = [
    ("verifying", "after_sales", "/checklist", {"confirmed": ["customer"], "note": "ok"},
     "verification"),
    ("verifying", "after_sales", "/visit", {"visited_on": "2026-02-01", "visitor": "Wang",
                                            "notes": "noisy"}, "verification"),
    ("accepted", "quality", "/classify", {"severity": "major", "cause_category": "machine"},
     "classification"),
    ("accepted", "quality", "/failure-modes", {"code": "burr", "name_zh": "毛刺",
                                               "name_en": "Burr"}, "classification"),
    ("accepted", "quality", "/problem/new", {"title": "Bearing preload"}, "classification"),
    ("containment", "after_sales", "/actions/containment",
     {"kind": "containment", "title": "Spare", "owner": "Q", "due_at": "2026-03-01T10:00"},
     "containment"),
    ("containment", "after_sales", "/requests", {"kind": "return", "quantity": "1"}, "requests"),
    ("analysis", "quality", "/root-cause", {"root_cause": "Preload", "why1": "noise"}, "actions"),
    ("analysis", "quality", "/actions/corrective",
     {"kind": "corrective", "title": "Torque", "owner": "Q", "due_at": "2026-03-05T10:00"},
     "actions"),
    ("analysis", "quality", "/8d", {"requested_by_customer": "y"}, "eight_d"),
    ("verifying_effectiveness", "quality", "/effectiveness",
     {"verdict": "effective", "note": "quiet"}, "effectiveness"),
    ("containment", "finance", "/costs", {"category": "freight", "amount": "12.50",
                                          "currency": "CNY", "department": "D"}, "costs"),
]


@pytest.mark.parametrize("status,role,route,data,name", POSTS, ids=[p[2] for p in POSTS])
def test_a_panel_post_answers_with_only_that_panel(shop, as_role, make_complaint, db, status,
                                                   role, route, data, name):
    cid = _case(db, shop, make_complaint, status)
    data = {k: (str(shop.staff_ids["quality"]) if v == "Q" else
                str(shop.dept_ids["quality"]) if v == "D" else v) for k, v in data.items()}
    response = hx_post(as_role(role), cid, route, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert panels_in(html) == [name]
    assert "<html" not in html and "flash-success" in element(html, f"panel-{name}")
    assert "HX-Request" in response.headers["Vary"]
    with activate(shop.tenant):
        db.session.expire_all()
        version = db.session.get(Complaint, cid).version
    # the case header and every form's version come along out of band
    assert 'id="case-tags" hx-swap-oob="true"' in html
    assert f'value="{version}" class="case-version" hx-swap-oob="outerHTML:input.case-version"' \
        in html


def test_without_javascript_a_panel_post_redirects_to_the_page(shop, as_role, make_complaint,
                                                               db):
    cid = _case(db, shop, make_complaint, "accepted")
    response = as_role("quality").post(f"/complaints/{cid}/classify",
                                       {"severity": "major", "cause_category": "machine"},
                                       page=f"/complaints/{cid}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/complaints/{cid}#classify")


def test_a_status_change_under_htmx_reloads_the_page(shop, as_role, make_complaint, db):
    cid = _case(db, shop, make_complaint, "verifying")
    response = hx_post(as_role("quality"), cid, "/transition/accept", {})
    assert response.status_code == 200
    assert response.headers["HX-Refresh"] == "true"
    with activate(shop.tenant):
        db.session.expire_all()
        assert db.session.get(Complaint, cid).status == "accepted"


def test_refused_post_shows_the_error_and_what_was_typed_in_the_panel(shop, as_role,
                                                                      make_complaint, db):
    cid = _case(db, shop, make_complaint, "accepted")
    response = hx_post(as_role("quality"), cid, "/failure-modes",
                       {"code": "bad code!", "name_zh": "坏 <b>x</b>", "name_en": "Typed"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert panels_in(html) == ["classification"]
    panel = element(html, "panel-classification")
    assert "Use letters, digits" in panel and 'value="bad code!"' in panel
    assert "坏 &lt;b&gt;x&lt;/b&gt;" in panel  # kept, escaped
    assert element(panel, "failure_mode-code-error") is not None


def test_stale_post_answers_409_with_the_newer_version_in_the_panel(shop, as_role,
                                                                    make_complaint, db):
    cid = _case(db, shop, make_complaint, "analysis")
    quality = as_role("quality")
    old = quality.get(f"/complaints/{cid}").get_data(as_text=True)
    assert hx_post(as_role("technical"), cid, "/root-cause",
                   {"root_cause": "First", "why1": "a"}).status_code == 200
    response = quality.client.post(quality.url(f"/complaints/{cid}/root-cause"), headers=HX,
                                   data={"csrf_token": csrf_from(old), "root_cause": "Mine 我的",
                                         "why1": "b", "version": re.search(
                                             r'name="version" value="(\d+)"', old).group(1)})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert panels_in(html) == ["actions"]
    assert "Someone else changed this complaint" in html and "Mine 我的" in html
    assert "hx-swap-oob" not in html  # the page's other forms keep the version they showed
    with activate(shop.tenant):
        db.session.expire_all()
        complaint = db.session.get(Complaint, cid)
        assert complaint.root_cause == "First"
        assert f'name="version" value="{complaint.version}"' in element(html, "panel-actions")


def test_forbidden_post_answers_403_with_the_panel(shop, as_role, make_complaint, db):
    cid = _case(db, shop, make_complaint, "containment")
    with activate(shop.tenant):
        request = ServiceRequest(complaint_id=cid, kind="exchange", quantity=1)
        db.session.add(request)
        db.session.flush()
        rid = request.id
    response = hx_post(as_role("after_sales"), cid, f"/requests/{rid}/ship",
                       {"carrier": "zto", "tracking_number": "SF1"})
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert panels_in(html) == ["requests"]
    assert "You are not allowed to take this step." in html


def test_refused_transition_answers_with_the_steps_panel(shop, as_role, make_complaint, db):
    cid = _case(db, shop, make_complaint, "verifying")
    response = hx_post(as_role("after_sales"), cid, "/transition/request_information",
                       {"message": ""})
    assert response.status_code == 422
    assert panels_in(response.get_data(as_text=True)) == ["steps"]


# -- read only --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["classification", "containment", "requests", "actions"])
def test_panels_the_user_cannot_act_on_have_no_form(shop, as_role, make_complaint, db, name):
    cid = _case(db, shop, make_complaint, "analysis")
    logistics = as_role("logistics").get(f"/complaints/{cid}").get_data(as_text=True)
    quality = as_role("quality").get(f"/complaints/{cid}").get_data(as_text=True)
    assert "<form" not in element(logistics, f"panel-{name}")
    assert 'id="fold-' not in element(logistics, f"panel-{name}")
    mine = element(quality, f"panel-{name}")
    assert "<form" in mine or 'id="fold-' in mine  # a form, or one folded away


def test_read_only_classification_shows_the_values(shop, as_role, make_complaint, db):
    cid = _case(db, shop, make_complaint, "analysis")
    panel = element(as_role("finance").get(f"/complaints/{cid}").get_data(as_text=True),
                    "panel-classification")
    assert "<form" not in panel and "<select" not in panel
    assert "Machine / equipment" in panel and "quality person" in panel


# -- drawn when asked ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,inside", [("timeline", 'id="timeline-list"'),
                                         ("eight_d", "Start the 8D report"),
                                         ("costs", "Add a cost")])
def test_heavy_panels_load_when_asked(shop, as_role, make_complaint, db, name, inside):
    cid = _case(db, shop, make_complaint, "analysis")
    quality = as_role("quality")
    page = quality.get(f"/complaints/{cid}").get_data(as_text=True)
    placeholder = element(page, f"panel-{name}")
    assert inside not in placeholder
    assert f'hx-get="/t/{shop.slug}/staff/complaints/{cid}/panels/{name}"' in placeholder
    assert f"?panel={name}" in placeholder  # the way without JavaScript
    response = quality.get(f"/complaints/{cid}/panels/{name}", headers=HX)
    assert response.status_code == 200 and panels_in(response.get_data(as_text=True)) == [name]
    assert inside in response.get_data(as_text=True)
    full = quality.get(f"/complaints/{cid}?panel={name}").get_data(as_text=True)
    assert inside in element(full, f"panel-{name}")
    without_js = quality.get(f"/complaints/{cid}/panels/{name}")
    assert without_js.status_code == 303 and f"?panel={name}" in without_js.headers["Location"]


def test_panel_route_refuses_unknown_names_and_other_tenants(shop, as_role, make_complaint,
                                                             make_tenant, db):
    cid = _case(db, shop, make_complaint, "received")
    quality = as_role("quality")
    assert quality.get(f"/complaints/{cid}/panels/nope", headers=HX).status_code == 404
    assert quality.get(f"/complaints/{cid}/panels/..%2Fbase", headers=HX).status_code == 404
    other = make_tenant()
    foreign = make_complaint(other)
    with activate(other):
        foreign_id = foreign.id
    assert quality.get(f"/complaints/{foreign_id}/panels/timeline", headers=HX).status_code == 404
    assert quality.get(f"/complaints/{cid}?panel=<script>", headers=HX).status_code == 200


def test_timeline_panel_lists_the_history(shop, as_role, make_complaint, db):
    cid = _case(db, shop, make_complaint, "accepted")
    html = as_role("quality").get(f"/complaints/{cid}/panels/timeline",
                                  headers=HX).get_data(as_text=True)
    assert panels_in(html) == ["timeline"] and "Complaint received" in html
    assert html.count('<li class="ev ') >= 3  # received, verification started, accepted


def test_a_done_containment_action_answers_with_the_containment_panel(shop, as_role,
                                                                      make_complaint, db):
    cid = _case(db, shop, make_complaint, "analysis")
    with activate(shop.tenant):
        action_id = db.session.scalar(select(Action.id).where(Action.complaint_id == cid,
                                                              Action.kind == "containment"))
    response = hx_post(as_role("after_sales"), cid, f"/actions/{action_id}/done",
                       {"result": ""})
    assert response.status_code == 422
    assert panels_in(response.get_data(as_text=True)) == ["containment"]
    response = hx_post(as_role("after_sales"), cid, f"/actions/{action_id}/done",
                       {"result": "spare shipped"})
    assert response.status_code == 200
    assert "spare shipped" in element(response.get_data(as_text=True), "panel-containment")


def test_fast_url_builds_what_url_for_builds(app, shop):
    from flask import g, url_for

    from internal.complaint.base import fast_url

    cases = [("internal.complaint", {"complaint_id": 12}),
             ("internal.panel", {"complaint_id": 7, "name": "eight_d"}),
             ("internal.complaint", {"complaint_id": 3, "panel": "costs"}),
             ("internal.photo", {"complaint_id": 1, "photo_id": 22, "variant": "thumb"}),
             ("internal.add_action", {"complaint_id": 990000, "group": "corrective"})]
    with app.test_request_context(), activate(shop.tenant):
        g.tenant = shop.tenant
        for _ in range(2):  # built, then from the pattern
            for endpoint, values in cases:
                assert fast_url(endpoint, **values) == url_for(endpoint, **values)


@pytest.mark.parametrize("key,panel,inside", [
    ("failure_mode", "classification", 'name="name_zh"'),
    ("problem", "classification", "Start a problem"),
    ("request", "requests", 'name="quantity"')])
def test_folded_forms_are_drawn_when_unfolded(shop, as_role, make_complaint, db, key, panel,
                                              inside):
    cid = _case(db, shop, make_complaint, "analysis")
    quality = as_role("quality")
    page = quality.get(f"/complaints/{cid}").get_data(as_text=True)
    folded = element(page, f"fold-{key}")
    assert inside not in folded and f"?open={key}" in folded
    assert 'hx-trigger="toggle once"' in folded and f'hx-select="#fold-{key}"' in folded
    response = quality.get(f"/complaints/{cid}/panels/{panel}?open={key}", headers=HX)
    unfolded = element(response.get_data(as_text=True), f"fold-{key}")
    assert inside in unfolded and "<form" in unfolded
    without_js = quality.get(f"/complaints/{cid}?open={key}").get_data(as_text=True)
    assert inside in element(without_js, f"fold-{key}")
    # nobody without the ability gets the fold either
    assert f'id="fold-{key}"' not in as_role("logistics").get(
        f"/complaints/{cid}?open={key}").get_data(as_text=True)
