"""APPLICATIONINSIGHTS_CONNECTION_STRING -> instrumentation key and ingestion URL.

applicationinsights 0.11.10 predates connection strings and always posts to the global
endpoint, which regional and sovereign resources (Azure China, US Government) reject
or route badly. So the string is parsed here, following Microsoft's rules: an explicit
``IngestionEndpoint`` wins; else ``EndpointSuffix`` (with an optional ``Location``)
gives ``https://[location.]dc.<suffix>/``; else the global default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitoring.errors import ConfigError

DEFAULT_INGESTION = "https://dc.services.visualstudio.com/"
TRACK_PATH = "v2/track"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_IKEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_LABEL = re.compile(r"^[A-Za-z0-9.-]{1,253}$")
VARIABLE = "APPLICATIONINSIGHTS_CONNECTION_STRING"


@dataclass(frozen=True)
class IngestionTarget:
    """Where telemetry goes. ``repr`` never shows the key."""

    instrumentation_key: str
    ingestion_endpoint: str

    def __repr__(self) -> str:
        return f"IngestionTarget(ikey='***', ingestion_endpoint={self.ingestion_endpoint!r})"

    @property
    def track_url(self) -> str:
        """The SDK's sender URL: the ingestion endpoint + ``v2/track``."""
        return self.ingestion_endpoint + TRACK_PATH

    @property
    def envelope_key(self) -> str:
        """The key as envelope names carry it (no dashes, lower case)."""
        return self.instrumentation_key.replace("-", "").lower()


def _check_endpoint(url: str) -> str:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not host or parts.query or parts.fragment or not (
            parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)):
        raise ConfigError(f"{VARIABLE}: IngestionEndpoint must be an https:// address (copy the "
                          "whole connection string from the Application Insights overview page)")
    return url.strip().rstrip("/") + "/"


def parse_connection_string(text: str) -> IngestionTarget:
    """The key and ingestion endpoint; ConfigError (without the key) when malformed."""
    pairs: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise ConfigError(f"{VARIABLE} is not a list of Name=value pairs separated by ';'; "
                              "copy it again from the Application Insights overview page")
        pairs[name.strip().lower()] = value.strip()
    ikey = pairs.get("instrumentationkey", "")
    if not _IKEY.match(ikey):
        raise ConfigError(f"{VARIABLE} has no valid InstrumentationKey; copy the whole connection "
                          "string from the Application Insights overview page")
    if pairs.get("ingestionendpoint"):
        endpoint = _check_endpoint(pairs["ingestionendpoint"])
    elif pairs.get("endpointsuffix"):
        suffix, location = pairs["endpointsuffix"].strip("."), pairs.get("location", "").strip(".")
        if not _LABEL.match(suffix) or (location and not _LABEL.match(location)):
            raise ConfigError(f"{VARIABLE}: EndpointSuffix/Location are not host names")
        endpoint = f"https://{location + '.' if location else ''}dc.{suffix}/"
    else:
        endpoint = DEFAULT_INGESTION
    return IngestionTarget(ikey, endpoint)
