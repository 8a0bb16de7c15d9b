"""EndpointSettings: defaults, checks, masking, and from_env."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml_client.settings import (
    DEFAULT_FIELD_MAPPING,
    EndpointSettings,
    from_env,
    identity_mapping,
)
from monitoring.errors import ConfigError
from monitoring.secret import Secret

URL = "https://my-endpoint.westeurope.inference.ml.azure.com/score"


def test_defaults_are_production_sane():
    s = EndpointSettings(URL)
    assert (s.connect_timeout, s.read_timeout, s.max_attempts) == (5.0, 60.0, 4)
    assert (s.breaker_threshold, s.breaker_cooldown) == (3, 900.0)
    assert s.max_response_bytes == 50 * 1024 * 1024
    assert s.api_key is None and s.deployment is None
    assert dict(s.field_mapping) == dict(DEFAULT_FIELD_MAPPING)
    assert json.loads(s.request_bytes()) == {"input_data": {"columns": [], "index": [], "data": []}}


def test_api_key_is_wrapped_and_masked():
    s = EndpointSettings(URL, api_key="super-secret-key")
    assert isinstance(s.api_key, Secret) and s.api_key.reveal() == "super-secret-key"
    assert "super-secret-key" not in repr(s) and "super-secret-key" not in str(s)
    assert EndpointSettings(URL, api_key=" ").api_key is None


@pytest.mark.parametrize("url", ["http://example.com/score", "ftp://x/score", "score", "https:///score"])
def test_plain_http_is_refused_except_on_loopback(url):
    with pytest.raises(ConfigError, match="https://"):
        EndpointSettings(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/score", "http://localhost/score",
                                 "http://[::1]:9/score"])
def test_loopback_http_is_accepted(url):
    assert EndpointSettings(url).scoring_uri == url


@pytest.mark.parametrize("field, value", [
    ("read_timeout", 0), ("connect_timeout", -1), ("total_deadline", float("nan")),
    ("max_attempts", 0), ("max_attempts", 2.5), ("breaker_threshold", True),
    ("backoff_factor", -0.1), ("max_response_bytes", 0), ("request_body", "text"),
    ("request_body", {"x": float("inf")}), ("field_mapping", {}),
    ("field_mapping", {"a": "x", "b": "x"}), ("field_mapping", {"a": ""}), ("api_key", 42),
])
def test_bad_values_are_config_errors_naming_the_field(field, value):
    with pytest.raises(ConfigError) as caught:
        EndpointSettings(URL, **{field: value})
    assert field in str(caught.value)


def test_identity_mapping_adds_fields():
    mapping = identity_mapping("queue_depth")
    assert mapping["queue_depth"] == "queue_depth" and "archived_gb_predicted" in mapping


def test_from_env_without_url_is_demo_mode():
    assert from_env({}) is None
    assert from_env({"AZURE_ML_ENDPOINT_URL": "  "}) is None


def test_from_env_reads_every_variable(tmp_path: Path):
    request = tmp_path / "request.json"
    request.write_text('{"input_data": {"data": [[1, 2]]}}', encoding="utf-8")
    s = from_env({"AZURE_ML_ENDPOINT_URL": URL, "AZURE_ML_API_KEY": "k", "AZURE_ML_DEPLOYMENT": "blue",
                  "AZURE_ML_REQUEST_FILE": str(request), "AZURE_ML_TIMEOUT_SECONDS": "12.5"},
                 max_attempts=2)
    assert s is not None
    assert (s.scoring_uri, s.api_key.reveal(), s.deployment, s.read_timeout, s.max_attempts) == (
        URL, "k", "blue", 12.5, 2)
    assert s.request_body == {"input_data": {"data": [[1, 2]]}}


@pytest.mark.parametrize("value, words", [("sixty", "not a number"), ("0", "out of range"),
                                          ("601", "out of range"), ("nan", "out of range")])
def test_from_env_bad_timeout(value, words):
    with pytest.raises(ConfigError, match=words) as caught:
        from_env({"AZURE_ML_ENDPOINT_URL": URL, "AZURE_ML_TIMEOUT_SECONDS": value})
    assert "AZURE_ML_TIMEOUT_SECONDS" in str(caught.value)


def test_from_env_bad_request_files(tmp_path: Path):
    env = {"AZURE_ML_ENDPOINT_URL": URL}
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    scalar = tmp_path / "scalar.json"
    scalar.write_text("42", encoding="utf-8")
    for path, words in ((tmp_path / "missing.json", "cannot be read"), (tmp_path, "cannot be read"),
                        (broken, "not valid JSON"), (scalar, "object or array")):
        with pytest.raises(ConfigError, match=words) as caught:
            from_env({**env, "AZURE_ML_REQUEST_FILE": str(path)})
        assert "AZURE_ML_REQUEST_FILE" in str(caught.value)


def test_from_env_bad_url_names_the_variable():
    with pytest.raises(ConfigError, match="AZURE_ML_ENDPOINT_URL"):
        from_env({"AZURE_ML_ENDPOINT_URL": "http://my-endpoint.azure.com/score"})


def test_from_env_key_never_in_errors():
    with pytest.raises(ConfigError) as caught:
        from_env({"AZURE_ML_ENDPOINT_URL": URL, "AZURE_ML_API_KEY": "s3cr3t",
                  "AZURE_ML_TIMEOUT_SECONDS": "x"})
    assert "s3cr3t" not in str(caught.value)


def test_the_package_imports_neither_streamlit_nor_azure_identity_eagerly():
    import subprocess
    import sys

    code = ("import sys, ml_client, ml_client.client, ml_client.mapping; "
            "print('streamlit' in sys.modules, 'azure.identity' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["False", "False"]
