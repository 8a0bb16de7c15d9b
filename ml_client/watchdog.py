"""A hard stop for the part of a call that socket timeouts cannot bound.

A read timeout limits each ``recv``, not the whole status line and headers: a server
that dribbles its headers one byte at a time keeps http.client reading for as long as
it likes (a slow-loris reply held a 2-second call for 161 s). ``DeadlineAdapter``
builds its connections so that every socket it opens is known to a ``SocketWatch``;
the client arms the watch with the call's deadline, and when it fires the sockets are
shut down, the blocked read fails at once, and the client reports the call as timed
out. The body is bounded separately (client.py reads it in deadline-checked chunks).
"""

from __future__ import annotations

import logging
import socket
import threading
import weakref
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

log = logging.getLogger(__name__)


class SocketWatch:
    """The live sockets of one adapter, and a timer that shuts them down at a deadline."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._timer: threading.Timer | None = None
        self.fired = False

    def add(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.add(sock)
            late = self.fired
        if late:  # connected after the deadline: no point in waiting for a reply
            _shutdown(sock)

    def arm(self, seconds: float) -> None:
        """Fire after ``seconds`` (real time) unless disarmed first."""
        self.disarm()
        with self._lock:
            self.fired = False
            self._timer = threading.Timer(max(0.0, seconds), self.fire)
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        with self._lock:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)
        if sockets:
            log.debug("call deadline reached: shut down %d socket(s)", len(sockets))


def _shutdown(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also for an SSLSocket: it ends the TCP stream under the
    # TLS layer without touching the SSL object another thread is reading through.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _watched(base: type[HTTPConnection], watch: SocketWatch) -> type[HTTPConnection]:
    class Watched(base):  # type: ignore[valid-type, misc]
        def connect(self) -> None:
            super().connect()
            watch.add(self.sock)

    return Watched


class DeadlineAdapter(HTTPAdapter):
    """requests' HTTPAdapter whose connections (direct or through a proxy) are watched."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.watch = SocketWatch()
        super().__init__(*args, **kwargs)

    def _pool_classes(self) -> dict[str, type[HTTPConnectionPool]]:
        http = type("WatchedHTTPPool", (HTTPConnectionPool,),
                    {"ConnectionCls": _watched(HTTPConnection, self.watch)})
        https = type("WatchedHTTPSPool", (HTTPSConnectionPool,),
                     {"ConnectionCls": _watched(HTTPSConnection, self.watch)})
        return {"http": http, "https": https}

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes()

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if hasattr(manager, "pool_classes_by_scheme"):  # not for SOCKS managers
            manager.pool_classes_by_scheme = self._pool_classes()
        return manager

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.watch = SocketWatch()
        super().__setstate__(state)
