"""The explicit list of methods run on every field, in display order.

Each entry says what its statistic means (``higher_means_drift``: False for
p-values), its fallback threshold (used only when no calibration exists), its kind
(which alert it feeds), what input it needs, and its share of the per-field
false-alarm budget (``weight``; the shares sum to 1 -- Bonferroni across methods).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from monitoring.drift import anomaly, cusum, jensen_shannon, ks, mann_kendall, psi, wasserstein
from monitoring.drift.inputs import CheckInput
from monitoring.drift.results import MethodResult

MethodFn = Callable[[CheckInput, Mapping[str, Any], float | None, float, float], MethodResult]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    display_name: str
    kind: str
    higher_means_drift: bool
    default_threshold: float
    weight: float
    needs: str  # "cusum" | "window" | "trend"
    fn: MethodFn
    description: str = ""


REGISTRY: tuple[MethodSpec, ...] = (
    MethodSpec("cusum_location", "CUSUM: location", "drift", True, 12.0, 0.30, "cusum",
               cusum.method_for("cusum_location"),
               "Shift of the typical value (normal scores of the residuals)."),
    MethodSpec("cusum_scale", "CUSUM: spread", "drift", True, 12.0, 0.20, "cusum",
               cusum.method_for("cusum_scale"), "Variance up or down."),
    MethodSpec("cusum_shape", "CUSUM: shape", "drift", True, 12.0, 0.10, "cusum",
               cusum.method_for("cusum_shape"), "Skewness or tail weight (bimodal, skewed)."),
    MethodSpec("ks", "Kolmogorov-Smirnov", "drift", True, 0.3, 0.05, "window", ks.method,
               "Largest gap between reference and window CDFs."),
    MethodSpec("psi", "Population Stability Index", "drift", True, 0.25, 0.05, "window", psi.method,
               "Shift of mass between reference-decile bins."),
    MethodSpec("wasserstein", "Wasserstein (sd units)", "drift", True, 0.5, 0.05, "window",
               wasserstein.method, "Average distance values moved, in reference sd."),
    MethodSpec("jensen_shannon", "Jensen-Shannon distance", "drift", True, 0.2, 0.05, "window",
               jensen_shannon.method, "Symmetric, bounded divergence on reference-decile bins."),
    MethodSpec("anomaly_rate", "Outlier rate (robust z)", "anomaly", False, 1e-6, 0.10, "window",
               anomaly.method, "More |robust z| > cut than the reference's own rate allows."),
    MethodSpec("mann_kendall", "Mann-Kendall trend", "trend", False, 1e-6, 0.10, "trend",
               mann_kendall.method, "Monotone trend in pull means; Theil-Sen slope as effect."),
)

BY_NAME: Mapping[str, MethodSpec] = {spec.name: spec for spec in REGISTRY}
CUSUM_WEIGHTS = tuple(BY_NAME[name].weight / len(sides) for name, sides in cusum.SIDES.items()
                      for _ in sides)
DISTANCES = {"ks": 2, "psi": 1, "wasserstein": 2, "jensen_shannon": 2}  # name -> power of n_h scaling
PVALUE_METHODS = ("anomaly_rate", "mann_kendall")


def run_all(inp: CheckInput, overrides: Mapping[str, float], min_effect: Mapping[str, float]
            ) -> list[MethodResult]:
    """Every registered method on one input; a method whose input is missing is skipped with the reason."""
    out = []
    reasons = {"window": inp.window_reason, "trend": inp.trend_reason, "cusum": None}
    present = {"window": inp.window is not None, "trend": inp.trend is not None,
               "cusum": inp.cusum is not None}
    for spec in REGISTRY:
        if not present[spec.needs]:
            out.append(MethodResult.skip(spec.name, spec.kind, reasons[spec.needs] or "no input"))
            continue
        out.append(spec.fn(inp, inp.params.get(spec.name, {}), overrides.get(spec.name),
                           spec.default_threshold, min_effect[spec.name]))
    return out
