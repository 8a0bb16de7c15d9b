"""Connection strings -> ingestion URL: global, regional and sovereign clouds, legacy key."""

from __future__ import annotations

import pytest

from monitoring.appinsights import parse_connection_string
from monitoring.config import load_config
from monitoring.errors import ConfigError
from tests.fakes.ingestion_server import IKEY


@pytest.mark.parametrize(("text", "track_url"), [
    ("InstrumentationKey=00000000-0000-0000-0000-000000000001",
     "https://dc.services.visualstudio.com/v2/track"),
    ("InstrumentationKey=00000000-0000-0000-0000-000000000001;"
     "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;"
     "LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/",
     "https://westeurope-5.in.applicationinsights.azure.com/v2/track"),
    (" instrumentationkey = 00000000-0000-0000-0000-000000000001 ; "
     "ingestionendpoint = https://usgovvirginia-1.in.applicationinsights.azure.us ;",
     "https://usgovvirginia-1.in.applicationinsights.azure.us/v2/track"),
    ("InstrumentationKey=00000000-0000-0000-0000-000000000001;"
     "EndpointSuffix=applicationinsights.azure.cn",
     "https://dc.applicationinsights.azure.cn/v2/track"),
    ("InstrumentationKey=00000000-0000-0000-0000-000000000001;"
     "EndpointSuffix=applicationinsights.azure.cn;Location=chinaeast2",
     "https://chinaeast2.dc.applicationinsights.azure.cn/v2/track"),
], ids=["global-default", "regional", "us-gov-spaces-case", "china-suffix", "china-location"])
def test_connection_strings_give_the_ingestion_url(text: str, track_url: str) -> None:
    target = parse_connection_string(text)
    assert target.track_url == track_url
    assert target.instrumentation_key == "00000000-0000-0000-0000-000000000001"
    assert "0000-0000" not in repr(target)


@pytest.mark.parametrize("text", [
    "", "just-a-key-without-name", "IngestionEndpoint=https://x.in.applicationinsights.azure.com/",
    "InstrumentationKey=secret-ikey-1234;IngestionEndpoint=http://collector.example.com/",
    "InstrumentationKey=secret-ikey-1234;IngestionEndpoint=https://x.example.com/?sig=abc",
    "InstrumentationKey=secret-ikey-1234;EndpointSuffix=bad suffix",
])
def test_malformed_connection_strings_fail_without_echoing_the_key(text: str) -> None:
    with pytest.raises(ConfigError, match="APPLICATIONINSIGHTS_CONNECTION_STRING") as info:
        parse_connection_string(text)
    assert "secret-ikey-1234" not in str(info.value)


def test_the_legacy_instrumentation_key_variable_turns_telemetry_on(env) -> None:
    config = load_config({**env, "APPINSIGHTS_INSTRUMENTATIONKEY": IKEY})
    target = parse_connection_string(config.appinsights_connection_string.reveal())  # nothing sent
    assert (target.instrumentation_key, target.track_url) == (
        IKEY, "https://dc.services.visualstudio.com/v2/track")
    assert load_config(env).appinsights_connection_string is None  # off unless configured
