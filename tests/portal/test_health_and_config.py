"""Health endpoints against the real services, and settings from the environment."""

import pytest

from portal import config
from tests.conftest import REDIS_URL


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_with_real_database_and_redis(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {"database": "ok", "redis": "ok", "storage": "ok"}


def test_readyz_is_503_when_redis_is_unreachable(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")


def test_production_without_secret_key_stops(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/closeloop")
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load(str(tmp_path))


def test_embedded_default_generates_and_keeps_a_secret(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "DATABASE_URL", "CLOSELOOP_ENV", "REDIS_URL", "S3_BUCKET",
                 "MAIL_URL"):
        monkeypatch.delenv(name, raising=False)
    first = config.load(str(tmp_path))
    second = config.load(str(tmp_path))
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) > 40
    assert first["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert first["REDIS_URL"] is None and first["S3_BUCKET"] is None
    assert first["MAIL_URL"] is None and first["CLOSELOOP_PRODUCTION"] is False


def test_settings_are_read_from_the_documented_names(monkeypatch, tmp_path):
    env = {"DATABASE_URL": "postgres://u@h/d", "REDIS_URL": "redis://h:6379/1",
           "S3_ENDPOINT_URL": "http://s3", "S3_BUCKET": "b", "S3_REGION": "cn-north-1",
           "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "SECRET_KEY": "x" * 40,
           "MAIL_URL": "smtp://m:25"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = config.load(str(tmp_path))
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"
    for name in ("REDIS_URL", "S3_ENDPOINT_URL", "S3_BUCKET", "S3_REGION", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "SECRET_KEY", "MAIL_URL"):
        assert settings[name] == env[name]


def test_bad_number_setting_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("SESSION_HOURS", "twelve")
    with pytest.raises(config.ConfigError, match="SESSION_HOURS"):
        config.load(str(tmp_path))


def test_language_switch_is_remembered(client, make_tenant):
    from tests.conftest import csrf_from

    tenant = make_tenant(default_locale="zh_CN")
    page = client.get(f"/t/{tenant.slug}/").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    # the switch offers only the other language
    assert 'value="en"' in page and 'name="locale" value="zh_CN"' not in page
    response = client.post("/lang", data={"locale": "en", "next": f"/t/{tenant.slug}/",
                                          "csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert 'lang="en"' in client.get(f"/t/{tenant.slug}/").get_data(as_text=True)


def test_language_switch_refuses_other_sites(client):
    from tests.conftest import csrf_from

    page = client.get("/").get_data(as_text=True)
    response = client.post("/lang", data={"locale": "en", "next": "https://evil.example.com/",
                                          "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == "/"
