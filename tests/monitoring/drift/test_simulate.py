"""The sieve bootstrap's AR filter equals scipy's lfilter."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from monitoring.drift.simulate import ar_filter


@pytest.mark.parametrize("phi", [[], [0.6], [0.5, -0.3], [0.2, 0.1, -0.05, 0.3]])
def test_ar_filter_equals_lfilter(phi: list[float]) -> None:
    e = np.random.default_rng(len(phi)).standard_normal((7, 500))
    phi_a = np.asarray(phi, dtype=float)
    expected = lfilter([1.0], np.concatenate(([1.0], -phi_a)), e, axis=1)
    np.testing.assert_allclose(ar_filter(e, phi_a), expected, rtol=1e-12, atol=1e-12)
