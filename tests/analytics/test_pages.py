"""The analytics pages over HTTP: who may see them, the navigation link, that every chart's
click-through lists exactly the complaints the figure counts, the meeting pack as page, PDF
(text read back with pypdf, in Chinese and English) and xlsx, and hostile parameters."""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from portal.tenancy import activate
from tests.browser_support import ARTIFACTS
from tests.conftest import PASSWORD

YEAR = "period=range&from=2025-12-01&to=2026-11-30"


@pytest.fixture
def staff_client(app, history, make_staff, sign_in):
    def make(*roles):
        user = make_staff(history.tenant, *roles)
        client = app.test_client()
        assert sign_in(client, history.tenant, user.email, PASSWORD).status_code == 303
        return client, user
    return make


def url(history, path: str) -> str:
    return f"/t/{history.tenant.slug}/staff{path}"


def test_quality_managers_and_admins_only(history, staff_client):
    for role in ("quality", "manager", "admin"):
        client, _ = staff_client(role)
        page = client.get(url(history, f"/analytics?{YEAR}"))
        assert page.status_code == 200, role
        assert f'href="/t/{history.tenant.slug}/staff/analytics"' in page.get_data(as_text=True)
    client, _ = staff_client("after_sales")
    assert client.get(url(history, "/analytics")).status_code == 403
    assert client.get(url(history, "/analytics/meeting")).status_code == 403
    assert client.get(url(history, "/analytics/meeting.pdf")).status_code == 403
    assert "/staff/analytics" not in client.get(url(history, "/")).get_data(as_text=True)


def _links(html: str, anchor_id: str) -> list[tuple[str, str]]:
    """(href, text) of the links in the data table inside the element with ``anchor_id``."""
    start = html.index(f'id="{anchor_id}"')
    block = html[start:html.index("</figure>", start)]
    table = block[block.index("<table"):]
    return [(unescape(h), re.sub(r"<[^>]+>", "", t)) for h, t in
            re.findall(r'<a href="([^"]+)">(.*?)</a>', table)]


def test_each_pareto_row_links_to_exactly_its_complaints(history, staff_client):
    from portal.complaints.queue import QueueQuery, page

    client, user = staff_client("quality")
    html = client.get(url(history, f"/analytics?{YEAR}")).get_data(as_text=True)
    checked = 0
    for dimension in ("cause", "mode", "product", "customer", "department"):
        rows = re.findall(r"<tr><th scope=\"row\"><a href=\"([^\"]+)\">[^<]*</a></th>\s*"
                          r"<td class=\"num\">(\d+)</td>",
                          html[html.index(f'id="pareto-{dimension}"'):])
        assert rows, dimension
        for href, count in rows[:3]:
            args = MultiDict(parse_qs(urlsplit(unescape(href)).query))
            args = MultiDict([(k, v) for k, values in args.lists() for v in values])
            with activate(history.tenant):
                result = page(QueueQuery.from_args(args), user)
            assert result.total == int(count), (dimension, href)
            checked += 1
        queue_page = client.get(unescape(rows[0][0]))
        assert queue_page.status_code == 200
        assert f"{rows[0][1]} complaint" in queue_page.get_data(as_text=True)
    assert checked >= 10


def test_ratio_and_flow_links_count_the_same_complaints(history, staff_client):
    from portal.complaints.queue import QueueQuery, page

    client, user = staff_client("manager")
    html = client.get(url(history, f"/analytics?{YEAR}")).get_data(as_text=True)
    for href, month in _links(html, "flow")[:12]:
        args = MultiDict([(k, v) for k, vs in parse_qs(urlsplit(href).query).items() for v in vs])
        received = [c for c in history.complaints if c["status"] != "rejected"
                    and c["created"].astimezone(__import__("zoneinfo").ZoneInfo(
                        "Asia/Shanghai")).strftime("%Y-%m") == month]
        with activate(history.tenant):
            assert page(QueueQuery.from_args(args), user).total == len(received), month


def test_dashboard_shows_unknown_ratio_and_charts_without_script(history, staff_client):
    client, _ = staff_client("quality")
    response = client.get(url(history, f"/analytics?{YEAR}&measure=defects"))
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " onclick" not in html
    assert html.count("<svg") >= 10
    assert "unknown" in html  # the model without shipments, and June
    assert "‰" in html and "5M1E cause" in html


