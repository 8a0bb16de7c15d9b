"""Drift detection engine: pure statistics on numpy arrays -> frozen, JSON-ready results.

Typical use, per monitored field::

    ready = reference_readiness(group_pulls(times, values), config)   # enough data yet?
    model = fit_reference(times[:k], values[:k], config, rng, field=name)  # once; store model.to_dict()
    state = initial_state(model)                                       # store state.to_dict()
    state, check = update(model, state, pull_time, pull_values)       # every pull
    check.kinds -> alert signals (fingerprint field+kind); check.to_dict() -> drift run

Modules: one per method (``ks``, ``psi``, ``wasserstein``, ``jensen_shannon``,
``anomaly``, ``mann_kendall``, ``cusum``) listed in ``registry``; ``core`` (profile,
AR filter, residual distribution), ``calibration`` (thresholds and the meaning of
the false-alarm budget), ``reference``, ``detector``, ``episodes``, ``dashboard``.
"""

from monitoring.drift.calibration import Calibration
from monitoring.drift.config import DriftConfig
from monitoring.drift.detector import check_window, initial_state, update
from monitoring.drift.episodes import Episode, EpisodeEvent, EpisodeTracker
from monitoring.drift.pulls import Pulls, group_pulls
from monitoring.drift.reference import (
    InsufficientReferenceError,
    Readiness,
    ReferenceModel,
    fit_reference,
    reference_readiness,
    retarget,
)
from monitoring.drift.registry import REGISTRY, MethodSpec
from monitoring.drift.results import FieldCheck, KindVerdict, MethodResult
from monitoring.drift.state import DetectorState

__all__ = [
    "REGISTRY", "Calibration", "DetectorState", "DriftConfig", "Episode", "EpisodeEvent", "EpisodeTracker",
    "FieldCheck", "InsufficientReferenceError", "KindVerdict", "MethodResult", "MethodSpec", "Pulls",
    "Readiness", "ReferenceModel", "check_window", "fit_reference", "group_pulls", "initial_state",
    "reference_readiness", "retarget", "update",
]
