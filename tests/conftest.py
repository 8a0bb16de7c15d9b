"""Shared fixtures: a real encrypted store in a temporary folder, and a fake clock."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitoring.config import load_config
from monitoring.context import Monitor, open_monitor
from monitoring.secret import Secret
from monitoring.store import Store
from tests.fakes.azureml_server import DEFAULT_API_KEY
from tests.support import secret_scan
from tests.support.clock import FakeClock

ADMIN_PASSWORD = "admin-pass-for-tests"
COOKIE_KEY = "cookie-key-for-tests-0123456789abcdef"


def pytest_sessionstart(session: pytest.Session) -> None:
    secret_scan.register(ADMIN_PASSWORD, COOKIE_KEY, DEFAULT_API_KEY)
    # Stale files of earlier runs must not be scanned: wipe them, unless this is an xdist
    # worker (its siblings' files) or another live session is using test-artifacts/.
    owner = not hasattr(session.config, "workerinput") and secret_scan.reset_artifacts()
    session.config._secret_scan = secret_scan.install(secret_scan.log_file(owner))
    # Not needed by the scan (it sees every record whatever the levels): kept so that tests
    # running before the first open_monitor see INFO records, as they always have.
    root = logging.getLogger()
    root.setLevel(min(root.level or logging.WARNING, logging.INFO))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any test secret reached a log line or a telemetry payload."""
    if getattr(session.config, "_secret_scan", None) is None:
        return
    leaked = secret_scan.leaks()
    secret_scan.release_artifacts()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if secret_scan.scan_errors() and reporter is not None:
        reporter.write_line(f"secret scan: {secret_scan.scan_errors()} log records could not be formatted",
                            yellow=True)
    if leaked:
        if reporter is not None:
            reporter.write_line(f"SECRETS LEAKED into logs/telemetry: {leaked}", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt's cost factor changes speed, not behaviour; 4 rounds keep tests quick."""
    import monitoring.auth

    monkeypatch.setattr(monitoring.auth, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def db_key() -> Secret:
    key = Secret(secrets.token_hex(32))
    secret_scan.register(key.reveal())
    return key


@pytest.fixture
def store(tmp_path: Path, db_key: Secret) -> Iterator[Store]:
    s = Store(tmp_path / "monitor.db", db_key)
    yield s
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def env(tmp_path: Path, db_key: Secret) -> dict[str, str]:
    """A development environment in a temporary data dir, demo mode (no endpoint)."""
    return {"MONITOR_DATA_DIR": str(tmp_path / "data"), "MONITOR_DB_KEY": db_key.reveal(),
            "MONITOR_ADMIN_PASSWORD": ADMIN_PASSWORD, "AUTH_COOKIE_KEY": COOKIE_KEY}


@pytest.fixture
def monitor(env: dict[str, str], clock: FakeClock) -> Iterator[Monitor]:
    m = open_monitor(load_config(env), clock=clock)
    yield m
    m.close()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten days of simulated history through the real cycle, built once (see tests/support/seeded.py)."""
    from tests.support import seeded

    secret_scan.register(seeded.ADMIN_PASSWORD, seeded.ANALYST_PASSWORD, seeded.DB_KEY, seeded.COOKIE_KEY)
    import monitoring.auth

    monitoring.auth.BCRYPT_ROUNDS = 4  # session-scoped: the autouse fixture is per test
    template = tmp_path_factory.mktemp("seeded") / "data"
    seeded.build(template)
    return template


@pytest.fixture
def seeded_monitor(seeded_template: Path, tmp_path: Path) -> Iterator[Monitor]:
    """A private copy of the seeded store, opened at the seed's clock."""
    from tests.support import seeded

    monitor = seeded.open_copy(seeded_template, tmp_path / "seeded", FakeClock(seeded.NOW))
    yield monitor
    monitor.close()
