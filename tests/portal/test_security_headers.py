"""Every response carries the security headers: a Content-Security-Policy that lets scripts
come only from the site, no framing, no MIME sniffing, and no referrer beyond the site (one-time
links carry tokens in their URLs). The templates keep to the policy: no inline script, no
inline event handler (the browser tests fail on any refusal the browser reports)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_pages_carry_the_security_headers(client, make_tenant):
    tenant = make_tenant()
    for path in ("/", "/signup", f"/t/{tenant.slug}/", f"/t/{tenant.slug}/staff/sign-in",
                 "/healthz", "/no-such-page"):
        response = client.get(path)
        csp = response.headers.get("Content-Security-Policy", "")
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0], path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["Referrer-Policy"] == "same-origin", path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_templates_have_no_inline_script_or_handler():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
    offenders = []
    for path in ROOT.glob("*/templates/**/*.html"):
        if "/mail/" in str(path) or "/pdf/" in str(path):
            continue  # e-mails and PDFs run no script anywhere
        text = path.read_text(encoding="utf-8")
        if inline_script.search(text) or handler.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
