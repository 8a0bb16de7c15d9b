"""Security checks: brute force ends locked, writes are role-checked in the service layer,
nothing but the health routes (and /metrics) answers without a login, a session without a
login sees only the login form, and the session's secret scan catches a planted secret."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from monitoring import context
from monitoring.actors import Actor
from monitoring.auth import UserService
from monitoring.baseline import rebaseline, references
from monitoring.context import Monitor
from monitoring.errors import PermissionDeniedError
from monitoring.notify.service import NotificationService
from monitoring.store import Audit, Outbox
from tests.conftest import ADMIN_PASSWORD, COOKIE_KEY
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.monitoring.notify.conftest import check, configure, drift_signal, outbox_rows
from tests.pages.conftest import ENTRY, PAGES, ROOT
from tests.support import secret_scan, seeded
from tests.support.hourly import store_hourly

ADMIN = Actor("admin", "admin")
ANALYST = Actor("ann", "analyst")
PUBLIC = {"/health", "/health/ready", "/metrics"}
STREAMLIT_ROUTES = ("/_stcore", "/media", "/component", "/auth", "/oauth2callback")
FIELD = "archived_gb_predicted"


def test_brute_force_of_100_passwords_ends_locked_and_stays_locked(monitor: Monitor, clock) -> None:
    users = UserService(monitor.store, clock, max_attempts=5, lockout_minutes=15)
    users.add(ADMIN, "victim", "analyst", "the-real-password")
    results = [users.login("victim", f"guess-{i:03d}") for i in range(100)]
    assert not any(r.ok for r in results)
    assert "locked" in results[-1].message
    assert sum("locked" in r.message for r in results) >= 95
    restarted = UserService(monitor.store, clock, max_attempts=5, lockout_minutes=15)
    assert "locked" in restarted.login("victim", "the-real-password").message  # persisted, not in memory


# -- an analyst's writes are refused by the services, not by hidden buttons --

def _state(monitor: Monitor) -> dict[str, Any]:
    """Everything a refused write could have touched."""
    with monitor.store.read() as conn:
        audit = Audit(conn).recent(limit=10_000)
        outbox = Outbox(conn).recent(10_000)
    return {"audit": audit, "outbox": outbox, "references": references(monitor, FIELD),
            "settings": monitor.settings.effective(), "users": monitor.users.list()}


def _admin_writes(monitor: Monitor, notify: NotificationService, actor: Actor,
                  hook_url: str) -> dict[str, Callable[[], object]]:
    """Every admin-only write of the services (each ``require_admin`` call), as ``actor``."""
    now = monitor.clock()
    return {
        "change settings": lambda: monitor.settings.update(actor, {"pull_interval_minutes": 5}),
        "add users": lambda: monitor.users.add(actor, "eve", "admin", "eve-password"),
        "disable users": lambda: monitor.users.set_disabled(actor, "admin", True),
        "reset passwords": lambda: monitor.users.reset_password(actor, "admin", "new-password-1"),
        "change roles": lambda: monitor.users.set_role(actor, "ann", "admin"),
        "unlock": lambda: monitor.users.unlock(actor, "admin"),
        "re-baseline drift references": lambda: rebaseline(monitor, actor, FIELD, now - timedelta(days=9),
                                                           now, "the new normal"),
        "send test notifications": lambda: notify.send_test(actor, "webhook"),
        "send test notifications to a URL": lambda: notify.send_test(actor, "webhook", hook_url),
        "re-send notifications": lambda: notify.retry_failed(actor),
        "re-send one channel's notifications": lambda: notify.retry_failed(actor, "webhook"),
    }


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def notify(monitor: Monitor) -> Iterator[NotificationService]:
    service = NotificationService(monitor)
    yield service
    service.close()


def test_analyst_writes_are_refused_by_the_services_and_write_nothing(
        monitor: Monitor, notify: NotificationService, hook: WebhookReceiver) -> None:
    monitor.users.add(ADMIN, "ann", "analyst", "ann-password")
    configure(monitor, notify_webhook_url=hook.url, monitored_fields=[FIELD])
    now = monitor.clock()
    store_hourly(monitor, FIELD, now - timedelta(days=9), 500.0 + np.arange(24 * 9) % 7)  # enough to fit
    check(monitor, drift_signal())  # an alert and its notification, which then failed
    (queued,) = outbox_rows(monitor)
    with monitor.store.transaction() as conn:
        Outbox(conn).mark_failed(queued.id, 500, "HTTP 500")
    before = _state(monitor)

    for action, write in _admin_writes(monitor, notify, ANALYST, hook.url).items():
        with pytest.raises(PermissionDeniedError) as refused:
            write()
        assert re.fullmatch(r"ann \(analyst\) may not [a-z_ -]+: only admins can; ask an admin",
                            str(refused.value)), (action, str(refused.value))
    assert _state(monitor) == before  # no audit entry, no outbox change, no reference, nothing
    assert hook.received == []  # and nothing was sent
    assert monitor.users.get("ann").role == "analyst"
    assert monitor.settings.effective()["pull_interval_minutes"] == 60

    # The same requests are real ones: as an admin, each of them writes.
    writes = _admin_writes(monitor, notify, ADMIN, hook.url)
    for action in ("re-baseline drift references", "send test notifications",
                   "send test notifications to a URL", "re-send notifications"):
        writes[action]()
    after = _state(monitor)
    assert len(after["references"]) == 1 and len(hook.received) == 2
    assert [o.status for o in after["outbox"]] == ["pending"]
    assert len(after["audit"]) == len(before["audit"]) + 4


# -- a browser session without a login --

def _elements(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None) or {}
    for child in (children.values() if isinstance(children, dict) else children):
        yield from _elements(child)


def _shown(node: Any) -> str:
    return " ".join(str(getattr(node, attr, "") or "") for attr in ("value", "label", "body", "help")
                    if isinstance(getattr(node, attr, None), str))


@pytest.fixture
def anonymous(seeded_monitor: Monitor) -> Iterator[AppTest]:
    context.set_current(seeded_monitor)
    try:
        yield AppTest.from_string(ENTRY, default_timeout=60).run()
    finally:
        context.set_current(None)


def test_a_session_without_a_login_renders_only_the_login_form(anonymous: AppTest) -> None:
    at = anonymous
    assert not at.exception
    main = list(_elements(at.main))
    kinds = {getattr(e, "type", None) for e in main}
    assert not kinds & {"dataframe", "table", "plotly_chart", "vega_lite_chart", "arrow_vega_lite_chart",
                        "metric", "selectbox", "multiselect", "download_button", "tabs", "expander",
                        "json", "code", "date_input", "number_input", "checkbox", "toggle"}, kinds
    assert [t.value for t in at.title] == ["Prediction Monitor"]
    assert [w.label for w in at.text_input] == ["Username", "Password"]
    assert [b.label for b in at.button] == ["Log in"]
    assert not [e for e in _elements(at.sidebar) if _shown(e)]  # no status, no page list
    text = " ".join(_shown(e) for e in (*main, *_elements(at.sidebar)))
    for content in ("Distribution changed", "Scoring endpoint failing", FIELD, "pull_interval",
                    "Logged in as", "History", "Drift", "Settings", "Metrics", seeded.ANALYST_PASSWORD):
        assert content not in text, content
    for page in PAGES:  # no page is even registered: a URL or a page switch cannot reach one
        with pytest.raises(ValueError, match=r"Known pages: \['Log in'\]"):
            at.switch_page(str(ROOT / page))


# -- what answers over HTTP without a login --

def _serve(scenario: str, env: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    """One app_worker scenario in a fresh interpreter (Streamlit's Runtime starts once per process).

    Its stderr and stdout (every response body) go under the scanned telemetry folder.
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "AZURE_ML_",
                                                                        "APPLICATIONINSIGHTS"))}
    environ.update(env, PYTHONPATH=str(ROOT))
    with secret_scan.subprocess_stderr(f"security-{scenario}") as stderr:
        done = subprocess.run([sys.executable, "-m", "tests.support.app_worker", scenario], cwd=ROOT,
                              env=environ, stdout=subprocess.PIPE, stderr=stderr, text=True,
                              timeout=timeout)
    secret_scan.save_output(f"security-{scenario}", done.stdout)
    assert done.returncode == 0, Path(stderr.name).read_text()[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_only_health_and_metrics_routes_answer_without_a_login(env: dict[str, str]) -> None:
    result = _serve("public_routes", env)
    ours = {path for path in result["figures"]["routes"] if not path.startswith(STREAMLIT_ROUTES)}
    assert ours == PUBLIC
    responses = {r["path"]: r for r in result["responses"]}
    hidden = [env["MONITOR_DB_KEY"], ADMIN_PASSWORD, COOKIE_KEY]
    for response in responses.values():
        assert not any(s in response["body"] for s in hidden), response["path"]
    for path in sorted(PUBLIC):
        assert responses[path]["status"] == 200, path
    assert responses["POST /_stcore/agent/interact"]["status"] in (403, 404)
    for path in ("/settings", "/history"):  # every other path is only Streamlit's static shell
        body = responses[path]["body"]
        assert responses[path]["status"] == 200 and '<div id="root"></div>' in body
        assert "pull_interval" not in body and "admin" not in body.lower().split("<body")[-1]


# -- the session's secret scan itself --

def test_the_secret_scan_finds_a_planted_secret_in_a_file(tmp_path: Path) -> None:
    planted = "planted-" + secrets.token_hex(12)  # not registered: the session scan stays green
    clean, leaky, quoted = tmp_path / "clean.log", tmp_path / "leaky.log", tmp_path / "quoted.jsonl"
    clean.write_text("nothing to see\n")
    leaky.write_text(f"connecting with {planted}\n")
    quoted.write_text(json.dumps({"msg": f'key "{planted}/x"'}) + "\n")
    assert secret_scan.find_leaks([clean], [planted]) == []
    assert secret_scan.find_leaks([clean, leaky, quoted], [planted]) == [
        f"leaky.log: {planted[:4]}...", f"quoted.jsonl: {planted[:4]}..."]
    odd = 'a"quoted\\secret/1'  # JSON escapes it: the escaped form is found too
    quoted.write_text(json.dumps({"msg": odd}) + "\n")
    assert secret_scan.find_leaks([quoted], [odd]) == [f"quoted.jsonl: {odd[:4]}..."]


def test_the_secret_scan_sees_records_the_levels_hide() -> None:
    """Below LOG_LEVEL, from Streamlit's non-propagating loggers, from a child's stderr: all scanned."""
    from streamlit.logger import get_logger

    planted = [secrets.token_hex(16) for _ in range(5)]  # not registered: the session scan stays green
    root = logging.getLogger()
    quiet = logging.getLogger("tests.secret_scan.quiet")  # a monitoring.* logger, LOG_LEVEL=ERROR
    loner = get_logger("tests.secret_scan.loner")  # Streamlit's: propagate=False, its own handler
    pinned = logging.getLogger("tests.secret_scan.pinned")  # like urllib3's, pinned whatever LOG_LEVEL
    levels = {log: log.level for log in (root, loner, pinned)}
    root.setLevel(logging.ERROR)
    loner.setLevel(logging.CRITICAL)
    pinned.setLevel(logging.WARNING)
    try:
        quiet.debug("debug line %s", planted[0])
        quiet.info("info line", extra={"detail": planted[1]})
        loner.debug("streamlit-like line %s", planted[2])
        pinned.info("never written by any configuration %s", planted[4])
    finally:
        for log, level in levels.items():
            log.setLevel(level)
    with secret_scan.subprocess_stderr("scan-self-test") as stderr:
        subprocess.run([sys.executable, "-c", f"import sys; sys.stderr.write({planted[3]!r})"],
                       stderr=stderr, check=True)
    secret_scan.flush()
    found = secret_scan.find_leaks(secret_scan.scanned_files(), planted)
    assert sorted(f.split(": ")[-1] for f in found) == sorted(p[:4] + "..." for p in planted[:4]), found
