"""The browser tests' live server closes every response, even when the browser drops the
connection (werkzeug's own handler then leaks the open file, and the ResourceWarning fails
whichever test the garbage collector happens to run in: it once failed CI).

A second test used to show werkzeug's own handler still leaking (a canary for removing
ClosingRequestHandler); the leak needs the reset to land while the server is closing the
response, a race that a loaded machine lost 300 times in a row, failing a full run. A test
whose outcome is a race is a flake, so it is gone: try ``wrap=False`` by hand when
upgrading werkzeug."""

from __future__ import annotations

import gc
import socket
import threading
import time
import warnings

from flask import Flask, send_file
from werkzeug.serving import make_server

from portal.devserver import ClosingRequestHandler, closing


def _dropped_downloads(tmp_path, wrap: bool, tries: int = 100) -> int:
    """Ask for a file ``tries`` times and hang up at once (unread data: the kernel sends a
    reset); return how many open files were left to the garbage collector."""
    asset = tmp_path / "asset.bin"
    asset.write_bytes(b"x" * 60_000)
    app = Flask(__name__)
    app.add_url_rule("/asset", "asset", lambda: send_file(asset))
    server = (make_server("127.0.0.1", 0, closing(app), threaded=True,
                          request_handler=ClosingRequestHandler) if wrap
              else make_server("127.0.0.1", 0, app, threaded=True))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(tries):
                with socket.create_connection(("127.0.0.1", server.server_port)) as conn:
                    conn.sendall(b"GET /asset HTTP/1.1\r\nHost: test\r\n\r\n")
                    time.sleep(0.001)
            time.sleep(0.5)
            gc.collect()
        return sum(1 for w in caught if issubclass(w.category, ResourceWarning))
    finally:
        server.shutdown()


def test_dropped_connections_leave_no_open_file(tmp_path):
    assert _dropped_downloads(tmp_path, wrap=True, tries=300) == 0
