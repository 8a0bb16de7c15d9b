"""Jensen-Shannon distance against scipy.spatial.distance.jensenshannon (natural log)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from monitoring.drift import check_window
from monitoring.drift.jensen_shannon import js_distance
from monitoring.drift.psi import bin_proportions
from tests.monitoring.drift.streams import hours


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scipy_on_random_histograms(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(10)), rng.dirichlet(np.ones(10))
    assert js_distance(p, q) == pytest.approx(jensenshannon(p, q), rel=1e-10)


def test_normalises_counts_and_handles_empty_bins_like_scipy() -> None:
    p, q = [5.0, 0.0, 3.0, 2.0], [0.0, 4.0, 4.0, 2.0]
    assert js_distance(p, q) == pytest.approx(jensenshannon(p, q), rel=1e-10)


def test_disjoint_histograms_reach_the_bound_sqrt_ln2() -> None:
    assert js_distance([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.sqrt(math.log(2.0)))
    assert js_distance([0.3, 0.7], [0.3, 0.7]) == 0.0


def test_method_compares_reference_decile_bins(iid_ref) -> None:
    model = iid_ref.model
    rng = np.random.default_rng(4)
    t = hours(48, iid_ref.next_time)
    x = 102.0 + 5.0 * rng.standard_normal(t.size)
    resid = (x - model.core.level) / model.core.scale  # no profile, no AR term in this reference
    expected = jensenshannon(model.core.ref_props, bin_proportions(model.core.edges, resid))
    assert check_window(model, t, x).method("jensen_shannon").statistic == pytest.approx(expected, rel=1e-9)
