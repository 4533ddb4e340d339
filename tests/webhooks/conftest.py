"""A real HTTP receiver on 127.0.0.1 (a free port) for webhook deliveries, and the documented
signature check taken from docs/webhooks.md."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


@pytest.fixture(scope="session")
def documented_verify():
    """``verify(secret, header, body)`` exactly as docs/webhooks.md shows it."""
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 — our own documentation
    return namespace["verify"]


class Receiver:
    def __init__(self):
        self.requests: list[dict] = []
        self.replies: list[tuple[int, dict]] = []  # consumed in order; then 200
        self.hold = threading.Event()  # a reply held until set (timeouts)
        self.holding = False
        self.lock = threading.Lock()
        self.url = ""

    def reply_with(self, *statuses, headers=None):
        self.replies.extend((s, headers or {}) for s in statuses)


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body})
                status, headers = state.replies.pop(0) if state.replies else (200, {})
            if state.holding:
                state.hold.wait(10)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/closeloop?source=test"
    try:
        yield state
    finally:
        state.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
