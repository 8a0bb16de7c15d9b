"""Real loopback servers standing in for the Application Insights ingestion endpoint.

``FakeIngestion`` answers ``POST /v2/track`` like the service: it accepts a JSON array
of envelopes (as applicationinsights 0.11.10 sends them), newline-delimited envelopes,
and either one gzip-compressed; it replies with ``status`` (200 by default, or a list
consumed one per request, e.g. ``[503, 503]`` then 200) and records every envelope.
``save(name)`` writes the raw payloads to test-artifacts/telemetry/ so that the session's
secret scan covers them.

``SilentServer`` accepts connections and never answers (a hung ingestion endpoint);
``refused_url()`` is an address where nothing listens (connection refused).
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.secret_scan import TELEMETRY_DIR

IKEY = "0f8fad5b-d9cb-469f-a165-70867728950e"


def parse_payload(body: bytes, encoding: str | None = None) -> list[dict[str, Any]]:
    """Envelopes from a request body: JSON array or object, or one JSON object per line."""
    if encoding == "gzip" or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    text = body.decode("utf-8").strip()
    try:
        value = json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return value if isinstance(value, list) else [value]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        owner = self.server.owner
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = owner.next_status()
        if self.path.split("?")[0] == "/v2/track" and status < 300:
            owner.record(body, parse_payload(body, self.headers.get("Content-Encoding")))
        else:
            owner.record_refused(body)
        reply = json.dumps({"itemsReceived": 0, "itemsAccepted": 0, "errors": []}).encode()
        self.send_response(status if self.path.split("?")[0] == "/v2/track" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeIngestion


class FakeIngestion:
    """The ingestion endpoint on 127.0.0.1; ``url`` is its IngestionEndpoint (trailing /)."""

    def __init__(self, status: int | list[int] = 200) -> None:
        self.default = 200 if isinstance(status, list) else status
        self._statuses: deque[int] = deque(status if isinstance(status, list) else [])
        self.envelopes: list[dict[str, Any]] = []
        self.payloads: list[bytes] = []
        self.refused: list[bytes] = []
        self._changed = threading.Condition()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-ingestion",
                                        daemon=True)

    def start(self) -> FakeIngestion:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeIngestion:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def connection_string(self, ikey: str = IKEY) -> str:
        return f"InstrumentationKey={ikey};IngestionEndpoint={self.url};LiveEndpoint={self.url}"

    def next_status(self) -> int:
        with self._changed:
            return self._statuses.popleft() if self._statuses else self.default

    def record(self, body: bytes, envelopes: list[dict[str, Any]]) -> None:
        with self._changed:
            self.payloads.append(body)
            self.envelopes.extend(envelopes)
            self._changed.notify_all()

    def record_refused(self, body: bytes) -> None:
        with self._changed:
            self.refused.append(body)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10) -> bool:
        """Wait (bounded) until ``predicate(envelopes)`` holds."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(list(self.envelopes)), timeout)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Envelopes whose name ends with ``.<kind>`` (Event, Metric, Exception, ...)."""
        return [e for e in self.envelopes if e.get("name", "").endswith("." + kind)]

    def save(self, name: str) -> Path:
        """Raw payloads (and refused ones) under test-artifacts/telemetry/ for the secret scan."""
        TELEMETRY_DIR.mkdir(parents=True, exist_ok=True)
        path = TELEMETRY_DIR / f"{name}.jsonl"
        with open(path, "wb") as handle:
            for body in [*self.payloads, *self.refused]:
                handle.write(body.rstrip(b"\n") + b"\n")
        return path


class SilentServer:
    """Accepts TCP connections, reads nothing, answers nothing (until stopped)."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)

    def _accept(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            self.accepted += 1

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._conns:
            conn.close()
        self._sock.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/"


def refused_url() -> str:
    """An ingestion URL on a loopback port where nothing listens."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