def test_dashboard_in_chinese(history, staff_client, db):
    client, _ = staff_client("quality")
    with activate(history.tenant):
        history.tenant.default_locale = "zh_CN"
        db.session.flush()
    html = client.get(url(history, f"/analytics?{YEAR}")).get_data(as_text=True)
    assert "质量分析" in html and "累计占比" in html and "5M1E 原因" in html
    assert "Cumulative share" not in html and "unknown" not in html and "未知" in html


@pytest.mark.parametrize("query", ["period=%3Cscript%3E", "from=2026-13-40&period=range",
                                   "product=999999999", "customer=abc&source=../../etc",
                                   "measure=%27%3B--", "line=" + "x" * 500])
def test_hostile_parameters_fall_back(history, staff_client, query):
    client, _ = staff_client("quality")
    response = client.get(url(history, f"/analytics?{query}"))
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True)


def test_another_tenants_model_shows_nothing(history, staff_client, make_tenant, make_product):
    other = make_tenant()
    foreign = make_product(other, code="FOREIGN-1")
    client, _ = staff_client("quality")
    html = client.get(url(history, f"/analytics?{YEAR}&product={foreign.id}")).get_data(
        as_text=True)
    assert "FOREIGN-1" not in html
    assert "No complaints with a product model in this period." in html


def test_meeting_pack_page_pdf_and_workbook(history, staff_client):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    client, _ = staff_client("manager")
    page = client.get(url(history, "/analytics/meeting?month=2026-05"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Department assessment" in html and "Class-A problems of the month" in html
    class_a = [c for c in history.complaints if c["info_class"] == "A"
               and c["status"] != "rejected" and c["created"].astimezone(
                   __import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m") == "2026-05"]
    assert class_a
    for c in class_a:
        assert c["number"] in html

    english = client.get(url(history, "/analytics/meeting.pdf?month=2026-05&lang=en"))
    assert english.status_code == 200 and english.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(english.data)).pages)
    assert "Quality meeting pack 2026-05" in text
    assert "Department assessment" in text and "Open escalation reports" in text
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "meeting-pack-en.pdf").write_bytes(english.data)  # for a person to look at
    chinese = client.get(url(history, "/analytics/meeting.pdf?month=2026-05&lang=zh_CN"))
    (ARTIFACTS / "meeting-pack-zh_CN.pdf").write_bytes(chinese.data)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(chinese.data)).pages)
    assert "2026-05" in text and "部门" in text

    book = client.get(url(history, "/analytics/meeting.xlsx?month=2026-05"))
    assert book.status_code == 200
    sheets = load_workbook(io.BytesIO(book.data), read_only=True)
    assert sheets.sheetnames[0].startswith("Departments")
    rows = list(sheets.worksheets[1].iter_rows(values_only=True))
    assert len(rows) - 1 == len(class_a)


@pytest.mark.parametrize("month", ["2026-5", "../../x", "2026-13", "<b>", "9999-99-99"])
def test_meeting_pack_refuses_bad_months(history, staff_client, month):
    client, _ = staff_client("manager")
    assert client.get(url(history, f"/analytics/meeting?month={month}")).status_code == 404


def test_names_typed_by_people_are_escaped_in_every_table_and_chart(history, staff_client, db):
    """The data tables and charts are drawn in Python (internal/analytics_tables.py,
    portal/analytics/charts.py): a department, customer, product model or failure mode
    named with markup shows as text on the dashboard and the meeting pack page."""
    hostile = '<img src=x onerror="alert(1)">'
    with activate(history.tenant):
        history.departments[0].name = f"QA {hostile}"
        history.companies[0].name = f"Acme {hostile}"
        history.products[0].code = f"M{hostile}"
        history.modes[0].name = f"Noise {hostile}"
        db.session.flush()
    client, _ = staff_client("manager")
    for path in (f"/analytics?{YEAR}", f"/analytics?{YEAR}&measure=defects",
                 "/analytics/meeting?month=2026-06"):
        response = client.get(url(history, path))
        html = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert "<img" not in html and 'onerror="alert' not in html, path
        assert "&lt;img src=x onerror=" in html, path
