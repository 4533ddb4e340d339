"""The demo's complete 8D: a closed spindle complaint whose 8D has a team with its leader,
all eight disciplines, every member's sign-off, a recurrence check on its clock, and the
customer-requested PDF in storage for the customer's portal."""

import io
import sqlite3
import subprocess
import sys

from pypdf import PdfReader

from tests.portal.test_demo import _clean_env


def test_demo_files_a_complete_8d_for_its_customer(tmp_path):
    subprocess.run([sys.executable, "-m", "flask", "--app", "portal", "demo", "--no-serve"],
                   cwd=tmp_path, env=_clean_env(tmp_path), capture_output=True, text=True,
                   timeout=300, check=True)
    with sqlite3.connect(tmp_path / "closeloop.sqlite3") as conn:
        report_id, number, key, requested, email = conn.execute(
            "SELECT r.id, c.number, r.customer_pdf_key, r.requested_by_customer, ct.email "
            "FROM eight_d_reports r JOIN complaints c ON c.id = r.complaint_id "
            "JOIN contacts ct ON ct.id = c.contact_id WHERE c.status = 'closed'").fetchone()
        members = conn.execute("SELECT role, signed_at FROM eight_d_members WHERE report_id=?",
                               (report_id,)).fetchall()
        disciplines = {row[0] for row in conn.execute(
            "SELECT discipline FROM eight_d_sections WHERE report_id=? AND text IS NOT NULL",
            (report_id,))}
        clock = conn.execute("SELECT stopped_at FROM deadline_clocks "
                             "WHERE kind='recurrence_check'").fetchone()
    assert requested and email == "contact1@customer1.example.com"
    assert sorted(r for r, _ in members) == ["champion", "leader", "member", "member"]
    assert all(signed for _, signed in members)
    assert disciplines == set(range(1, 9))
    assert clock == (None,)
    data = (tmp_path / "storage" / key).read_bytes()
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
                    .split())
    assert number in text and "front bearing" in text  # the summary
    assert "客户二号车间" in text  # D2, marked for the customer
    assert "装配工位 A3" not in text  # D4's occurrence point is internal
