"""``import FILE.csv``: backfill history atomically and idempotently.

The file is read in chunks but written in one transaction, so an import either
lands whole or not at all. Row keys are (time, source, position among the file's
rows with that time), so re-importing the same file adds nothing; bad rows are
quarantined under ``<file digest>:line N`` and are not duplicated either.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from monitoring.context import Monitor
from monitoring.errors import ValidationError
from monitoring.store import Metrics, Predictions, PullRecord, Pulls, Rejected
from monitoring.timeutil import to_ms
from monitoring.validation import FIELD_NAME, TIME_FIELD, VERSION_FIELD, RowSchema, validate_frame

CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class ImportResult:
    pull_id: int
    rows_read: int
    stored: int
    rejected: int
    fields: tuple[str, ...]

    @property
    def duplicates(self) -> int:
        return self.rows_read - self.stored - self.rejected


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def read_header(path: Path) -> list[str]:
    """The CSV's columns, checked: predicted_at first-class, field names valid."""
    try:  # utf-8-sig: Excel's "CSV UTF-8" starts with a BOM, which pandas skips too
        with open(path, newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except FileNotFoundError as exc:
        raise ValidationError(f"there is no file at {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {path} as UTF-8 text: {exc}") from exc
    except csv.Error as exc:  # e.g. a header cell over the csv module's field size limit
        raise ValidationError(f"the header of {path} is not valid CSV: {exc}") from exc
    if not header:
        raise ValidationError(f"{path} is empty; expected a header 'predicted_at,<field>,...'")
    columns = [c.strip() for c in header]
    if TIME_FIELD not in columns:
        raise ValidationError(f"{path} has no '{TIME_FIELD}' column; the header is {','.join(columns)}")
    for name in columns:
        if name not in (TIME_FIELD, VERSION_FIELD) and not FIELD_NAME.match(name):
            raise ValidationError(f"column '{name[:40]}' of {path} is not a valid field name")
    if len(set(columns)) != len(columns):
        raise ValidationError(f"{path} repeats a column name")
    return columns


def read_frames(path: Path, chunk_rows: int, consequence: str = "nothing was imported"
                ) -> Iterator[pd.DataFrame]:
    """The CSV as string-typed frames; any parse failure is one ValidationError naming the file."""
    try:
        for chunk in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows,
                                 skipinitialspace=True, encoding="utf-8"):
            chunk.columns = [c.strip() for c in chunk.columns]
            yield chunk
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"{path} is not a valid CSV ({exc}); {consequence}") from exc


def import_csv(monitor: Monitor, path: Path, chunk_rows: int = CHUNK_ROWS) -> ImportResult:
    """Store every valid row of ``path`` as source 'import'; quarantine the rest."""
    path = Path(path)
    columns = read_header(path)
    fields = tuple(c for c in columns if c not in (TIME_FIELD, VERSION_FIELD))
    if not fields:
        raise ValidationError(f"{path} has no output columns besides {TIME_FIELD}")
    settings = monitor.settings.effective()
    schema = RowSchema.for_fields(list(fields), settings["field_ranges"])
    digest = _digest(path)
    now = to_ms(monitor.clock())
    seen: dict[int, int] = {}
    read = stored = rejected = 0
    with monitor.store.transaction() as conn:
        pulls = Pulls(conn)
        pull_id = pulls.add(PullRecord(slot_at=now, started_at=now, finished_at=now, kind="import",
                                       source="import", outcome="ok", cycle_id=digest))
        for chunk in read_frames(path, chunk_rows):
            offset = read
            checked = validate_frame(chunk, schema, lambda i, o=offset: f"{digest}:line {o + i + 2}",
                                     seen=seen)
            stored += Predictions(conn).insert(pull_id, "import", checked.valid)
            rejected += Rejected(conn).add(pull_id, "import", now, checked.rejected)
            read += len(chunk)
        outcome = "ok" if not rejected else ("partial" if stored or read > rejected else "failed")
        pulls.set_counts(pull_id, stored, rejected)
        pulls.set_outcome(pull_id, outcome)
        Metrics(conn).add_many([(now, "import_rows_stored", float(stored), ""),
                                (now, "import_rows_rejected", float(rejected), "")])
    return ImportResult(pull_id, read, stored, rejected, fields)
