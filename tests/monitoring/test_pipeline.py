"""The cycle against a real loopback Azure ML server: store, quarantine, fallback, breaker."""

from __future__ import annotations

import time

import pytest
from azure.core.credentials import AccessToken

from monitoring.endpoint import EndpointSource
from monitoring.pipeline import Pipeline
from monitoring.store import Alerts, Predictions, Pulls, Rejected
from tests.fakes.azureml_server import Reply, seed_rows

ROW = {"archived_gb_predicted": 500.0, "savings_gb_predicted": 120.0, "confidence_interval": 0.9,
       "model_version": "v7"}


def _pulls(monitor):
    with monitor.store.read() as conn:
        return list(reversed(Pulls(conn).recent(0, 2**62)))


def _rejected(monitor):
    with monitor.store.read() as conn:
        return Rejected(conn).recent(0, 2**62)


def test_key_auth_and_deployment_header_reach_the_endpoint(wired) -> None:
    wired.monitor.settings.update(_admin(), {"endpoint_deployment": "blue"})
    report = wired.pipeline.run_cycle(wired.clock(), "manual")
    request = wired.server.last_request
    assert request.headers["authorization"] == f"Bearer {wired.server.api_key}"
    assert request.headers["azureml-model-deployment"] == "blue"
    assert report.pull.outcome == "ok" and report.pull.rows_stored == 20
    with wired.monitor.store.read() as conn:
        assert Predictions(conn).count_by_source() == {"azure_ml": 20}


@pytest.mark.parametrize("reply", [
    Reply.json([ROW, ROW]),
    Reply.json(ROW),
    Reply.json({"predictions": [ROW, ROW, ROW]}),
    Reply.wrapped([ROW, ROW]),
    Reply.wrapped({"predictions": [ROW]}, times=2),
], ids=["list", "object", "predictions", "string-wrapped", "double-wrapped"])
def test_reply_shapes_are_understood(wired, reply: Reply) -> None:
    wired.server.enqueue(reply)
    report = wired.pipeline.run_cycle(wired.clock(), "manual")
    assert report.pull.outcome == "ok" and report.pull.rows_stored >= 1
    assert report.pull.rows_rejected == 0


def test_repeated_pull_in_a_slot_stores_nothing_twice(wired) -> None:
    first = wired.pipeline.run_cycle(wired.clock(), "manual")
    wired.clock.advance(minutes=10)
    second = wired.pipeline.run_cycle(wired.clock(), "manual")
    assert (first.pull.rows_stored, second.pull.rows_stored) == (20, 0)
    wired.clock.advance(hours=1)
    assert wired.pipeline.run_cycle(wired.clock(), "manual").pull.rows_stored == 20


def test_429_with_retry_after_is_retried_after_the_wait(wired) -> None:
    wired.server.enqueue(Reply.error(429, headers={"Retry-After": "1"}))
    started = time.monotonic()
    report = wired.pipeline.run_cycle(wired.clock(), "manual")
    assert time.monotonic() - started >= 0.95
    (pull,) = _pulls(wired.monitor)
    assert (pull.outcome, pull.attempts, pull.rows_stored) == ("ok", 2, 20)
    assert report.pull.source == "azure_ml"


def test_503_is_retried_a_bounded_number_of_times_then_falls_back(wired) -> None:
    wired.server.enqueue(Reply.error(503), times=5)
    report = wired.pipeline.run_cycle(wired.clock(), "manual")
    (pull,) = _pulls(wired.monitor)
    assert wired.server.request_count == 3
    assert (pull.outcome, pull.source, pull.attempts, pull.http_status) == ("fallback", "mock", 3, 503)
    assert "503" in pull.error
    assert report.pull.rows_stored == 20  # simulated rows, labelled mock
    with wired.monitor.store.read() as conn:
        assert Predictions(conn).count_by_source() == {"mock": 20}
    assert wired.monitor.analysis_sources == ("azure_ml", "import")  # mock rows are never analysed


def test_fallback_can_be_switched_off(wired) -> None:
    wired.monitor.settings.update(_admin(), {"mock_fallback": False})
    wired.server.enqueue(Reply.error(503), times=5)
    wired.pipeline.run_cycle(wired.clock(), "manual")
    (pull,) = _pulls(wired.monitor)
    assert (pull.outcome, pull.rows_stored) == ("failed", 0)


def test_read_timeout_is_a_recorded_failure(wired) -> None:
    wired.server.enqueue(Reply.json([ROW], delay=1.5), times=3)
    wired.pipeline.run_cycle(wired.clock(), "manual")
    (pull,) = _pulls(wired.monitor)
    assert pull.outcome == "fallback" and "did not answer in time" in pull.error


def test_non_json_body_is_quarantined_without_a_traceback(wired, caplog) -> None:
    wired.server.enqueue(Reply.text("<html>502 Bad Gateway from a proxy</html>"))
    wired.pipeline.run_cycle(wired.clock(), "manual")
    (pull,) = _pulls(wired.monitor)
    assert pull.outcome == "fallback"
    (rejection,) = _rejected(wired.monitor)
    assert "Bad Gateway" in rejection["raw"] and "not" in rejection["reason"]
    assert not any(r.exc_info for r in caplog.records)


