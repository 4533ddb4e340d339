"""werkzeug's development server, as the demo and the browser tests' live server run it.

Production runs gunicorn; this only mends what werkzeug's own request handler gets wrong for
a browser that leaves a page while its files are still coming.
"""

from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler


class _Response:
    """An app's response iterable whose ``close()`` runs once, whoever calls it."""

    def __init__(self, iterable):
        self._iterable = iterable
        self._closed = False

    def __iter__(self):
        return iter(self._iterable)

    def close(self):
        if not self._closed:
            self._closed = True
            if hasattr(self._iterable, "close"):
                self._iterable.close()


_responses = threading.local()  # the threaded server gives each connection its own thread


def closing(app):
    """Wrap a WSGI app for ``ClosingRequestHandler`` (it records each response to close)."""
    def wsgi(environ, start_response):
        response = _Response(app(environ, start_response))
        _responses.open = [*getattr(_responses, "open", []), response]
        return response

    return wsgi


class ClosingRequestHandler(WSGIRequestHandler):
    """werkzeug's handler skips closing the response when the browser drops the connection
    while the server drains the request (a page left while a stylesheet or photo is still
    coming): the open file then leaks (and, in the tests, its ResourceWarning fails whichever
    test the garbage collector happens to run in). Close what is left once the connection is
    done."""

    def handle(self):
        try:
            super().handle()
        finally:
            for response in getattr(_responses, "open", []):
                response.close()
            _responses.open = []
