"""Azure ML scoring client: auth (key or Entra ID token), retries, circuit breaker, mapping.

Typical use::

    client = ScoringClient(EndpointSettings(scoring_uri=..., api_key=...))
    result = client.score()          # ScoreResult, or an EndpointError subclass
    client.breaker.snapshot()        # for /health/ready

Nothing here imports streamlit.
"""

from ml_client.auth import SCOPE, EndpointAuth, KeyAuth, TokenAuth, auth_for
from ml_client.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from ml_client.client import ScoreResult, ScoringClient
from ml_client.errors import (
    AuthError,
    BreakerOpenError,
    DeadlineExceeded,
    EndpointConnectionError,
    EndpointHTTPError,
    EndpointNotFoundError,
    EndpointTimeout,
    EndpointTLSError,
    MalformedResponseError,
    ModelError,
    ResponseTooLargeError,
)
from ml_client.mapping import Mapped, RejectedItem, map_payload, map_response
from ml_client.settings import (
    DEFAULT_FIELD_MAPPING,
    DEFAULT_REQUEST_BODY,
    EndpointSettings,
    from_env,
    identity_mapping,
    load_request_file,
)

__all__ = [
    "DEFAULT_FIELD_MAPPING", "DEFAULT_REQUEST_BODY", "SCOPE", "AuthError", "BreakerOpenError",
    "BreakerSnapshot", "BreakerState", "CircuitBreaker", "DeadlineExceeded", "EndpointAuth",
    "EndpointConnectionError", "EndpointHTTPError", "EndpointNotFoundError", "EndpointSettings",
    "EndpointTLSError", "EndpointTimeout", "KeyAuth", "MalformedResponseError", "Mapped",
    "ModelError", "RejectedItem", "ResponseTooLargeError", "ScoreResult", "ScoringClient",
    "TokenAuth", "auth_for", "from_env", "identity_mapping", "load_request_file", "map_payload",
    "map_response",
]
