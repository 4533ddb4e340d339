"""Live server and real Chromium for browser tests.

The live server runs the app in a thread on its own PostgreSQL schema with committed data
(the per-test rollback of the ``db`` fixture cannot reach another thread). Browser tests must
therefore NOT use the ``db``/``client`` fixtures: seed through ``live.seed()`` instead, which
yields inside the live app's context and commits.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from portal.devserver import ClosingRequestHandler, closing

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url

    @contextmanager
    def seed(self, tenant=None):
        """Run a block in the live app (optionally as ``tenant``) and commit it."""
        from portal.extensions import db
        from portal.tenancy import activate, unscoped

        with self.app.app_context():
            scope = activate(tenant) if tenant is not None else unscoped()
            with scope:
                yield db
                db.session.commit()
            db.session.remove()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from portal.extensions import db
    from tests.conftest import DATABASE_URL, _schema_name, make_app

    schema = None
    engine = None
    if not DATABASE_URL.startswith("sqlite"):
        schema = _schema_name() + "_live"
        engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        app = make_app(schema, LOCAL_STORAGE_DIR=str(tmp_path_factory.mktemp("live-storage")))
    else:
        path = tmp_path_factory.mktemp("live-db") / "live.sqlite3"
        app = make_app(None, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                       LOCAL_STORAGE_DIR=str(tmp_path_factory.mktemp("live-storage")))
    app.config["WTF_CSRF_SSL_STRICT"] = False
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    server = make_server("127.0.0.1", 0, closing(app), threaded=True,
                         request_handler=ClosingRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()
        if engine is not None:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@contextmanager
def _page_refusing_csp_violations(context):
    """A page of ``context``; the test fails if the browser refused anything under the site's
    Content-Security-Policy (an inline script or handler slipped into a template)."""
    page = context.new_page()
    refused = []
    page.on("console", lambda msg: refused.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    try:
        yield page
    finally:
        context.close()
    assert refused == [], refused


@pytest.fixture
def phone_page(browser):
    """A phone: 360×640 CSS pixels, touch, device scale 2."""
    context = browser.new_context(viewport={"width": 360, "height": 640}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    with _page_refusing_csp_violations(context) as page:
        yield page


@pytest.fixture
def desktop_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    with _page_refusing_csp_violations(context) as page:
        yield page


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (for a person to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
