"""A real HTTP server that behaves like an Azure ML online endpoint's scoring route.

Tests talk to it over real sockets through requests and urllib3, so retries, timeouts,
keep-alive, half-sent bodies and slow senders behave as they do in production. Nothing
is monkeypatched.

What it does, like Azure ML:

- ``POST /score`` (``FakeAzureML.url``) checks ``Authorization: Bearer <key>``
  (``api_key``, plus any token added with ``accept_token``) and answers 401 otherwise;
  other paths answer 404, other methods 405;
- an unknown ``azureml-model-deployment`` header answers 404 when ``deployments`` is set;
- every reply carries ``x-request-id`` and ``azureml-model-deployment``;
- by default it returns a realistic batch of rows of the seed schema
  (``archived_gb_predicted``, ``savings_gb_predicted``, ``confidence_interval``,
  ``model_version``).

Scripting: ``enqueue(Reply(...), times=n)`` queues replies consumed one per authorised
scoring request (FIFO); when the queue is empty ``default`` answers (a ``Reply`` or a
function of the ``RecordedRequest``). A ``Reply`` sets the status, headers (e.g.
Retry-After), body (``Reply.json``, ``Reply.text``, ``Reply.wrapped`` for string-wrapped
JSON, ``Reply.rows``), a ``delay`` before the headers (read timeouts), ``dribble``
(slow-loris: the body one byte per interval), ``dribble_headers`` (slow-loris on the
status line and headers, which read timeouts alone cannot bound), ``truncate_to``
(Content-Length larger than what is sent), ``chunked`` or ``close_delimited`` framing,
or ``drop`` (close the connection without answering).

Every request (authorised or not) is recorded: ``requests``, ``request_count``,
``last_request`` (headers lower-cased, raw body, ``json()``).

Use it as a context manager (``with FakeAzureML() as server:``) or through the
``fake_azureml`` fixture; in another test folder import the fixture into that folder's
conftest.py::

    from tests.fakes.azureml_server import fake_azureml  # noqa: F401

``server.settings(**overrides)`` gives ``EndpointSettings`` aimed at the server with
test-speed retry timings; ``server.env()`` gives the AZURE_ML_* variables.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ml_client.settings import EndpointSettings

DEFAULT_API_KEY = "fake-azureml-key-7c1e5d"
SCORE_PATH = "/score"
SEED_MODEL_VERSION = "seed-model:3"


def seed_rows(n: int = 20, seed: int = 7, model_version: str = SEED_MODEL_VERSION) -> list[dict[str, Any]]:
    """``n`` rows that look like the seed model's output (deterministic per seed)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        archived = max(rng.gauss(500.0, 40.0), 0.0)
        savings = max(0.24 * archived + rng.gauss(0.0, 9.0), 0.0)
        rows.append({"archived_gb_predicted": round(archived, 4),
                     "savings_gb_predicted": round(savings, 4),
                     "confidence_interval": round(rng.betavariate(18.0, 4.0), 4),
                     "model_version": model_version})
    return rows


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode("utf-8")


DEFAULT_BODY = _json_bytes(seed_rows())


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``body`` is the exact bytes sent; the class methods build common ones."""

    status: int = 200
    body: bytes = DEFAULT_BODY
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0
    dribble: float = 0.0
    dribble_headers: float = 0.0
    truncate_to: int | None = None
    chunked: bool = False
    close_delimited: bool = False
    drop: bool = False

    @classmethod
    def json(cls, value: Any, status: int = 200, **kw: Any) -> Reply:
        """``value`` as JSON (NaN and Infinity written as Python's json does)."""
        return cls(status=status, body=_json_bytes(value), **kw)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain", **kw: Any) -> Reply:
        return cls(status=status, body=text.encode("utf-8"), content_type=content_type, **kw)

    @classmethod
    def wrapped(cls, value: Any, times: int = 1, **kw: Any) -> Reply:
        """What a scoring script returning ``json.dumps(value)`` sends (``times`` wrappings)."""
        text = json.dumps(value, allow_nan=True)
        for _ in range(times):
            text = json.dumps(text)
        return cls(body=text.encode("utf-8"), **kw)

    @classmethod
    def rows(cls, n: int = 20, seed: int = 7, envelope: str | None = None, **kw: Any) -> Reply:
        """``n`` seed-schema rows, bare or as ``{envelope: rows}``."""
        rows = seed_rows(n, seed)
        return cls.json({envelope: rows} if envelope else rows, **kw)

    @classmethod
    def error(cls, status: int, message: str = "", **kw: Any) -> Reply:
        return cls.json({"message": message or f"fake error {status}"}, status=status, **kw)


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    request_id: str

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[RecordedRequest], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    fake: FakeAzureML

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, size caps) are normal here; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections end on their own
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def _any(self) -> None:
        self.server.fake._handle(self)

    do_POST = do_GET = do_PUT = do_DELETE = do_PATCH = _any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass


