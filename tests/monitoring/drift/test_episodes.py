"""One alert per episode: dedup while open, escalation, hysteresis, skipped checks."""

from __future__ import annotations

from monitoring.drift import EpisodeTracker, FieldCheck, MethodResult
from monitoring.drift.episodes import step

FIELD = "archived_gb_predicted"
K = 3


def _check(at: float, drift: str | None = None, trend: str | None = None) -> FieldCheck:
    """A check at ``at`` whose drift / trend kind flags with the given severity (None = clean)."""
    methods = [MethodResult("ks", "drift", 0.5, 0.2, drift is not None, 0.5, severity=drift),
               MethodResult("mann_kendall", "trend", 1e-9, 1e-6, trend is not None, 0.3, severity=trend)]
    return FieldCheck.make(FIELD, at, methods, 1)


def _actions(events) -> list[tuple[str, str, str]]:
    return [(e.action, e.episode.kind, e.episode.severity) for e in events]


def test_repeats_update_one_episode_instead_of_opening_new_ones() -> None:
    tracker = EpisodeTracker(K)
    events = tracker.apply_all([_check(1, "warning"), _check(2, "warning"), _check(3, "warning")])
    assert _actions(events) == [("opened", "drift", "warning"), ("updated", "drift", "warning"),
                                ("updated", "drift", "warning")]
    episode = tracker.open[f"drift:{FIELD}:drift"]
    assert (episode.opened_at, episode.last_seen_at, episode.count) == (1, 3, 3)
    assert episode.fingerprint == f"drift:{FIELD}:drift"


def test_kinds_are_separate_fingerprints() -> None:
    tracker = EpisodeTracker(K)
    events = tracker.apply(_check(1, "warning", "info"))
    assert sorted(_actions(events)) == [("opened", "drift", "warning"), ("opened", "trend", "info")]
    assert len(tracker.open) == 2


def test_escalation_keeps_the_worst_severity() -> None:
    tracker = EpisodeTracker(K)
    events = tracker.apply_all([_check(1, "info"), _check(2, "critical"), _check(3, "warning")])
    assert _actions(events) == [("opened", "drift", "info"), ("escalated", "drift", "critical"),
                                ("updated", "drift", "critical")]


def test_resolves_after_k_clean_checks_and_a_flag_resets_the_streak() -> None:
    tracker = EpisodeTracker(K)
    checks = [_check(1, "warning"), _check(2), _check(3), _check(4, "warning"),  # streak reset at 4
              _check(5), _check(6)]
    assert _actions(tracker.apply_all(checks)) == [("opened", "drift", "warning"),
                                                   ("updated", "drift", "warning")]
    assert tracker.open[f"drift:{FIELD}:drift"].clean_streak == 2
    resolved = tracker.apply(_check(7))
    assert _actions(resolved) == [("resolved", "drift", "warning")]
    assert resolved[0].episode.clean_streak == K and resolved[0].at == 7
    assert tracker.open == {}
    assert _actions(tracker.apply(_check(8, "warning"))) == [("opened", "drift", "warning")]  # a new episode


def test_a_skipped_check_neither_flags_nor_counts_as_clean() -> None:
    tracker = EpisodeTracker(1)
    tracker.apply(_check(1, "warning"))
    assert tracker.apply(FieldCheck.skipped(FIELD, 2, "reference too small")) == []
    assert f"drift:{FIELD}:drift" in tracker.open
    assert _actions(tracker.apply(_check(3))) == [("resolved", "drift", "warning")]


def test_step_without_severity_opens_a_warning_and_clean_without_episode_is_nothing() -> None:
    episode, event = step(None, FIELD, "drift", True, 1.0, None, ("ks",), K)
    assert episode is not None and episode.severity == "warning" and event.action == "opened"
    assert step(None, FIELD, "drift", False, 2.0, None, (), K) == (None, None)
