"""The Authorization header: the endpoint key, or an Entra ID token.

With ``AZURE_ML_API_KEY`` set the key is sent as a Bearer value. Without it the app
authenticates as itself (managed identity on App Service, a developer login locally)
through an azure-identity credential. Tokens are cached and refreshed shortly before
they expire, so an hourly pull costs no extra round trip to Entra ID.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import requests
from requests.auth import AuthBase

from ml_client.errors import AuthError
from monitoring.secret import Secret

SCOPE = "https://ml.azure.com/.default"
REFRESH_MARGIN_SECONDS = 300.0

log = logging.getLogger("ml_client.auth")


class TokenCredential(Protocol):
    """What we use of an azure-identity credential."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any: ...


class EndpointAuth(AuthBase):
    """A requests auth hook; as an ``auth=`` object it also keeps ~/.netrc from overriding us."""

    uses_token = False

    def header_value(self) -> str:
        raise NotImplementedError

    def invalidate(self) -> None:
        """Forget any cached credential (the endpoint rejected it)."""

    def secret_values(self) -> list[str]:
        """The key or cached token, so that callers can scrub them from echoed text."""
        return []

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.header_value()
        return request

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"


class KeyAuth(EndpointAuth):
    """``Authorization: Bearer <endpoint key>``."""

    def __init__(self, key: Secret | str) -> None:
        self._key = key if isinstance(key, Secret) else Secret(key)

    def header_value(self) -> str:
        return f"Bearer {self._key.reveal()}"

    def secret_values(self) -> list[str]:
        return [self._key.reveal()]


def _default_credential() -> TokenCredential:
    from azure.identity import DefaultAzureCredential  # slow import: only when a token is needed

    return DefaultAzureCredential()


class TokenAuth(EndpointAuth):
    """An Entra ID token for ``scope``, cached until ``refresh_margin`` seconds before expiry.

    ``credential`` defaults to ``DefaultAzureCredential``, created on first use; ``clock``
    returns epoch seconds (tokens carry an epoch ``expires_on``). Thread-safe.
    """

    uses_token = True

    def __init__(self, credential: TokenCredential | None = None, *, scope: str = SCOPE,
                 refresh_margin: float = REFRESH_MARGIN_SECONDS,
                 clock: Callable[[], float] = time.time,
                 credential_factory: Callable[[], TokenCredential] = _default_credential) -> None:
        self._credential = credential
        self._factory = credential_factory
        self._scope = scope
        self._margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_on = 0.0
        self.fetches = 0

    @property
    def expires_on(self) -> float | None:
        """Epoch expiry of the cached token, if any (for health pages)."""
        return self._expires_on if self._token else None

    def header_value(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires_on - self._margin:
                self._refresh(now)
            return f"Bearer {self._token}"

    def secret_values(self) -> list[str]:
        with self._lock:
            return [self._token] if self._token else []

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
            self._expires_on = 0.0

    def _refresh(self, now: float) -> None:
        try:
            if self._credential is None:
                self._credential = self._factory()
            access = self._credential.get_token(self._scope)
            token, expires_on = str(access.token), float(access.expires_on)
        except Exception as exc:
            # azure-identity raises several types (ClientAuthenticationError,
            # CredentialUnavailableError, ImportError...); every one means "no token".
            first_line = (str(exc).strip().splitlines() or [""])[0][:300]
            raise AuthError(
                f"could not get an Entra ID token for {self._scope} ({type(exc).__name__}: "
                f"{first_line}); set AZURE_ML_API_KEY, or give the app a managed identity with "
                "the 'AzureML Data Scientist' role (or a custom role allowing "
                "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action) "
                "on the endpoint") from exc
        if not token:
            raise AuthError("the credential returned an empty Entra ID token; check the managed "
                            "identity or set AZURE_ML_API_KEY")
        self._token, self._expires_on = token, expires_on
        self.fetches += 1
        log.info("Entra ID token for %s acquired; valid for %.0f s", self._scope, expires_on - now)


def auth_for(api_key: Secret | None, credential: TokenCredential | None = None,
             *, clock: Callable[[], float] = time.time) -> EndpointAuth:
    """Key auth when a key is set, else token auth through ``credential`` (or the default one)."""
    if api_key:
        return KeyAuth(api_key)
    return TokenAuth(credential, clock=clock)
