"""A real HTTP webhook receiver on loopback: what Slack, Teams or a script would be.

It records every POST (path, lower-cased headers, JSON body, the ``X-Monitor-Delivery``
id) and answers from a script: ``enqueue(500, times=2)`` queues statuses consumed one
per request, then ``default`` (200) answers. Like a careful receiver it *processes*
each delivery id once (``processed``), so tests can tell "sent twice" from "acted on
twice". ``stop()`` closes the socket (a receiver that is down: connection refused) and
``start()`` brings it back on the same port. ``on_request`` runs before the reply (a
test uses it to kill the sender between send and mark). Each receiver has a secret
path like a real webhook and registers its URL with the session's secret scan.

    with WebhookReceiver() as hook:
        url = hook.url
        ...
        assert hook.delivery_ids() == ["1.1.opened.1767571200000"]
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support import secret_scan

DELIVERY_HEADER = "x-monitor-delivery"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def delivery_id(self) -> str | None:
        return self.headers.get(DELIVERY_HEADER)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    receiver: WebhookReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a sender killed mid-request is part of the tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.server.receiver._handle(self)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


class WebhookReceiver:
    """See the module docstring. Thread-safe."""

    def __init__(self, default: int = 200) -> None:
        self.default = Answer(default)
        self.token = secrets.token_hex(16)
        self.path = f"/hooks/T{self.token[:8]}/B{self.token[8:16]}/{self.token}"
        self.on_request: Callable[[Received], None] | None = None
        self._script: deque[Answer] = deque()
        self._received: list[Received] = []
        self._processed: list[str] = []
        self._cond = threading.Condition()
        self._server: _Server | None = None
        self.port = 0

    # -- lifecycle --
    def start(self) -> WebhookReceiver:
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.receiver = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="webhook-receiver", daemon=True).start()
        secret_scan.register(self.url, self.path)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    # -- scripting --
    def enqueue(self, status: int, times: int = 1, headers: dict[str, str] | None = None,
                delay: float = 0.0) -> None:
        with self._cond:
            self._script.extend([Answer(status, tuple((headers or {}).items()), delay)] * times)

    # -- what arrived --
    @property
    def received(self) -> list[Received]:
        with self._cond:
            return list(self._received)

    def delivery_ids(self) -> list[str | None]:
        return [r.delivery_id for r in self.received]

    @property
    def processed(self) -> list[str]:
        """Delivery ids acted on: each once, however often it was sent."""
        with self._cond:
            return list(self._processed)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until ``count`` requests arrived (bounded: a real socket, not the scheduler)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self._received)}")
                self._cond.wait(left)
            return list(self._received)

    # -- handler --
    def _handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        with self._cond:
            answer = self._script.popleft() if self._script else self.default
        if handler.path != self.path:
            answer = Answer(404)
        received = Received(handler.path, {k.lower(): v for k, v in handler.headers.items()}, body,
                            answer.status)
        with self._cond:
            self._received.append(received)
            if 200 <= answer.status < 300 and received.delivery_id not in self._processed:
                self._processed.append(received.delivery_id or "")
            self._cond.notify_all()
        if self.on_request is not None:
            self.on_request(received)
        if answer.delay:
            time.sleep(answer.delay)
        reply = b'{"ok":true}' if 200 <= answer.status < 300 else b'{"error":"scripted failure"}'
        try:
            handler.send_response(answer.status)
            for name, value in answer.headers:
                handler.send_header(name, value)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(reply)))
            handler.end_headers()
            handler.wfile.write(reply)
        except OSError:
            pass  # the sender is gone (killed mid-request)
