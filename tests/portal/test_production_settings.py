"""Production refuses a half configuration (but `flask db` still works with the database
alone), HSTS over HTTPS, and static files under hashed names, compressed, cached a year."""

from __future__ import annotations

import gzip
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import brotli
import pytest
import sqlalchemy as sa

from portal import config, create_app
from tests.conftest import DATABASE_URL, make_app

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ONLY_DB = {"DATABASE_URL": "postgresql://db.internal/closeloop", "SECRET_KEY": "x" * 40}


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    """A production environment with only a database and a secret; the app's logging handler
    (installed because such an app is not in testing mode) is taken off afterwards."""
    for name in ("REDIS_URL", "S3_BUCKET", "CLOSELOOP_SINGLE_MACHINE", "FLASK_RUN_FROM_CLI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in PRODUCTION_ONLY_DB.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    yield monkeypatch
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_closeloop", False)]:
        root.removeHandler(handler)


def test_production_without_redis_or_bucket_refuses_to_serve(production_env):
    with pytest.raises(config.ConfigError) as refused:
        create_app()
    message = str(refused.value)
    assert "REDIS_URL is not set" in message and "S3_BUCKET is not set" in message
    assert "CLOSELOOP_SINGLE_MACHINE=1" in message
    production_env.setenv("REDIS_URL", "redis://redis.internal:6379/0")
    with pytest.raises(config.ConfigError, match="S3_BUCKET is not set") as refused:
        create_app()
    assert "REDIS_URL" not in str(refused.value).split("but", 1)[1].split(".")[0]


def test_single_machine_is_an_explicit_choice(production_env):
    production_env.setenv("CLOSELOOP_SINGLE_MACHINE", "1")
    app = create_app()
    assert app.config["CLOSELOOP_PRODUCTION"] and app.config["CLOSELOOP_SINGLE_MACHINE"]


def test_complete_production_and_the_embedded_default_start(production_env, monkeypatch):
    production_env.setenv("REDIS_URL", "redis://redis.internal:6379/0")
    production_env.setenv("S3_BUCKET", "closeloop-files")
    assert create_app().config["CLOSELOOP_PRODUCTION"]
    for name in ("DATABASE_URL", "REDIS_URL", "S3_BUCKET"):
        monkeypatch.delenv(name)
    assert not create_app().config["CLOSELOOP_PRODUCTION"]


@pytest.fixture
def scratch_schema():
    if DATABASE_URL.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    schema = f"prod_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield DATABASE_URL + ("&" if "?" in DATABASE_URL else "?") + "options=" + quote(
        f"-csearch_path={schema}", safe="")
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def _env(database_url: str, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("S3_", "AWS_", "REDIS", "CLOSELOOP_", "FLASK_"))}
    env.update(DATABASE_URL=database_url, SECRET_KEY="x" * 40, INSTANCE_PATH=str(tmp_path),
               PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    return env


def test_migrations_run_with_the_database_alone_but_serving_refuses(scratch_schema, tmp_path):
    env = _env(scratch_schema, tmp_path)
    flask = [sys.executable, "-m", "flask", "--app", "portal"]
    upgrade = subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr[-2000:]
    for command in (["worker", "--burst"], ["clock"]):
        refused = subprocess.run([*flask, *command], cwd=ROOT, env=env, capture_output=True,
                                 text=True, timeout=60)
        assert refused.returncode != 0
        assert "REDIS_URL is not set" in refused.stderr, refused.stderr[-2000:]
    # gunicorn, started as the Procfile starts it: the worker cannot boot, gunicorn stops.
    web = subprocess.run([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind",
                          "127.0.0.1:0", "--no-control-socket", "portal:create_app()"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert web.returncode != 0
    assert "S3_BUCKET is not set" in web.stdout + web.stderr


# -- HSTS -----------------------------------------------------------------------------------

def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    secure = client.get("/healthz", base_url="https://closeloop.example.com")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_hsts_behind_a_trusted_proxy(pg_schema):
    app = make_app(pg_schema, PROXY_HOPS=1)
    client = app.test_client()
    forwarded = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=31536000" in forwarded.headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    untrusted = make_app(pg_schema).test_client()  # no PROXY_HOPS: the header is not believed
    assert "Strict-Transport-Security" not in untrusted.get(
        "/healthz", headers={"X-Forwarded-Proto": "https"}).headers


# -- static files ---------------------------------------------------------------------------

@pytest.fixture
def hashed_app(app, pg_schema, tmp_path):  # app: the schema is migrated
    app = make_app(pg_schema, STATIC_HASHED=True, STATIC_BUILD_DIR=str(tmp_path / "static"))
    yield app
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()


def _template_static_names() -> set[str]:
    names = set()
    for path in ROOT.glob("*/templates/**/*.html"):
        names.update(re.findall(r"url_for\('static', filename='([^']+)'\)", path.read_text()))
    return names


def test_every_static_url_in_the_templates_is_hashed(hashed_app):
    manifest = hashed_app.extensions["static_manifest"]
    names = _template_static_names()
    assert "js/htmx-2.0.11.min.js" in names and len(names) >= 6
    with hashed_app.test_request_context():
        from flask import url_for

        for name in names:
            url = url_for("static", filename=name)
            assert url == "/static/" + manifest[name]
            assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg)$", url), url
    page = hashed_app.test_client().get("/").get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert urls and all(re.search(r"\.[0-9a-f]{12}\.", u) for u in urls), urls


class _ClosingClient:
    """Reads and closes each response (WhiteNoise streams open files, as a server closes)."""

    def __init__(self, client):
        self.client = client

    def get(self, *args, **kwargs):
        response = self.client.get(*args, **kwargs)
        response.get_data()
        response.close()
        return response


def test_hashed_files_are_compressed_and_cached_for_a_year(hashed_app):
    client = _ClosingClient(hashed_app.test_client())
    manifest = hashed_app.extensions["static_manifest"]
    original = (ROOT / "portal/static/js/htmx-2.0.11.min.js").read_bytes()
    url = "/static/" + manifest["js/htmx-2.0.11.min.js"]

    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and plain.data == original
    cache = plain.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert plain.headers["X-Content-Type-Options"] == "nosniff"

    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == original and len(zipped.data) < len(original) / 2

    squeezed = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    assert squeezed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(squeezed.data) == original

    css = client.get("/static/" + manifest["css/app.css"])
    assert css.status_code == 200 and css.mimetype == "text/css"


def test_plain_names_stay_served_briefly_and_unknown_hashes_are_404(hashed_app):
    client = _ClosingClient(hashed_app.test_client())
    plain = client.get("/static/css/app.css")
    assert plain.status_code == 200 and "immutable" not in plain.headers["Cache-Control"]
    assert client.get("/static/css/app.0123456789ab.css").status_code == 404
    assert client.get("/static/../portal/config.py").status_code == 404


def test_the_build_follows_the_content(tmp_path):
    from portal.static_files import build

    source = tmp_path / "src"
    (source / "css").mkdir(parents=True)
    (source / "css" / "a.css").write_text("body { color: red }" * 50)
    first = build(source, tmp_path / "out")
    assert build(source, tmp_path / "out") == first  # same content: the same tree, reused
    (source / "css" / "a.css").write_text("body { color: blue }" * 50)
    second = build(source, tmp_path / "out")
    assert second != first
    names = sorted(p.name for p in (second / "css").iterdir())
    assert {"a.css", "a.css.gz", "a.css.br"} <= set(names)
    assert any(re.fullmatch(r"a\.[0-9a-f]{12}\.css\.br", n) for n in names)


def test_an_unwritable_build_directory_falls_back_to_a_temporary_one(app, pg_schema, tmp_path):
    blocked = tmp_path / "read-only"
    blocked.write_text("a file where a directory should be")  # mkdir fails even for root
    fallback = make_app(pg_schema, STATIC_HASHED=True, STATIC_BUILD_DIR=str(blocked / "x"))
    assert "static_manifest" in fallback.extensions
    with fallback.test_request_context():
        from flask import url_for

        assert re.search(r"\.[0-9a-f]{12}\.css$", url_for("static", filename="css/app.css"))
