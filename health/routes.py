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

from health.checker import UNHEALTHY, HealthStatus
from health.service import HealthService

NO_STORE = {"Cache-Control": "no-store"}


def _code(status: HealthStatus) -> int:
    return 503 if status.status == UNHEALTHY else 200


def health_routes(service: Callable[[], HealthService | None],
                  metrics: Callable[[], str] | None = None) -> list[Route]:
    """Routes bound to a HealthService getter (the lifespan creates the service)."""

    async def liveness(request: Request) -> Response:
        svc = service()
        if svc is None:
            return JSONResponse({"status": "starting"}, status_code=200, headers=NO_STORE)
        status = svc.cached()
        if status is None:
            status = await run_in_threadpool(svc.fresh)
        return JSONResponse({"status": status.status, "checked_at": status.to_dict()["checked_at"]},
                            status_code=_code(status), headers=NO_STORE)

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
        return JSONResponse(status.to_dict(), status_code=_code(status), headers=NO_STORE)

    routes = [Route("/health", liveness, methods=["GET", "HEAD"]),
              Route("/health/ready", readiness, methods=["GET", "HEAD"])]
    if metrics is not None:
        async def prometheus(request: Request) -> Response:
            text = await run_in_threadpool(metrics)
            return Response(text, media_type="text/plain; version=0.0.4", headers=NO_STORE)
        routes.append(Route("/metrics", prometheus, methods=["GET"]))
    return routes
