"""Everything in the user's language: every page, e-mail, PDF and spreadsheet of the demo's
complaints, rendered in Chinese for the customer, staff of each role and the administrator,
shows no code of the vocabulary ("pending_approval", "deadline.breached", "after_sales") and
no English label of it ("Corrective", "Waiting for approval"). What people typed (the demo's
texts are bilingual), numbers, product codes and proper nouns are allowed: every text the
demo's records hold is taken out before the search."""

from __future__ import annotations

import html as htmlmod
import io
import re
import subprocess
from pathlib import Path

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import JSON, String, Text, select

from portal.complaints import vocabulary, workflow
from portal.demo import DEMO_PASSWORD as PASSWORD
from portal.extensions import db as _db
from portal.models import Complaint, Contact, EightDReport, StaffUser, Tenant
from portal.tenancy import activate, unscoped
from tests.portal.test_notification_routing import smtp_sink  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
ROLES = ("after_sales", "quality", "technical", "responder", "logistics", "finance",
         "manager", "admin")
PANELS = ("timeline", "clocks", "costs", "eight_d")
TOKEN = r"(?<![A-Za-z0-9_.:/@-]){}(?![A-Za-z0-9_-])"


def codes() -> set[str]:
    """Every value the vocabulary enumerates (what a column or an event holds)."""
    found = set()
    for name in dir(vocabulary):
        value = getattr(vocabulary, name)
        if name.isupper() and isinstance(value, tuple):
            found |= {v for v in value if isinstance(v, str)}
        if name.isupper() and isinstance(value, dict):
            found |= {k for k in value if isinstance(k, str)}
    found |= {f"transition.{t.name}" for t in workflow.TRANSITIONS}
    found |= {t.name for t in workflow.TRANSITIONS}
    # and the ways a template used to dress them up: "pending approval", "after-sales:"
    found |= {c.replace("_", " ") for c in found} | {c.replace("_", "-") for c in found}
    return {c for c in found if len(c) > 1}


def english_labels() -> set[str]:
    """The English words of every label of the vocabulary whose Chinese differs."""
    labels = set()
    for name in dir(vocabulary):
        value = getattr(vocabulary, name)
        if name.isupper() and isinstance(value, dict):
            for label in value.values():
                english = getattr(label, "_args", None)
                text = english[0] if english else str(label)
                with force_locale("zh_CN"):
                    if str(label) != text and len(text) > 2:
                        labels.add(text)
    return labels


def visible(html: str) -> str:
    html = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<!--.*?-->", " ", html)
    html = re.sub(r"<[^>]+>", " ", html)
    return " ".join(htmlmod.unescape(html).split())


def _strings(value):
    """The strings of a column's value, inside JSON too (the 8D's 5W2H, a return's evidence)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def typed_texts(tenant_ids) -> list[str]:
    """What people and the seeder typed: every string held by a tenant's rows, but codes."""
    known = codes()
    values = set()
    with unscoped():
        for mapper in _db.Model.registry.mappers:
            table = mapper.local_table
            if "tenant_id" not in table.c and table.name != "tenants":
                continue
            columns = [c for c in table.c if isinstance(c.type, (String, Text, JSON))]
            if not columns:
                continue
            where = (table.c.id.in_(tenant_ids) if table.name == "tenants"
                     else table.c.tenant_id.in_(tenant_ids))
            for row in _db.session.execute(select(*columns).where(where)):
                for value in (v for cell in row for v in _strings(cell)):
                    if isinstance(value, str) and value not in known and (
                            len(value.strip()) > 3 or not value.isascii()):
                        values.add(" ".join(value.split()))
                        values.update(" ".join(line.split()) for line in value.splitlines()
                                      if len(line.strip()) > 3)
    return sorted(values, key=len, reverse=True)


def printed_headings() -> set[str]:
    """The printed forms' own bilingual headings ("Received 接收日期"): words written into
    the PDF templates themselves, not values put in them."""
    words = set()
    for path in (ROOT / "portal" / "templates" / "pdf").glob("*.html"):
        source = re.sub(r"(?s)\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<[^>]*>", " ", path.read_text())
        words |= set(re.findall(r"[A-Za-z][A-Za-z-]+", source))
    return words


def bilingual_pairs() -> list[str]:
    """A printed form's bilingual labels: the Chinese and the English of a label side by side
    ("纠正 Corrective")."""
    pairs = []
    for english in english_labels():
        with force_locale("zh_CN"):
            from flask_babel import gettext

            chinese = gettext(english)
        pairs += [f"{chinese} {english}", f"{english} {chinese}"]
    return pairs


def findings(where: str, text: str, typed: list[str], words: list[tuple[str, re.Pattern]],
             allowed: set[str] = frozenset(), pairs: list[str] = ()) -> list[tuple[str, str]]:
    text = " ".join(text.split())
    for value in [*typed, *pairs]:
        if value in text:
            text = text.replace(value, " ")
    found = []
    for word, pattern in words:
        if word in allowed or " " in word and set(word.split()) <= allowed:
            continue
        for match in pattern.finditer(text):
            found.append((word, f"{where}: {text[max(0, match.start() - 50):match.end() + 50]}"))
            break
    return found


def pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()


def xlsx_text(data: bytes) -> str:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(" | ".join(str(c) for c in row if c is not None)
                     for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))


@pytest.fixture
def demo(db, app, monkeypatch, smtp_sink):  # noqa: F811
    from portal import demo as seeder
    from portal.analytics import demo_history

    monkeypatch.setattr(demo_history, "seed_history", lambda tenant, rng: None)
    with force_locale("zh_CN"):
        seeder.seed_all()
    from portal.queueing import relay_pending

    for _ in range(5):  # the demo's mails (a notification queues its delivery)
        if not relay_pending(limit=5000):
            break
    with unscoped():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "demo"))
    return tenant, smtp_sink