def test_bad_rows_are_quarantined_and_good_rows_of_the_same_pull_kept(wired) -> None:
    bad = [{**ROW, "archived_gb_predicted": None},
           {**ROW, "savings_gb_predicted": float("nan")},
           {**ROW, "confidence_interval": float("inf")},
           {**ROW, "archived_gb_predicted": "lots"},
           {k: v for k, v in ROW.items() if k != "savings_gb_predicted"},
           17]
    wired.server.enqueue(Reply.json([ROW, *bad, ROW]))
    report = wired.pipeline.run_cycle(wired.clock(), "manual")
    assert (report.pull.outcome, report.pull.rows_stored, report.pull.rows_rejected) == ("partial", 2, 6)
    reasons = sorted(r["reason"] for r in _rejected(wired.monitor))
    assert any("archived_gb_predicted' is missing" in r for r in reasons)
    assert any("finite" in r and "savings" in r for r in reasons)
    assert any("finite" in r and "confidence" in r for r in reasons)
    assert any("must be a number, got str" in r for r in reasons)
    assert any("not an object" in r for r in reasons)


def test_a_200k_row_reply_is_stored(wired) -> None:
    wired.server.enqueue(Reply.json(seed_rows(200_000)))
    started = time.perf_counter()
    report = wired.pipeline.run_cycle(wired.clock(), "manual")
    elapsed = time.perf_counter() - started
    assert report.pull.rows_stored == 200_000
    print(f"200,000 rows stored in one cycle in {elapsed:.1f} s")


def test_breaker_opens_fast_fails_probes_and_closes(wired) -> None:
    wired.server.enqueue(Reply.error(500), times=9)  # 3 pulls x 3 attempts
    for _ in range(3):
        wired.pipeline.run_cycle(wired.clock(), "manual")
        wired.clock.advance(hours=1)
    assert wired.source.breaker_state() == "open"
    seen = wired.server.request_count
    report = wired.pipeline.run_cycle(wired.clock(), "manual")  # fast fail: nothing sent
    assert wired.server.request_count == seen
    assert report.pull.outcome == "fallback" and "breaker" in report.pull.error.lower()
    with wired.monitor.store.read() as conn:
        kinds = {a.kind for a in Alerts(conn).unresolved()}
    assert {"breaker_open", "endpoint_failing"} <= kinds
    wired.breaker_clock.t += 61  # cool-down over: one half-open probe, which succeeds
    wired.clock.advance(hours=1)
    report = wired.pipeline.run_cycle(wired.clock(), "manual")
    assert report.pull.outcome == "ok" and wired.server.request_count == seen + 1
    assert wired.source.breaker_state() == "closed"


class FakeCredential:
    """Stands in for DefaultAzureCredential: hands out tokens and counts the calls."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("entra-token-abc", int(time.time()) + 3600)


def test_token_path_with_a_credential(wired) -> None:
    wired.server.accept_token("entra-token-abc")
    credential = FakeCredential()
    base = wired.server.settings(api_key=None)
    source = EndpointSource(base, wired.monitor.settings.effective, credential=credential)
    report = Pipeline(wired.monitor, source).run_cycle(wired.clock(), "manual")
    assert report.pull.outcome == "ok"
    assert wired.server.last_request.headers["authorization"] == "Bearer entra-token-abc"
    assert credential.scopes == [("https://ml.azure.com/.default",)]


def test_a_crash_while_storing_leaves_no_half_pull(wired, monkeypatch) -> None:
    from monitoring.errors import StoreError
    from monitoring.store import predictions

    def explode(self, *args, **kwargs):
        raise StoreError("disk vanished")

    monkeypatch.setattr(predictions.Predictions, "insert", explode)
    report = wired.pipeline.run_cycle(wired.clock(), "manual")
    assert report.pull is None and "disk vanished" in report.errors[0]
    assert _pulls(wired.monitor) == []


def _admin():
    from monitoring.actors import Actor

    return Actor("admin", "admin")


def test_a_rerun_of_a_slot_whose_pull_committed_does_not_pull_again(wired) -> None:
    """After a crash between the pull's commit and the end of the cycle, the lease frees the
    slot and a restart re-runs it: the stored pull is kept, nothing is fetched or stored twice."""
    first = wired.pipeline.run_cycle(wired.clock(), "scheduled")
    assert (first.pull.outcome, wired.server.request_count) == ("ok", 1)
    wired.clock.advance(minutes=20)  # same hourly slot
    again = wired.pipeline.run_cycle(wired.clock(), "scheduled")
    assert again.pull.pull_id == first.pull.pull_id and again.errors == []
    assert (again.pull_reused, again.new_rows, first.new_rows) == (True, (0, 0), (20, 0))
    assert wired.server.request_count == 1 and len(_pulls(wired.monitor)) == 1
    with wired.monitor.store.read() as conn:
        assert Predictions(conn).count_by_source() == {"azure_ml": 20}
    manual = wired.pipeline.run_cycle(wired.clock(), "manual")  # an operator's "pull now" still pulls
    assert manual.pull.pull_id != first.pull.pull_id and wired.server.request_count == 2


def test_a_slot_whose_pull_failed_is_tried_again(wired) -> None:
    wired.monitor.settings.update(_admin(), {"mock_fallback": False})
    wired.server.default = Reply.error(400, "bad request")
    assert wired.pipeline.run_cycle(wired.clock(), "scheduled").pull.outcome == "failed"
    wired.server.default = Reply.rows(5)
    assert wired.pipeline.run_cycle(wired.clock(), "scheduled").pull.outcome == "ok"
