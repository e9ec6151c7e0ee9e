"""A local webhook receiver for the notification tests and benchmark: a threaded HTTP server on 127.0.0.1.

It answers the VTN's callback verification (``GET …?echo=X`` → 200 with body ``X``, Definition.md §Webhooks)
and records every ``POST`` with its arrival time. Paths decide the behaviour: ``/fail…`` answers 500 to POSTs,
``/noecho…`` answers the challenge without echoing it, ``/flaky…`` fails the first POST and accepts the next.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Received:
    """One POST: its path, ``Authorization`` header, JSON body and arrival time (``time.time()``)."""

    path: str
    authorization: str
    body: Any
    arrived_at: float


class CallbackSink:
    """Start with :meth:`start`; ``url(path)`` gives a callback URL; ``received`` lists the POSTs."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.challenges: list[str] = []
        self._lock = threading.Lock()
        self._flaky_seen: set[str] = set()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                echo = (parse_qs(parts.query).get("echo") or [""])[0]
                with sink._lock:
                    sink.challenges.append(parts.path)
                if parts.path.startswith("/missing"):
                    self._answer(404)
                else:
                    self._answer(200, b"nope" if parts.path.startswith("/noecho") else echo.encode())

            def do_POST(self) -> None:
                arrived = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = urlsplit(self.path).path
                if path.startswith("/fail"):
                    self._answer(500)
                    return
                if path.startswith("/flaky"):
                    with sink._lock:
                        first = path not in sink._flaky_seen
                        sink._flaky_seen.add(path)
                    if first:
                        self._answer(503)
                        return
                with sink._lock:
                    sink.received.append(
                        Received(
                            path, self.headers.get("Authorization", ""), json.loads(raw or b"null"), arrived
                        )
                    )
                self._answer(200)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.request_queue_size = 1024
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> CallbackSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/cb") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def posts(self, path: str | None = None) -> list[Received]:
        """The POSTs received so far (at ``path`` if given)."""
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]

    def wait_for(self, count: int, *, path: str | None = None, timeout_s: float = 10.0) -> list[Received]:
        """Wait until ``count`` POSTs (at ``path``) arrived; returns them (fewer on timeout)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.posts(path)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        return self.posts(path)


_shared: CallbackSink | None = None


def shared_sink() -> CallbackSink:
    """One sink per test process (started on first use)."""
    global _shared
    if _shared is None:
        _shared = CallbackSink().start()
    return _shared