class FakeAzureML:
    """The fake endpoint; see the module docstring. Thread-safe."""

    def __init__(self, api_key: str = DEFAULT_API_KEY, *, deployments: set[str] | None = None,
                 default: Reply | Responder | None = None, served_by: str = "blue") -> None:
        self.api_key = api_key
        self.deployments = deployments
        self.default: Reply | Responder = default or Reply()
        self.served_by = served_by
        self._tokens = {api_key}
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> FakeAzureML:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-azureml", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeAzureML:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the server first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The scoring URI."""
        return self.base_url + SCORE_PATH

    # -- scripting and inspection --

    def enqueue(self, *replies: Reply, times: int = 1) -> None:
        with self._lock:
            for _ in range(times):
                self._queue.extend(replies)

    def accept_token(self, token: str) -> None:
        """Also accept ``Bearer <token>`` (the Entra ID path)."""
        with self._lock:
            self._tokens.add(token)

    def clear(self) -> None:
        """Forget queued replies and recorded requests."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def last_request(self) -> RecordedRequest | None:
        with self._lock:
            return self._requests[-1] if self._requests else None

    def settings(self, **overrides: Any) -> EndpointSettings:
        """EndpointSettings for this server with fast retries (3 attempts, ~ms backoff, 2 s read)."""
        from ml_client.settings import EndpointSettings  # lazily: importing the fake stays cheap

        values: dict[str, Any] = {
            "scoring_uri": self.url, "api_key": self.api_key, "connect_timeout": 2.0,
            "read_timeout": 2.0, "max_attempts": 3, "backoff_factor": 0.001, "backoff_max": 0.01,
            "backoff_jitter": 0.0, "total_deadline": 10.0, "max_retry_after": 5.0,
            "breaker_threshold": 3, "breaker_cooldown": 60.0}
        values.update(overrides)
        return EndpointSettings(**values)

    def env(self, **extra: str) -> dict[str, str]:
        """The AZURE_ML_* variables that point the product at this server."""
        return {"AZURE_ML_ENDPOINT_URL": self.url, "AZURE_ML_API_KEY": self.api_key, **extra}

    # -- serving --

    def _handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        record = RecordedRequest(handler.command, handler.path.split("?")[0], headers, body,
                                 time.monotonic(), uuid.uuid4().hex)
        with self._lock:
            self._requests.append(record)
            authorised = headers.get("authorization") in {f"Bearer {t}" for t in self._tokens}
        deployment = headers.get("azureml-model-deployment")
        if record.path != SCORE_PATH:
            reply = Reply.error(404, "Not Found")
        elif record.method != "POST":
            reply = Reply.error(405, "Method Not Allowed")
        elif not authorised:
            reply = Reply.error(401, "Unauthorized: a valid key or token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        elif self.deployments is not None and deployment and deployment not in self.deployments:
            reply = Reply.error(404, f"deployment {deployment} not found")
        else:
            with self._lock:
                queued = self._queue.popleft() if self._queue else None
            reply = queued or (self.default if isinstance(self.default, Reply) else self.default(record))
        try:
            self._send(handler, reply, record.request_id, deployment or self.served_by)
        except (ConnectionError, TimeoutError):
            handler.close_connection = True  # the client gave up (read timeout, cap): fine

    def _send(self, handler: _Handler, reply: Reply, request_id: str, deployment: str) -> None:
        if (reply.delay and self._stopping.wait(reply.delay)) or reply.drop:
            handler.close_connection = True
            return
        payload = reply.body if reply.truncate_to is None else reply.body[: reply.truncate_to]
        if reply.dribble_headers:
            self._dribble_headers(handler, reply)
            return
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("x-request-id", request_id)
        handler.send_header("azureml-model-deployment", deployment)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        if reply.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        elif reply.close_delimited:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        else:
            handler.send_header("Content-Length", str(len(reply.body)))
        if reply.truncate_to is not None:
            handler.close_connection = True
        handler.end_headers()
        if reply.dribble:
            for i in range(len(payload)):
                handler.wfile.write(payload[i:i + 1])
                if self._stopping.wait(reply.dribble):
                    break
            handler.close_connection = True
        elif reply.chunked:
            for start in range(0, len(payload), 65536):
                part = payload[start:start + 65536]
                handler.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            handler.wfile.write(b"0\r\n\r\n")
        else:
            handler.wfile.write(payload)

    def _dribble_headers(self, handler: _Handler, reply: Reply) -> None:
        """A status line and a hundred padding headers, one byte per interval (then the body)."""
        head = (f"HTTP/1.1 {reply.status} OK\r\nContent-Type: {reply.content_type}\r\n"
                + "".join(f"x-padding-{i}: {'z' * 20}\r\n" for i in range(100))
                + f"Content-Length: {len(reply.body)}\r\n\r\n").encode()
        handler.close_connection = True
        for i in range(len(head)):
            handler.wfile.write(head[i:i + 1])
            handler.wfile.flush()
            if self._stopping.wait(reply.dribble_headers):
                return
        handler.wfile.write(reply.body)


@pytest.fixture
def fake_azureml() -> Iterator[FakeAzureML]:
    """A started FakeAzureML, stopped after the test."""
    with FakeAzureML() as server:
        yield server
