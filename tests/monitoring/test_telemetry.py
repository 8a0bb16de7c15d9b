"""Logs are JSON with context ids, and secrets never reach the output."""

from __future__ import annotations

import io
import json
import logging

import pytest

from monitoring.telemetry import JsonFormatter, Redactor, log_context

DB_KEY = "9f2c4b1e7a3d5f60c8b2e4a6d1f3c5e7a9b0d2f4e6a8c0b2d4f6e8a0c2e4f6a8"
API_KEY = "azml-3kJ9vQ2xL7pR8tW1yZ4bN6mC0dF5gH"
CONNECTION = ("InstrumentationKey=11111111-2222-3333-4444-555555555555;"
              "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/")
PASSWORD = "Tr0ub4dor&3-horse"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"


@pytest.fixture
def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(Redactor([DB_KEY, API_KEY, PASSWORD])))
    logger = logging.getLogger("test.telemetry")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_secrets_in_messages_extras_and_exceptions_are_redacted(capture) -> None:
    logger, stream = capture
    logger.info("opening store with key %s", DB_KEY)
    logger.warning("calling endpoint", extra={"headers": {"Authorization": f"Bearer {API_KEY}"},
                                              "api_key": API_KEY, "note": f"key={API_KEY}"})
    logger.error("telemetry configured: %s", CONNECTION)
    logger.info("user login", extra={"password": PASSWORD, "detail": f"password={PASSWORD}"})
    logger.info("token %s and header Authorization: Bearer %s", JWT, "opaque-token-value-123")
    try:
        raise RuntimeError(f"PRAGMA key = \"x'{DB_KEY}'\" failed with {PASSWORD}")
    except RuntimeError:
        logger.exception("crash")
    output = stream.getvalue()
    for secret in (DB_KEY, API_KEY, PASSWORD, "11111111-2222-3333-4444-555555555555", JWT,
                   "opaque-token-value-123"):
        assert secret not in output
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 6
    assert lines[1]["api_key"] == "***" and lines[1]["headers"]["Authorization"] == "***"
    assert "westeurope-5" in lines[2]["msg"]  # the harmless part of the string stays readable


def test_unknown_secrets_are_caught_by_shape(capture) -> None:
    logger, stream = capture
    logger.info("AccountKey=abcdEFGH1234==;EndpointSuffix=core.windows.net client_secret: s3cr3t!")
    output = stream.getvalue()
    assert "abcdEFGH1234" not in output and "s3cr3t!" not in output
    assert "EndpointSuffix=core.windows.net" in output


def test_lines_carry_the_cycle_id(capture) -> None:
    logger, stream = capture
    with log_context(cycle_id="c0ffee"):
        logger.info("inside")
    logger.info("outside")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["cycle_id"] == "c0ffee" and first["msg"] == "inside"
    assert "cycle_id" not in second
    assert first["level"] == "INFO" and first["ts"].endswith("Z")


def test_replayed_cycles_log_only_warnings_and_errors() -> None:
    from monitoring.telemetry import QuietReplayFilter

    quiet = QuietReplayFilter()

    def passes(level: int) -> bool:
        return quiet.filter(logging.LogRecord("monitoring.ingest", level, __file__, 1, "m", None, None))

    with log_context(cycle_kind="replay"):
        assert [passes(lv) for lv in (logging.DEBUG, logging.INFO, logging.WARNING)] == [False, False, True]
    with log_context(cycle_kind="scheduled"):
        assert passes(logging.INFO)


def test_a_backtest_inside_the_app_keeps_the_apps_log_level(monitor) -> None:
    """replay() opens a scratch monitor; it used to reset the whole process to WARNING."""
    from datetime import UTC, datetime, timedelta

    from monitoring.replay import replay

    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.INFO)
    try:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        pulls = {start + timedelta(hours=h): [{"x_gb": 1.0 + h % 3}] for h in range(3)}
        replay(pulls, ["x_gb"])
        assert root.level == logging.INFO
    finally:
        root.setLevel(before)
