"""Versioned schema migrations.

Each migration runs once, in its own transaction, and records its number in
``schema_version``; re-running is a no-op. Which prediction outputs exist is data: a
field is given one of sixteen numeric value slots (``field_slots``) the first time it is
stored, and has rollup rows of its own, so adding a monitored field needs no migration.
Plain REAL slots keep rows compact and let SQLite aggregate them without parsing JSON.
Timestamps are UTC epoch milliseconds (INTEGER).
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", """
CREATE TABLE pulls (
    id            INTEGER PRIMARY KEY,
    slot_at       INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    kind          TEXT NOT NULL CHECK (kind IN ('scheduled','manual','import','backfill','replay')),
    source        TEXT NOT NULL CHECK (source IN ('azure_ml','import','mock')),
    outcome       TEXT NOT NULL CHECK (outcome IN ('ok','partial','failed','fallback')),
    rows_received INTEGER NOT NULL DEFAULT 0 CHECK (rows_received >= 0),
    rows_stored   INTEGER NOT NULL DEFAULT 0 CHECK (rows_stored >= 0),
    rows_rejected INTEGER NOT NULL DEFAULT 0 CHECK (rows_rejected >= 0),
    latency_ms    REAL CHECK (latency_ms IS NULL OR latency_ms >= 0),
    attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    http_status   INTEGER,
    error         TEXT,
    breaker_state TEXT,
    cycle_id      TEXT
);
CREATE INDEX pulls_started ON pulls (started_at);
CREATE INDEX pulls_slot ON pulls (slot_at);

CREATE TABLE predictions (
    predicted_at  INTEGER NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('azure_ml','import','mock')),
    ordinal       INTEGER NOT NULL CHECK (ordinal >= 0),
    pull_id       INTEGER NOT NULL REFERENCES pulls (id),
    model_version TEXT,
    v0 REAL,
    v1 REAL,
    v2 REAL,
    v3 REAL,
    v4 REAL,
    v5 REAL,
    v6 REAL,
    v7 REAL,
    v8 REAL,
    v9 REAL,
    v10 REAL,
    v11 REAL,
    v12 REAL,
    v13 REAL,
    v14 REAL,
    v15 REAL,
    PRIMARY KEY (predicted_at, source, ordinal)
) WITHOUT ROWID;

CREATE TABLE field_slots (
    field      TEXT PRIMARY KEY,
    slot       INTEGER NOT NULL UNIQUE CHECK (slot BETWEEN 0 AND 15),
    created_at INTEGER NOT NULL
);

CREATE TABLE field_rollup (
    field   TEXT NOT NULL,
    source  TEXT NOT NULL CHECK (source IN ('azure_ml','import','mock')),
    hour_at INTEGER NOT NULL,
    n       INTEGER NOT NULL CHECK (n > 0),
    total   REAL NOT NULL,
    sumsq   REAL NOT NULL,
    lo      REAL NOT NULL,
    hi      REAL NOT NULL,
    PRIMARY KEY (field, source, hour_at)
) WITHOUT ROWID;

CREATE TABLE rejected_rows (
    id          INTEGER PRIMARY KEY,
    pull_id     INTEGER REFERENCES pulls (id),
    received_at INTEGER NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('azure_ml','import','mock')),
    row_ref     TEXT NOT NULL,
    field       TEXT,
    reason      TEXT NOT NULL CHECK (length(reason) > 0),
    raw         TEXT NOT NULL,
    UNIQUE (source, row_ref)
);
CREATE INDEX rejected_received ON rejected_rows (received_at);

CREATE TABLE drift_references (
    id          INTEGER PRIMARY KEY,
    field       TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    start_at    INTEGER NOT NULL,
    end_at      INTEGER NOT NULL CHECK (end_at >= start_at),
    n_rows      INTEGER NOT NULL CHECK (n_rows > 0),
    sources     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active','retired')),
    note        TEXT,
    model       TEXT NOT NULL,
    UNIQUE (field, version)
);
CREATE UNIQUE INDEX drift_references_active ON drift_references (field) WHERE status = 'active';

