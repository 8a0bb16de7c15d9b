"""What a real cycle, logins and settings send, as the SDK's envelopes on a loopback
ingestion endpoint: names with the iKey, item types, properties, and no secrets."""

from __future__ import annotations

import json
import logging
import re

from monitoring.actors import Actor
from monitoring.detection import DriftService
from monitoring.endpoint import EndpointSource
from monitoring.errors import StoreError
from monitoring.pipeline import Pipeline
from monitoring.settings import SPECS
from monitoring.sources import MockSource
from tests.conftest import ADMIN_PASSWORD, COOKIE_KEY
from tests.fakes.azureml_server import Reply
from tests.fakes.ingestion_server import IKEY
from tests.support import secret_scan

ADMIN = Actor("admin", "admin")
QUERY_SECRET = "query-code-3f9a1c77e2"
WEBHOOK_SECRET = "T0AAA/B0BBB/whsecret5e8c2d"
NAME = re.compile(r"^Microsoft\.ApplicationInsights\.0f8fad5bd9cb469fa16570867728950e\."
                  r"(Event|Metric|RemoteDependency|Exception|Message)$")


class FailingDetector:
    """A detector whose store write fails with the key in the driver's message."""

    def __init__(self, key: str) -> None:
        self.key = key

    def run(self, now, settings, budget=None):
        raise StoreError(f"database write failed: PRAGMA key = \"{self.key}\" rejected")


def test_a_cycle_sends_events_metrics_dependencies_and_exceptions_without_secrets(
        wired, ingestion, telemetry_for, db_key) -> None:
    secret_scan.register(QUERY_SECRET, WEBHOOK_SECRET)
    monitor = wired.monitor
    telemetry = telemetry_for(monitor.config, ingestion.connection_string())
    uri = wired.server.url + f"?code={QUERY_SECRET}"  # a credential in the query string
    source = EndpointSource(wired.server.settings(scoring_uri=uri), monitor.settings.effective,
                            breaker_clock=wired.breaker_clock)
    pipeline = Pipeline(monitor, source, detector=DriftService(monitor),
                        breaker_state=source.breaker_state)

    assert pipeline.run_cycle(wired.clock(), "scheduled").pull.outcome == "ok"
    wired.server.default = Reply.error(503, "upstream busy")
    for _ in range(3):  # three failed pulls open the endpoint_failing alert
        wired.clock.advance(hours=1)
        pipeline.run_cycle(wired.clock(), "scheduled")
    wired.clock.advance(hours=1)
    failing = Pipeline(monitor, MockSource(), detector=FailingDetector(db_key.reveal()))
    failing.run_cycle(wired.clock(), "manual")
    monitor.settings.update(ADMIN, {"pull_interval_minutes": 30})
    secret_specs = [spec.key for spec in SPECS if spec.secret]
    for key in secret_specs:
        monitor.settings.update(ADMIN, {key: f"https://hooks.example.com/services/{WEBHOOK_SECRET}"})
    users = monitor.user_service()
    users.login("no-such-user", ADMIN_PASSWORD)  # a username box holding a password
    for _ in range(5):
        users.login("admin", "wrong-password")
    try:
        raise RuntimeError(f"unexpected reply with Bearer {wired.server.api_key}")
    except RuntimeError:
        logging.getLogger("monitoring.test").exception("scoring reply crashed the parser")

    assert telemetry.flush(10), telemetry.stats()
    payload_file = ingestion.save("cycle-events")
    envelopes = ingestion.envelopes
    assert envelopes and all(NAME.match(e["name"]) for e in envelopes), {e["name"] for e in envelopes}
    assert {e["iKey"] for e in envelopes} == {IKEY}
    assert {e["tags"]["ai.cloud.role"] for e in envelopes} == {"prediction-monitor"}

    named = {}
    for e in ingestion.of_type("Event"):
        named.setdefault(e["data"]["baseData"]["name"], []).append(e["data"]["baseData"])
    assert {"pull", "cycle", "drift_check", "alert_opened", "settings_changed", "login_failed",
            "account_locked"} <= set(named)
    pull = named["pull"][0]
    assert pull["properties"]["outcome"] == "ok" and pull["measurements"]["rows_stored"] == 20
    assert {p["properties"]["outcome"] for p in named["pull"]} >= {"ok", "fallback"}
    assert named["cycle"][0]["properties"]["cycle_id"]  # correlates with the JSON logs
    assert any(a["properties"]["kind"] == "endpoint_failing" for a in named["alert_opened"])
    reasons = {e["properties"]["reason"]: e["properties"] for e in named["login_failed"]}
    assert "user" not in reasons["unknown_user"] and reasons["bad_password"]["user"] == "admin"
    assert named["account_locked"][0]["properties"]["user"] == "admin"
    changes = [json.loads(e["properties"]["changes"]) for e in named["settings_changed"]]
    assert {"pull_interval_minutes": [60, 30]} in changes
    for key in secret_specs:
        assert {key: ["***", "***"]} in changes

    metrics = {m["data"]["baseData"]["metrics"][0]["name"] for m in ingestion.of_type("Metric")}
    assert {"pull_latency_ms", "pull_rows_stored", "pull_rows_rejected", "cycle_duration_ms",
            "cycle_rows_stored", "drift_check_ms"} <= metrics

    calls = [d["data"]["baseData"] for d in ingestion.of_type("RemoteDependency")]
    assert len(calls) == 4
    target = f"127.0.0.1:{wired.server.port}"
    assert {(c["name"], c["target"], c["type"]) for c in calls} == {("POST /score", target, "HTTP")}
    assert [(c["resultCode"], c["success"]) for c in calls] == [("200", True)] + [("503", False)] * 3
    assert [c["properties"]["attempts"] for c in calls[1:]] == ["3"] * 3
    assert all("?" not in c["data"] and c["data"].endswith("/score") for c in calls)

    exceptions = [x["data"]["baseData"] for x in ingestion.of_type("Exception")]
    store_failure = next(x for x in exceptions if x["properties"].get("event") == "cycle_step_failed")
    assert store_failure["exceptions"][0]["typeName"] == "StoreError"
    assert store_failure["properties"]["step"] == "detect"
    assert store_failure["exceptions"][0]["parsedStack"]  # with the stack from the pipeline
    logged = next(x for x in exceptions if x["properties"].get("logger") == "monitoring.test")
    assert logged["exceptions"][0]["typeName"] == "RuntimeError"

    raw = payload_file.read_text()
    for secret in (db_key.reveal(), ADMIN_PASSWORD, COOKIE_KEY, wired.server.api_key, QUERY_SECRET,
                   WEBHOOK_SECRET):
        assert secret not in raw


