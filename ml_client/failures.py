"""Translate transport exceptions and non-2xx replies into EndpointErrors that say what to do.

requests wraps urllib3's ``MaxRetryError`` in its own exceptions, and not always in
the obvious one (a read timeout after retries arrives as ``requests.ConnectionError``),
so classification looks down the whole chain of causes instead of at the outer type.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import requests
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as Urllib3SSLError

from ml_client.errors import (
    AuthError,
    EndpointConnectionError,
    EndpointError,
    EndpointHTTPError,
    EndpointNotFoundError,
    EndpointTimeout,
    EndpointTLSError,
    ModelError,
)

MODEL_STATUS_HEADER = "ms-azureml-model-error-statuscode"
MODEL_REASON_HEADER = "ms-azureml-model-error-reason"
REQUEST_ID_HEADERS = ("x-request-id", "x-ms-request-id")


def cause_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the causes under requests' and urllib3's wrappers, outermost first."""
    chain = [exc]
    while len(chain) < 10:
        current = chain[-1]
        inner: Any = None
        if isinstance(current, MaxRetryError):
            inner = current.reason
        elif isinstance(current, requests.RequestException | ProtocolError) and current.args:
            inner = next((a for a in reversed(current.args) if isinstance(a, BaseException)), None)
        if inner is None:
            inner = current.__cause__ or current.__context__
        if not isinstance(inner, BaseException) or inner in chain:
            break
        chain.append(inner)
    return chain


def _tried(attempts: int, elapsed: float) -> str:
    return f"{attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.1f} s"


def transport_error(exc: BaseException, *, host: str, attempts: int, status: int | None,
                    elapsed: float, connect_timeout: float, read_timeout: float,
                    reading_body: bool = False) -> EndpointError:
    """The EndpointError for an exception raised while calling or reading the endpoint."""
    chain = cause_chain(exc)
    kind = type(chain[-1]).__name__

    def caused_by(*types: type[BaseException]) -> bool:
        return any(isinstance(link, types) for link in chain)

    tried = _tried(attempts, elapsed)
    if caused_by(Urllib3SSLError, ssl.SSLError, requests.exceptions.SSLError):
        return EndpointTLSError(
            f"TLS with {host} failed ({kind}) after {tried}; check that AZURE_ML_ENDPOINT_URL is the "
            "endpoint's https scoring URI and that the system's CA certificates are current",
            attempts=attempts, status=status)
    if caused_by(NewConnectionError):
        return EndpointConnectionError(
            f"could not connect to {host} ({kind}) after {tried}; check AZURE_ML_ENDPOINT_URL, that the "
            "endpoint exists, and the app's outbound network (VNet, firewall, private endpoint)",
            attempts=attempts, status=status)
    if caused_by(ConnectTimeoutError, requests.ConnectTimeout):
        return EndpointTimeout(
            f"could not connect to {host} within the {connect_timeout:g} s connect timeout after {tried}; "
            "check the app's outbound network and that the endpoint is running",
            attempts=attempts, status=status)
    if caused_by(ReadTimeoutError, socket.timeout, TimeoutError, requests.Timeout):
        where = "while sending its reply" if reading_body else "in time"
        return EndpointTimeout(
            f"the endpoint did not answer {where} (read timeout {read_timeout:g} s) after {tried}; the "
            "model may be overloaded or slow on this batch: scale the deployment, send a smaller "
            "request, or raise AZURE_ML_TIMEOUT_SECONDS", attempts=attempts, status=status)
    where = "the reply was cut short" if reading_body else "the connection broke before a reply"
    return EndpointConnectionError(
        f"{where} ({kind}) after {tried}; the endpoint may be restarting or overloaded: the next pull "
        "will try again", attempts=attempts, status=status)


def _excerpt(body: bytes, secrets: Iterable[str]) -> str:
    text = " ".join(body[:2048].decode("utf-8", errors="replace").split())[:200]
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def status_error(status: int, headers: Any, body: bytes, *, attempts: int, elapsed: float,
                 uses_token: bool, secrets: Iterable[str] = ()) -> EndpointError:
    """The EndpointError for a non-2xx reply (the last one, when it was retried)."""
    request_id = next((headers[h] for h in REQUEST_ID_HEADERS if headers.get(h)), None)
    said = _excerpt(body, secrets)
    said = f" The endpoint said: {said}" if said else ""
    ref = f" (request id {request_id})" if request_id else ""
    tried = _tried(attempts, elapsed)
    common = {"attempts": attempts, "request_id": request_id}
    if status in (401, 403):
        how = ("the managed identity's role on the endpoint (and that the endpoint's auth mode is "
               "aad_token)" if uses_token else "AZURE_ML_API_KEY (keys change when regenerated)")
        return AuthError(f"the endpoint rejected the credentials ({_reason(status)}){ref}; check "
                         f"AZURE_ML_API_KEY or the managed identity's role: here, {how}",
                         attempts=attempts, status=status, request_id=request_id)
    if status == 404:
        return EndpointNotFoundError(
            f"the endpoint answered {_reason(status)}{ref}; check AZURE_ML_ENDPOINT_URL (the full scoring "
            "URI, usually ending in /score) and AZURE_ML_DEPLOYMENT (an existing deployment name)",
            status=status, **common)
    if status == 424:
        model_status = headers.get(MODEL_STATUS_HEADER)
        model_reason = headers.get(MODEL_REASON_HEADER)
        detail = ", ".join(part for part in (
            f"model status {model_status}" if model_status else "",
            f"reason {' '.join(str(model_reason).split())[:200]!r}" if model_reason else "") if part)
        return ModelError(
            f"the model failed while scoring ({_reason(status)}{'; ' + detail if detail else ''}){ref}; "
            "not retried, because the same request usually fails the same way. Check the deployment's "
            "logs in Azure ML studio and that the request template matches the model's input."
            f"{said}", model_status=model_status, model_reason=model_reason, **common)
    if 300 <= status < 400:
        location = headers.get("Location", "?")
        return EndpointHTTPError(
            f"the endpoint redirected ({_reason(status)}) to {location}{ref}; set AZURE_ML_ENDPOINT_URL "
            "to the final scoring URI", status=status, **common)
    if status == 429:
        return EndpointHTTPError(
            f"the endpoint answered {_reason(status)} after {tried}{ref}; it is rate-limiting or has too "
            "many requests in flight: the next pull will try again. If it persists, raise the "
            f"deployment's instance count or max_concurrent_requests_per_instance.{said}",
            status=status, **common)
    if status == 408 or status >= 500:
        return EndpointHTTPError(
            f"the endpoint answered {_reason(status)} after {tried}{ref}; it may be scaling, overloaded "
            "or restarting: the next pull will try again. If it persists, check the deployment's "
            f"health and logs in Azure ML studio.{said}", status=status, **common)
    return EndpointHTTPError(
        f"the endpoint rejected the request ({_reason(status)}){ref}; check that the request template "
        f"(AZURE_ML_REQUEST_FILE) matches the model's input schema.{said}", status=status, **common)
