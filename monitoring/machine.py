"""Memory use as the container sees it: its cgroup limit when it has one, else the host.

Used by health and the metrics page. App Service runs the app in a container whose memory
limit is far below the host's, so ``psutil.virtual_memory()`` alone can say 20% while the
container is about to be killed.
"""

from __future__ import annotations

from pathlib import Path

import psutil

CGROUP = Path("/sys/fs/cgroup")
_UNLIMITED = 2**60  # cgroup v1 writes "no limit" as a huge number


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # v2 writes "max" for no limit


def memory_percent(root: Path = CGROUP) -> tuple[float, str]:
    """(percent used, "container" or "host")."""
    for limit_file, usage_file in (("memory.max", "memory.current"),  # cgroup v2
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        limit, usage = _read_int(root / limit_file), _read_int(root / usage_file)
        if limit and usage is not None and limit < min(_UNLIMITED, psutil.virtual_memory().total):
            return 100.0 * usage / limit, "container"
    return float(psutil.virtual_memory().percent), "host"
