"""Rows -> pulls: grouping, ordering and the refusals that protect every statistic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from monitoring.drift import group_pulls
from monitoring.drift.pulls import Pulls, iso, parse_time, to_epoch_seconds
from monitoring.errors import ValidationError


def test_rows_sharing_a_time_form_one_pull_in_time_order() -> None:
    pulls = group_pulls([30.0, 10.0, 30.0, 20.0, 10.0], [5.0, 1.0, 6.0, 3.0, 2.0])
    assert pulls.times.tolist() == [10.0, 20.0, 30.0]
    assert pulls.offsets.tolist() == [0, 2, 3, 5]
    assert pulls.values.tolist() == [1.0, 2.0, 3.0, 5.0, 6.0]
    assert pulls.means().tolist() == [1.5, 3.0, 5.5]
    part = pulls.slice(1, 3)
    assert (part.offsets.tolist(), part.values.tolist()) == ([0, 1, 3], [3.0, 5.0, 6.0])


def test_pull_ids_split_rows_that_share_a_time_window() -> None:
    pulls = group_pulls([1.0, 1.5, 2.0, 2.5], [1.0, 2.0, 3.0, 4.0], pull_ids=[-1, -1, -2, -2])
    assert pulls.n_pulls == 2 and pulls.sizes.tolist() == [2, 2] and pulls.times.tolist() == [1.0, 2.0]


def test_refusals_say_what_to_do() -> None:
    with pytest.raises(ValidationError, match="2 timestamps but 3 values"):
        group_pulls([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match="no rows given"):
        group_pulls([], [])
    with pytest.raises(ValidationError, match="validate rows before drift checks"):
        group_pulls([1.0], [float("inf")])
    with pytest.raises(ValidationError, match="two pulls share a timestamp"):
        group_pulls([1.0, 1.0], [1.0, 2.0], pull_ids=[-1, -2])
    with pytest.raises(ValidationError, match="a pull has no rows"):
        Pulls.from_batches([1.0, 2.0], [np.ones(2), np.zeros(0)])


def test_timestamps_from_every_accepted_type_agree() -> None:
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    secs = moment.timestamp()
    plus_two = moment.astimezone(timezone(timedelta(hours=2)))
    assert to_epoch_seconds([moment, plus_two]).tolist() == [secs, secs]
    assert to_epoch_seconds(np.array(["2026-03-01T12:00"], dtype="datetime64[s]")).tolist() == [secs]
    assert to_epoch_seconds(secs).tolist() == [secs]
    with pytest.raises(ValidationError, match="has no timezone; use UTC"):
        to_epoch_seconds([datetime(2026, 3, 1)])
    with pytest.raises(ValidationError, match="expected a datetime"):
        to_epoch_seconds(["2026-03-01"])


def test_iso_and_parse_time_round_trip() -> None:
    assert iso(1_767_225_600.0) == "2026-01-01T00:00:00Z"
    assert parse_time("2026-01-01T00:00:00Z") == 1_767_225_600.0
    assert parse_time(5) == 5.0
