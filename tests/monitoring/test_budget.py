"""The drift budget: a soft limit that always lets one unit of work run."""

from __future__ import annotations

from monitoring.budget import Budget


class Timer:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_the_budget_is_spent_only_after_some_work_and_the_time_is_up() -> None:
    timer = Timer()
    budget = Budget(2.0, timer)
    timer.t += 5.0
    assert not budget.spent()  # nothing done yet: the first unit always runs
    budget.worked = True
    assert budget.spent() and budget.elapsed == 5.0
    early = Budget(2.0, timer)
    early.worked = True
    timer.t += 1.9
    assert not early.spent()


def test_no_limit_is_never_spent_and_deferrals_are_kept_by_field() -> None:
    timer = Timer()
    budget = Budget(None, timer)
    budget.worked = True
    timer.t += 1e6
    assert not budget.spent()
    budget.defer("a", "waiting")
    budget.defer("a", "checked through noon")
    assert budget.deferred == {"a": "checked through noon"}