def test_backfill_and_replay_cycles_are_not_sent(monitor, ingestion, telemetry_for, clock) -> None:
    telemetry = telemetry_for(monitor.config, ingestion.connection_string())
    pipeline = Pipeline(monitor, MockSource(), detector=DriftService(monitor))
    for _ in range(3):
        pipeline.run_cycle(clock(), "backfill")
        clock.advance(hours=1)
    pipeline.run_cycle(clock(), "replay")
    assert telemetry.flush(5) and ingestion.envelopes == []
    pipeline.run_cycle(clock(), "scheduled")
    assert telemetry.flush(5)
    names = {e["data"]["baseData"].get("name") for e in ingestion.of_type("Event")}
    assert {"pull", "cycle"} <= names


def test_an_alert_resolved_by_clean_pulls_is_sent(wired, ingestion, telemetry_for) -> None:
    telemetry = telemetry_for(wired.monitor.config, ingestion.connection_string())
    wired.monitor.settings.update(ADMIN, {"resolve_after_clean_checks": 2})
    wired.server.default = Reply.error(503, "upstream busy")
    for _ in range(3):
        wired.pipeline.run_cycle(wired.clock(), "scheduled")
        wired.clock.advance(hours=1)
    wired.server.default = Reply.rows(5)
    wired.breaker_clock.t += 61  # past the breaker's cooldown
    for _ in range(2):
        assert wired.pipeline.run_cycle(wired.clock(), "scheduled").pull.outcome == "ok"
        wired.clock.advance(hours=1)
    assert telemetry.flush(10), telemetry.stats()
    ingestion.save("alert-resolved")
    named = {}
    for e in ingestion.of_type("Event"):
        named.setdefault(e["data"]["baseData"]["name"], []).append(e["data"]["baseData"]["properties"])
    opened = [p for p in named["alert_opened"] if p["kind"] == "endpoint_failing"]
    resolved = [p for p in named.get("alert_resolved", []) if p["kind"] == "endpoint_failing"]
    assert len(opened) == 1 and len(resolved) == 1
    assert resolved[0]["alert_id"] == opened[0]["alert_id"]
