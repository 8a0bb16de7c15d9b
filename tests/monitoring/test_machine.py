"""Container-aware memory: the cgroup's limit when there is one (v2 or v1), else the host's."""

from __future__ import annotations

from pathlib import Path

import psutil

from monitoring.machine import memory_percent


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    return root


def test_cgroup_v2_limit_is_used(tmp_path: Path) -> None:
    root = _write(tmp_path, {"memory.max": str(2**30), "memory.current": str(3 * 2**28)})
    assert memory_percent(root) == (75.0, "container")


def test_cgroup_v1_limit_is_used(tmp_path: Path) -> None:
    root = _write(tmp_path, {"memory/memory.limit_in_bytes": str(2**30),
                             "memory/memory.usage_in_bytes": str(2**29)})
    assert memory_percent(root) == (50.0, "container")


def test_no_limit_falls_back_to_the_host(tmp_path: Path) -> None:
    cases = ({"memory.max": "max", "memory.current": "5"},
             {"memory/memory.limit_in_bytes": "9223372036854771712", "memory/memory.usage_in_bytes": "5"},
             {})
    for i, files in enumerate(cases):
        percent, scope = memory_percent(_write(tmp_path / str(i), files))
        assert scope == "host" and 0.0 < percent <= 100.0
    assert abs(memory_percent(tmp_path / "none")[0] - psutil.virtual_memory().percent) < 10
