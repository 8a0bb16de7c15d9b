"""Starlette routes for App Service and operators: /health, /health/ready (no login).

Nothing here reveals a secret: checks carry states, times and counts only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from health.service import HealthService

NO_STORE = {"Cache-Control": "no-store"}


STARTING = b'{"status": "starting"}'


async def liveness_answer(svc: HealthService | None) -> tuple[int, bytes]:
    """(status code, body) of ``GET /health``: from the cache, computed once before the first."""
    if svc is None:
        return 200, STARTING
    answer = svc.liveness()
    if answer is None:
        await run_in_threadpool(svc.fresh)
        answer = svc.liveness()
    assert answer is not None
    return answer


class LivenessFirst:
    """ASGI middleware that answers ``GET``/``HEAD /health`` before Streamlit's middleware.

    st.App runs user middleware first; answering here skips Streamlit's session, gzip and
    path checks, about half of each ping's cost, so pings stay fast while a cycle and page
    scripts share the server's one GIL. Every other request passes through untouched.
    """

    def __init__(self, app: ASGIApp, service: Callable[[], HealthService | None]) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["path"] != "/health"
                or scope["method"] not in ("GET", "HEAD")):
            await self.app(scope, receive, send)
            return
        code, body = await liveness_answer(self.service())
        await send({"type": "http.response.start", "status": code, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})


def health_routes(service: Callable[[], HealthService | None],
                  metrics: Callable[[], str] | None = None) -> list[Route]:
    """Routes bound to a HealthService getter (the lifespan creates the service)."""

    async def liveness(request: Request) -> Response:
        code, body = await liveness_answer(service())
        return Response(body, status_code=code, media_type="application/json", headers=NO_STORE)

    async def readiness(request: Request) -> Response:
        svc = service()
        if svc is None:
            return JSONResponse({"status": "starting", "checks": []}, status_code=503,
                                headers=NO_STORE)
        status = await run_in_threadpool(svc.fresh)
        if request.query_params.get("probe") in ("1", "true"):
            probe = await run_in_threadpool(svc.probe)
            if probe is not None:
                status = replace(status, checks=(*status.checks, probe))
        return JSONResponse(status.to_dict(), status_code=status.http_status, headers=NO_STORE)

    routes = [Route("/health", liveness, methods=["GET", "HEAD"]),
              Route("/health/ready", readiness, methods=["GET", "HEAD"])]
    if metrics is not None:
        async def prometheus(request: Request) -> Response:
            text = await run_in_threadpool(metrics)
            return Response(text, media_type="text/plain; version=0.0.4", headers=NO_STORE)
        routes.append(Route("/metrics", prometheus, methods=["GET"]))
    return routes
