"""gunicorn settings for the Procfile's web process (`gunicorn --config deploy/gunicorn.conf.py`).

Threaded workers (gthread): a request is served by a thread, and the worker's main loop keeps
its heartbeat while a slow client is still sending, so a phone uploading photos at 50 kB/s for
a minute is not killed by the worker timeout (a sync worker is, at 30 s: WORKER TIMEOUT and a
500). A slow upload still holds one thread for as long as it lasts; in production a buffering
reverse proxy (deploy/nginx.conf: `proxy_request_buffering on`) receives the whole body first
and hands it over in milliseconds, so threads are only ever busy with the application's work.

Every value can be overridden from the environment (or with a command-line flag, which wins).
"""

import os
import tempfile

from portal.metrics import child_exit, on_starting  # noqa: F401 - gunicorn server hooks

bind = f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
# Processes x threads per machine: two processes per core and eight threads each serve the
# queue's 10-50 ms pages with room for requests waiting on PostgreSQL or S3.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# With gthread the timeout watches the worker's main loop, not a request: a stuck process is
# restarted after this long, a slow upload is not.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5  # behind the proxy's keep-alive pool
# The app logs every request as a JSON line with its request id (portal/observability.py);
# gunicorn's own access log would repeat it. WEB_ACCESS_LOG=- brings it back.
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
# Metrics from several worker processes are summed through files in one directory (Prometheus'
# multiprocess mode); one directory per port, as on_starting empties it.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                      os.path.join(tempfile.gettempdir(), f"closeloop-metrics-{bind.rsplit(':', 1)[1]}"))
# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl, one path for every instance
# on the machine; Closeloop does not use it (unknown setting to older gunicorn: ignored).
control_socket_disable = True
