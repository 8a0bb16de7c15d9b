"""The detector state survives JSON exactly: a stored state gives the identical next check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monitoring.drift import DetectorState, initial_state, update
from monitoring.drift.state import thin
from tests.monitoring.drift.streams import batched, hours


def test_thin_keeps_evenly_spaced_order_statistics() -> None:
    values = np.arange(10.0)[::-1] / 3
    assert thin(values, 20).tolist() == np.round(np.arange(10.0) / 3, 4).tolist()
    # cap 5 of 10 sorted values: ranks (i + .5) * 10 / 5 = 1, 3, 5, 7, 9
    assert thin(np.arange(10.0), 5).tolist() == [1.0, 3.0, 5.0, 7.0, 9.0]


@pytest.mark.parametrize("which", ["iid_ref", "batch_ref"])
def test_round_trip_gives_the_identical_next_check(which: str, request: pytest.FixtureRequest) -> None:
    ref = request.getfixturevalue(which)
    model = ref.model
    batch = 1 if which == "iid_ref" else 100  # 100 rows a pull are thinned to 50 in the window
    rng = np.random.default_rng(8)
    n = model.config.window_pulls + 6
    t, x = batched(hours(n + 1, ref.next_time), np.full(n + 1, 101.0), batch, 5.0, rng)
    state = initial_state(model)
    for j in range(n):
        rows = slice(j * batch, (j + 1) * batch)
        state, _ = update(model, state, t[rows][0], x[rows])
    stored = DetectorState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert stored == state
    last = slice(n * batch, (n + 1) * batch)
    kept_state, kept_check = update(model, state, t[last][0], x[last])
    loaded_state, loaded_check = update(model, stored, t[last][0], x[last])
    assert loaded_check.to_dict() == kept_check.to_dict()
    assert loaded_state.to_dict() == kept_state.to_dict()
    assert kept_check.method("ks").skipped is None  # the window was full: every method ran
    if batch > 1:
        assert {len(w.values) for w in state.window} == {50}


def test_initial_state_starts_after_the_reference_with_zero_sums(iid_ref) -> None:
    state = initial_state(iid_ref.model)
    assert state.last_time == iid_ref.model.core.last_time
    assert state.sums == (0.0,) * 8 and state.pulls_seen == 0 and state.window == ()
