"""The production process layout without containers: the Procfile's own commands (gunicorn,
`flask --app portal worker`, `flask --app portal clock`) as real processes on free ports,
Debian's nginx in front, against the real PostgreSQL (a schema of their own), the real Redis
(database 3, keys under this session's RQ_QUEUE_PREFIX only) and moto's S3 over HTTP.

Processes run the Procfile line through ``bash -c 'exec …'`` with the venv's bin first on PATH,
exactly as a Procfile runner (honcho, Heroku) starts them; only the environment differs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from tests.conftest import DATABASE_URL, make_app

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REDIS_DB = 3
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] \
    + f"/{REDIS_DB}"
BUCKET = "closeloop-deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile(name: str) -> str:
    """The command of process type ``name`` in the Procfile, as written there."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        kind, _, command = line.partition(":")
        if kind.strip() == name:
            return command.strip()
    raise KeyError(name)


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.1, what="condition"):
    """Poll ``predicate`` until it is true; ``what`` (text, or a callable giving it at the time
    of failure, e.g. the processes' logs then) says what was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for "
                         f"{what() if callable(what) else what}")


def answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Stack:
    """One PostgreSQL schema, Redis, moto S3, and the processes started on them."""

    def __init__(self, schema: str | None, moto_url: str, directory: Path,
                 database_url: str | None = None, bucket: str = BUCKET):
        """On ``schema`` of the test database, or (schema None) on a database of its own."""
        self.schema = schema
        self.moto_url = moto_url
        self.dir = directory
        self.bucket = bucket
        self.prefix = f"d{uuid.uuid4().hex[:8]}-"
        if schema is not None:
            self.database_url = (DATABASE_URL + ("&" if "?" in DATABASE_URL else "?")
                                 + "options=" + quote(f"-csearch_path={schema}", safe=""))
        else:
            self.database_url = database_url
        self.settings = {
            "REDIS_URL": REDIS_URL, "S3_BUCKET": bucket, "S3_ENDPOINT_URL": moto_url,
            "S3_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "RQ_QUEUE_PREFIX": self.prefix, "PUBLIC_URL": "http://closeloop.test",
            "RATELIMIT_KEY_PREFIX": self.prefix,
        }
        if schema is None:
            self.settings["SQLALCHEMY_DATABASE_URI"] = database_url.replace(
                "postgresql://", "postgresql+psycopg://", 1)
        self.app = make_app(schema, **self.settings)
        self.processes: list[subprocess.Popen] = []

    # -- the environment a production machine would give the Procfile's processes ------------
    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("S3_", "AWS_", "RQ_", "WEB_", "DATABASE_", "REDIS_"))}
        env.update({
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "CLOSELOOP_ENV": "production", "DATABASE_URL": self.database_url,
            "SECRET_KEY": "deploy-test-secret-key-0123456789", "REDIS_URL": REDIS_URL,
            "S3_BUCKET": self.bucket, "S3_ENDPOINT_URL": self.moto_url, "S3_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "PUBLIC_URL": "http://closeloop.test", "INSTANCE_PATH": str(self.dir / "instance"),
            "RQ_QUEUE_PREFIX": self.prefix, "SESSION_COOKIE_SECURE": "false",
            # rate-limit counters of this stack's own (they live in the shared Redis for an
            # hour: photos staged by an earlier run from 127.0.0.1 would count against this one)
            "RATELIMIT_KEY_PREFIX": self.prefix,
            # The worker's own clocks are production's (a killed worker's job runs again
            # within a minute: jobs/workers.py); only failed jobs are retried sooner.
            "RQ_RETRY_INTERVALS": "1,1,1,2,2",
            "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
        })
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start(self, kind: str, name: str | None = None, **env) -> subprocess.Popen:
        """The Procfile's ``kind`` command as its own process group; output in a log file."""
        name = name or f"{kind}-{len(self.processes)}"
        log_path = self.dir / f"{name}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(["bash", "-c", "exec " + procfile(kind)], cwd=ROOT,
                                       env=self.env(**env), stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        process.log_path = log_path
        process.name = name
        self.processes.append(process)
        return process

    def start_web(self, name: str | None = None, **env) -> tuple[subprocess.Popen, str]:
        port = free_port()
        process = self.start("web", name, PORT=port, BIND_HOST="127.0.0.1", **env)
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(url + "/healthz") or process.poll() is not None, 60,
                 what=f"gunicorn on {port}")
        assert process.poll() is None, self.log(process)
        return process, url

    @staticmethod
    def log(process) -> str:
        return Path(process.log_path).read_text(errors="replace")[-6000:]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{self.log(p)}" for p in self.processes)

    def kill(self, process, sig=signal.SIGKILL) -> None:
        """Kill the process group and every descendant (RQ's work horse calls setsid(), so it
        leaves the group: a dead machine takes it along all the same)."""
        self.signal_all(process, sig)
        process.wait(timeout=30)

    @staticmethod
    def signal_all(process, sig) -> None:
        """``sig`` to the process group and every descendant (see ``kill``)."""
        if process.poll() is None:
            doomed = _descendants(process.pid)
            os.killpg(process.pid, sig)
            for pid in doomed:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    # -- looking inside -----------------------------------------------------------------------
    @contextmanager
    def seed(self, tenant=None):
        """A block in an app on the same schema (optionally as ``tenant``), committed."""
        from portal.extensions import db
        from portal.tenancy import activate, unscoped

        with self.app.app_context():
            with activate(tenant) if tenant is not None else unscoped():
                yield db
                db.session.commit()
            db.session.remove()

    def s3(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.moto_url, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def s3_keys(self, prefix: str = "") -> list[str]:
        pages = self.s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                    Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def flush_redis(self) -> None:
        """Delete this session's RQ keys (queues, registries, jobs) in database 3."""
        from redis import Redis

        connection = Redis.from_url(REDIS_URL)
        assert connection.connection_pool.connection_kwargs["db"] == REDIS_DB
        job_ids = set()
        for key in connection.scan_iter(match=f"*{self.prefix}*", count=1000):
            kind = connection.type(key)
            if kind == b"list":
                job_ids.update(connection.lrange(key, 0, -1))
            elif kind == b"zset":
                job_ids.update(m.split(b":")[0] for m in connection.zrange(key, 0, -1))
            connection.delete(key)
        for job_id in job_ids:
            connection.delete(b"rq:job:" + job_id, b"rq:results:" + job_id)
        connection.close()


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.extend(children)
            todo.extend(children)
    return found


def create_schema(prefix: str) -> str:
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return schema


def drop_schema(schema: str) -> None:
    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def moto_s3():
    if DATABASE_URL.startswith("sqlite"):
        pytest.skip("needs PostgreSQL, Redis and S3")
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=BUCKET)
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def stack(moto_s3, tmp_path):
    """A migrated schema of its own and nothing running yet; everything stopped after."""
    from flask_migrate import upgrade

    from portal.extensions import db

    schema = create_schema("deploy")
    svc = Stack(schema, moto_s3, tmp_path)
    with svc.app.app_context():
        upgrade()
        db.engine.dispose()
    try:
        yield svc
    finally:
        svc.stop_all()
        svc.flush_redis()
        with svc.app.app_context():
            db.engine.dispose()
        drop_schema(schema)


