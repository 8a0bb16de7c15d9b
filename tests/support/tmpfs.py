"""A size-limited tmpfs that a test can fill, make read-only and heal (needs root; else skip)."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@contextmanager
def tmpfs(size: str = "3m") -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="monitor-tmpfs-"))
    try:
        _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    except (OSError, subprocess.CalledProcessError) as exc:
        path.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({exc}); disk-fault tests need root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
        path.rmdir()


def remount(path: Path, options: str) -> None:
    _mount("-o", f"remount,{options}", str(path))