CREATE TABLE drift_state (
    field        TEXT PRIMARY KEY,
    reference_id INTEGER NOT NULL REFERENCES drift_references (id),
    through_at   INTEGER NOT NULL,
    state        TEXT NOT NULL
);

CREATE TABLE drift_runs (
    id           INTEGER PRIMARY KEY,
    run_at       INTEGER NOT NULL,
    field        TEXT NOT NULL,
    reference_id INTEGER REFERENCES drift_references (id),
    status       TEXT NOT NULL CHECK (status IN ('ok','skipped')),
    drifted      INTEGER NOT NULL DEFAULT 0 CHECK (drifted IN (0, 1)),
    severity     TEXT CHECK (severity IS NULL OR severity IN ('info','warning','critical')),
    reason       TEXT,
    result       TEXT NOT NULL
);
CREATE INDEX drift_runs_field_time ON drift_runs (field, run_at);
CREATE INDEX drift_runs_time ON drift_runs (run_at);

CREATE TABLE alerts (
    id            INTEGER PRIMARY KEY,
    fingerprint   TEXT NOT NULL,
    category      TEXT NOT NULL CHECK (category IN ('drift','operational')),
    field         TEXT,
    kind          TEXT NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('info','warning','critical')),
    status        TEXT NOT NULL CHECK (status IN ('open','acknowledged','resolved')),
    title         TEXT NOT NULL,
    opened_at     INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL CHECK (last_seen_at >= opened_at),
    resolved_at   INTEGER,
    occurrences   INTEGER NOT NULL DEFAULT 1 CHECK (occurrences > 0),
    clean_checks  INTEGER NOT NULL DEFAULT 0 CHECK (clean_checks >= 0),
    snoozed_until INTEGER,
    details       TEXT NOT NULL DEFAULT '{}',
    CHECK ((category = 'drift') = (field IS NOT NULL))
);
CREATE UNIQUE INDEX alerts_one_open_episode ON alerts (fingerprint) WHERE status != 'resolved';
CREATE INDEX alerts_status_time ON alerts (status, opened_at);
CREATE INDEX alerts_opened ON alerts (opened_at);

CREATE TABLE alert_events (
    id       INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL CHECK (action IN ('opened','updated','escalated','acknowledged',
                                             'resolved','auto_resolved','snoozed','reopened')),
    comment  TEXT,
    details  TEXT
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX audit_log_time ON audit_log (at);

CREATE TABLE users (
    username        TEXT PRIMARY KEY CHECK (username = lower(username) AND length(username) > 0),
    display_name    TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin','analyst')),
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    INTEGER,
    session_version INTEGER NOT NULL DEFAULT 1,
    sessions_valid_from INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE op_metrics (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    name   TEXT NOT NULL,
    value  REAL NOT NULL,
    labels TEXT NOT NULL DEFAULT ''
);
CREATE INDEX op_metrics_name_time ON op_metrics (name, at);
CREATE INDEX op_metrics_time ON op_metrics (at);

CREATE TABLE runtime_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE scheduler_lease (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    slot_at     INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
"""),
    (2, "notification outbox", """
CREATE TABLE notification_outbox (
    id              INTEGER PRIMARY KEY,
    alert_id        INTEGER NOT NULL REFERENCES alerts (id),
    event           TEXT NOT NULL CHECK (event IN ('opened','escalated','resolved')),
    event_at        INTEGER NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('webhook','slack','teams')),
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered','failed')),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    UNIQUE (alert_id, event, channel, event_at)
);
CREATE INDEX notification_outbox_pending ON notification_outbox (channel, id) WHERE status = 'pending';
CREATE INDEX notification_outbox_created ON notification_outbox (created_at);
"""),
]
