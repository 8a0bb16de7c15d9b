"""Results are JSON-ready: severities, kind verdicts and the drift-run round trip."""

from __future__ import annotations

import json
import math

from monitoring.drift import FieldCheck, MethodResult
from monitoring.drift.results import severity_for, worst


def test_severity_cuts_and_worst() -> None:
    assert [severity_for(e, (0.1, 0.3)) for e in (0.05, -0.1, 0.29, 0.3, None, math.nan)] == [
        "info", "warning", "warning", "critical", "info", "info"]
    assert worst([None, "info", "critical", "warning"]) == "critical"
    assert worst([None]) is None


def test_non_finite_numbers_become_null() -> None:
    data = MethodResult("ks", "drift", math.inf, math.nan, False).to_dict()
    assert data["statistic"] is None and data["threshold"] is None
    json.dumps(data, allow_nan=False)


def test_field_check_round_trips_through_json() -> None:
    methods = [MethodResult("ks", "drift", 0.4, 0.2, True, 0.4, 0.001, "critical", details={"n": 3}),
               MethodResult.skip("mann_kendall", "trend", "trend window filling: 3/72 pulls")]
    check = FieldCheck.make("archived_gb_predicted", 1_767_225_600.0, methods, 20)
    again = FieldCheck.from_dict(json.loads(json.dumps(check.to_dict())))
    assert again == check
    assert check.drifted and check.severity == "critical"
    assert check.kind("drift").methods == ("ks",) and not check.kind("trend").drifted


def test_a_skipped_check_keeps_its_reason_and_flags_nothing() -> None:
    check = FieldCheck.skipped("f", 10.0, "reference needs 168 rows over 7 days")
    assert check.status == "skipped" and not check.drifted
    assert check.to_dict()["reason"] == "reference needs 168 rows over 7 days"