def _get(client, path: str, where: str, out: list, kind: str = "html"):
    response = client.get(path, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200, (path, response.status_code)
    data = response.data
    text = {"html": lambda: visible(data.decode()), "pdf": lambda: pdf_text(data),
            "xlsx": lambda: xlsx_text(data)}[kind]()
    out.append((where, text))
    return data.decode() if kind == "html" else ""


def _staff_outputs(app, sign_in, tenant, complaints, out):
    with activate(tenant):
        with_report = set(_db.session.scalars(select(EightDReport.complaint_id)))
    for role in ROLES:
        client = app.test_client()
        email = f"{role.replace('_', '-')}@demo.example.com"
        assert sign_in(client, tenant, email, PASSWORD).status_code == 303, role
        base = "/t/demo/staff"
        _get(client, f"{base}/", f"{role} queue", out)
        _get(client, f"{base}/my-work", f"{role} my work", out)
        _get(client, f"{base}/notifications", f"{role} notifications", out)
        for number, cid in complaints if role in ("quality", "admin") else complaints[::7]:
            _get(client, f"{base}/complaints/{cid}", f"{role} {number}", out)
            if role != "quality":
                continue
            for panel in PANELS:
                _get(client, f"{base}/complaints/{cid}?panel={panel}", f"{number} {panel}", out)
            _get(client, f"{base}/complaints/{cid}/improvement-sheet.pdf",
                 f"{number} improvement sheet", out, "pdf")
            if cid in with_report:
                _get(client, f"{base}/complaints/{cid}/8d.pdf", f"{number} 8D PDF", out, "pdf")
        if role == "quality":
            _get(client, f"{base}/queue.xlsx", "queue spreadsheet", out, "xlsx")
            _get(client, f"{base}/surveys/results.xlsx", "survey spreadsheet", out, "xlsx")
            listing = _get(client, f"{base}/reports", "reports", out)
            reports = sorted(set(re.findall(r"/staff/reports/(\d+)\b", listing)))
            assert reports, "the demo has no escalation report to read"
            for report_id in reports:
                _get(client, f"{base}/reports/{report_id}", f"report {report_id}", out)
                _get(client, f"{base}/reports/{report_id}.pdf", f"report {report_id} PDF", out,
                     "pdf")


def _customer_outputs(app, sign_in, tenant, out):
    with activate(tenant):
        contacts = [(c.email, c.company_id) for c in _db.session.scalars(select(Contact))]
        owned = {}
        for complaint in _db.session.scalars(select(Complaint)):
            owned.setdefault(complaint.contact_id and complaint.contact.email, []).append(
                complaint.number)
    for email, _company in contacts:
        if email not in owned:
            continue
        client = app.test_client()
        assert sign_in(client, tenant, email, PASSWORD, staff=False).status_code == 303, email
        _get(client, "/t/demo/complaints", f"customer {email} list", out)
        for number in owned[email]:
            _get(client, f"/t/demo/complaints/{number}", f"customer {number}", out)


def test_no_code_or_english_label_in_the_chinese_outputs(app, db, demo, sign_in):
    tenant, sink = demo
    with activate(tenant):
        for user in db.session.scalars(select(StaffUser)):
            user.locale = "zh_CN"
        for contact in db.session.scalars(select(Contact)):
            contact.locale = "zh_CN"
        complaints = [(c.number, c.id) for c in
                      db.session.scalars(select(Complaint).order_by(Complaint.id))]
        db.session.commit()
    out: list[tuple[str, str]] = []
    _customer_outputs(app, sign_in, tenant, out)
    _staff_outputs(app, sign_in, tenant, complaints, out)
    for mail in sink.messages:
        if not re.search(r"@(demo|customer\d+)\.example\.com", mail["To"]):
            continue  # the second tenant (acme) writes English
        body = " ".join(visible(p.get_content()) for p in mail.walk()
                        if p.get_content_maintype() == "text")
        out.append((f"mail to {mail['To']}: {mail['Subject']}", f"{mail['Subject']} {body}"))
    typed = typed_texts([tenant.id])
    words = [(w, re.compile(TOKEN.format(re.escape(w))))
             for w in sorted(codes() | english_labels())]
    words += [("English duration", re.compile(r"\b\d+ ?(h|hr|min|d|days?|hours?)\b"))]
    headings, pairs = printed_headings(), bilingual_pairs()
    found: dict[str, list[str]] = {}
    for where, text in out:
        allowed = headings if where.endswith(("sheet", "PDF")) else frozenset()
        printed = where.endswith(("sheet", "PDF"))
        # The printed forms are bilingual by design ("Corrective 纠正"): there an English word
        # is a label's English half, so only what cannot be English — a code's shape
        # (pending_approval, deadline.breached) or an English duration — is looked for.
        looked_for = [w for w in words if not printed or not re.fullmatch(r"[A-Za-z ]+", w[0])]
        for word, context in findings(where, text, typed, looked_for, allowed,
                                      pairs if printed else ()):
            found.setdefault(word, []).append(context)
    assert len(out) > 100 and any(w.startswith("mail") for w, _ in out)
    sheets = [text for where, text in out if where.endswith("spreadsheet")]
    assert len(sheets) == 2 and all("（Asia/Shanghai）" in text for text in sheets)
    report = [f"{word!r} ({len(places)}×), e.g. {places[0]}" for word, places in found.items()]
    assert not found, "\n".join(report)
