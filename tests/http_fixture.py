"""A real, scripted HTTP server on 127.0.0.1 for tests: no mocks of `requests`, no network.

    server.script("/exports/SDN.CSV", Reply(429, headers={"Retry-After": "0"}), Reply(200, body=b"..."))
    server.url("/exports/SDN.CSV")      # http://127.0.0.1:<port>/exports/SDN.CSV
    server.hits("/exports/SDN.CSV")     # how many requests that path received

Each path answers its scripted replies in order; the last one repeats. An unscripted path gets
a 404. A reply can wait `delay` seconds before sending anything (at most 5 s, to provoke read
timeouts) or `truncate` its body: declare a Content-Length larger than the bytes sent, then close
the connection. Every request is recorded (path with query, headers) so tests can count retries
and check the User-Agent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

MAX_DELAY = 5.0
TRUNCATE_MISSING = 1000  # bytes promised by Content-Length but never sent


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before sending the status line
    truncate: bool = False  # promise more bytes than sent, then close

    def __post_init__(self) -> None:
        if not 0 <= self.delay <= MAX_DELAY:
            raise ValueError(f"delay must be within 0..{MAX_DELAY} s, got {self.delay}")


@dataclass(frozen=True)
class SeenRequest:
    path: str  # without the query string
    target: str  # path with query string, as sent
    headers: dict[str, str]


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status, headers={"Location": location})


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up mid-reply is part of the script, not a server error


class ScriptedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:  # any loopback address (127.0.0.0/8)
        self._scripts: dict[str, list[Reply]] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self.requests: list[SeenRequest] = []
        self._httpd = _QuietServer((host, 0), self._handler_class())
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- control -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base(self) -> str:
        return f"http://{self._httpd.server_address[0]}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def script(self, path: str, *replies: Reply) -> None:
        """Serve `replies` to `path` in order, repeating the last; resets that path's counter."""
        if not replies:
            raise ValueError("script at least one reply")
        with self._lock:
            self._scripts[path] = list(replies)
            self._served[path] = 0

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=MAX_DELAY + 1)

    # -- serving -------------------------------------------------------------------------
    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            replies = self._scripts.get(path)
            if not replies:
                return Reply(404, body=b"not found\n", headers={"Content-Type": "text/plain"})
            index = min(self._served[path], len(replies) - 1)
            self._served[path] += 1
            return replies[index]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                with server._lock:
                    server.requests.append(SeenRequest(path, self.path, dict(self.headers.items())))
                reply = server._next_reply(path)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    headers = {k.lower(): v for k, v in reply.headers.items()}
                    for name, value in reply.headers.items():
                        if name.lower() != "content-length":
                            self.send_header(name, value)
                    if "content-type" not in headers:
                        self.send_header("Content-Type", "application/octet-stream")
                    length = len(reply.body) + (TRUNCATE_MISSING if reply.truncate else 0)
                    self.send_header("Content-Length", headers.get("content-length", str(length)))
                    if reply.truncate:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (e.g. after a read timeout)

            def log_message(self, format: str, *args) -> None:
                pass  # keep test output quiet; requests are recorded in server.requests

        return Handler


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer().start()
    try:
        yield server
    finally:
        server.stop()
