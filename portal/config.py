"""Settings: the only module that reads the environment.

With no variables set the app runs in its *embedded default* (SQLite, jobs in
process, files and a generated secret under instance/, mail to the log). Setting
any real service (``DATABASE_URL``) or ``CLOSELOOP_ENV=production`` switches to
production mode, where a missing ``SECRET_KEY`` stops start-up.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_ints(name: str, default: list[int]) -> list[int]:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise ConfigError(f"{name} must be whole numbers separated by commas, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    return raw.lower() in {"1", "true", "yes", "on"}


def database_uri(url: str) -> str:
    """Use the psycopg 3 driver for any PostgreSQL URL, whatever spelling it came in."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _instance_secret(instance_path: Path) -> str:
    """The embedded default's secret: generated once, kept in instance/ (never in production)."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def instance_path_override() -> str | None:
    raw = _env("INSTANCE_PATH")
    return str(Path(raw).resolve()) if raw else None


def load(instance_path: str) -> dict:
    """Build the settings dict from the environment (raises ConfigError on bad settings)."""
    instance = Path(instance_path)
    database_url = _env("DATABASE_URL")
    production = database_url is not None or _env("CLOSELOOP_ENV") == "production"

    secret_key = _env("SECRET_KEY")
    if secret_key is None:
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. In production Closeloop needs a long random "
                "SECRET_KEY in the environment (for example: python -c "
                "'import secrets; print(secrets.token_urlsafe(48))')."
            )
        secret_key = _instance_secret(instance)

    return {
        "CLOSELOOP_PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_uri(
            database_url or f"sqlite:///{instance / 'closeloop.sqlite3'}"
        ),
        # Idle pooled connections are pinged before use (portal/extensions.py), not every one.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        **_services(instance),
        # Sessions: server-side rows; the cookie only carries their id.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", production),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_env_int("SESSION_HOURS", 12)),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, which expires itself
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_MB", 220) * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_CN", "en"],
        # Sign-in throttling: failures allowed per window, per account and per address.
        "SIGNIN_MAX_FAILURES_PER_ACCOUNT": _env_int("SIGNIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "SIGNIN_MAX_FAILURES_PER_ADDRESS": _env_int("SIGNIN_MAX_FAILURES_PER_ADDRESS", 20),
        "SIGNIN_WINDOW_MINUTES": _env_int("SIGNIN_WINDOW_MINUTES", 15),
        "SIGNIN_LINK_MINUTES": _env_int("SIGNIN_LINK_MINUTES", 30),
        # Number of trusted proxies in front (X-Forwarded-For/Proto); 0 trusts none.
        "PROXY_HOPS": _env_int("PROXY_HOPS", 0),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
    }


def _services(instance: Path) -> dict:
    """The outside services' settings: jobs (Redis + RQ), storage (S3) and mail (SMTP)."""
    return {
        # Jobs: with no Redis, jobs run in process right after the request commits.
        "REDIS_URL": _env("REDIS_URL"),
        "RQ_QUEUES": ["default", "photos", "mail"],
        # Prepended to every RQ queue name, so that several deployments (or test sessions)
        # can share one Redis database without taking each other's jobs.
        "RQ_QUEUE_PREFIX": _env("RQ_QUEUE_PREFIX", ""),
        # Retries of failed jobs (seconds between attempts) and the worker's clocks; tests
        # shorten them instead of sleeping. A job whose worker died is retried once its
        # heartbeat (monitoring interval + grace) has lapsed and a maintenance pass sees it.
        "RQ_RETRY_INTERVALS": _env_ints("RQ_RETRY_INTERVALS", [5, 15, 60, 300, 900]),
        "RQ_MAINTENANCE_INTERVAL": _env_int("RQ_MAINTENANCE_INTERVAL", 600),
        "RQ_JOB_MONITORING_INTERVAL": _env_int("RQ_JOB_MONITORING_INTERVAL", 30),
        "RQ_HEARTBEAT_GRACE": _env_int("RQ_HEARTBEAT_GRACE", 60),
        "RQ_WORKER_TTL": _env_int("RQ_WORKER_TTL", 420),
        # Storage: S3 when a bucket is named, else files under instance/storage.
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL"),
        "S3_BUCKET": _env("S3_BUCKET"),
        "S3_REGION": _env("S3_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": _env("AWS_ACCESS_KEY_ID"),
        "AWS_SECRET_ACCESS_KEY": _env("AWS_SECRET_ACCESS_KEY"),
        "LOCAL_STORAGE_DIR": str(instance / "storage"),
        # Mail: smtp://user:pass@host:port (smtps:// for TLS); absent prints mail to the log.
        "MAIL_URL": _env("MAIL_URL"),
        "MAIL_FROM": _env("MAIL_FROM", "Closeloop <no-reply@closeloop.local>"),
        # Public base URL for links in e-mails sent from jobs (no request to derive it from).
        "PUBLIC_URL": _env("PUBLIC_URL", "http://127.0.0.1:5000"),
    }
