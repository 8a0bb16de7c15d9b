"""The encrypted store: SQLCipher connection pool, migrations, one repository per table group."""

from monitoring.store.alerts import Alert, AlertEvent, Alerts
from monitoring.store.connection import Connection, Store
from monitoring.store.drift import DriftRun, DriftStore, ReferenceRecord
from monitoring.store.metrics import Metrics
from monitoring.store.outbox import Outbox, OutboxRow
from monitoring.store.predictions import Predictions, StoredRow
from monitoring.store.pulls import PullRecord, Pulls
from monitoring.store.rejected import Rejected, Rejection
from monitoring.store.runtime import RuntimeState
from monitoring.store.settings import Audit, AuditEntry, Settings
from monitoring.store.users import User, Users

__all__ = [
    "Alert", "AlertEvent", "Alerts", "Audit", "AuditEntry", "Connection", "DriftRun", "DriftStore",
    "Metrics", "Outbox", "OutboxRow", "Predictions", "PullRecord", "Pulls", "ReferenceRecord",
    "Rejected", "Rejection", "RuntimeState", "Settings", "Store", "StoredRow", "User", "Users",
]