NGINX_CONF = """
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/nginx-error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {p}/nginx-access.log;
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    upstream closeloop_web {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
{body}
    }}
}}
"""


def proxy_locations() -> str:
    """The ``server`` block body of deploy/nginx/closeloop.conf between its markers: the very
    lines production uses (body limit, buffering, timeouts, headers, failover)."""
    text = (ROOT / "deploy" / "nginx" / "closeloop.conf").read_text()
    match = re.search(r"# -- proxy: begin --\n(.*?)\n\s*# -- proxy: end --", text, re.S)
    assert match, "markers missing in deploy/nginx/closeloop.conf"
    return match.group(1)


@contextmanager
def nginx(backends: list[str]):
    """Debian's nginx in front of ``backends`` (host:port), with deploy/'s proxy settings.
    Its directory is world-readable under /tmp: nginx's workers run as nobody and write
    request bodies there (pytest's own temporary directories are private to root)."""
    if not os.path.exists(NGINX):
        pytest.fail("nginx is not installed (.ci/run installs it: apt-get install nginx)")
    p = Path(tempfile.mkdtemp(prefix="closeloop-nginx-"))
    os.chmod(p, 0o755)
    port = free_port()
    servers = "\n".join(f"        server {b} max_fails=1 fail_timeout=10s;" for b in backends)
    (p / "nginx.conf").write_text(NGINX_CONF.format(p=p, port=port, servers=servers,
                                                    body=proxy_locations()))
    process = subprocess.Popen([NGINX, "-c", f"{p}/nginx.conf", "-p", str(p), "-e",
                                f"{p}/nginx-error.log", "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _connects(port) or process.poll() is not None, 10, what="nginx")
        assert process.poll() is None, (p / "nginx-error.log").read_text()
        yield f"http://127.0.0.1:{port}", p
    finally:
        process.send_signal(signal.SIGQUIT)
        process.wait(timeout=15)
        shutil.rmtree(p, ignore_errors=True)


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False
