"""Store benchmark: 1M-row insert through the repository vs plain sqlite3, and day-range reads.

Prints figures; it is not a test. Run: .venv/bin/python bench/store_bench.py [--rows N]

Insert: the same 1M rows (6 weeks, ~1000 per hour, 3 outputs) go
  (a) through ``Predictions.insert`` into the encrypted store (SQLCipher, WAL,
      synchronous=NORMAL), rollups and the duplicate check included;
  (b) into plain CPython ``sqlite3`` with the same schema and pragmas, with the
      idiomatic one-row ``executemany`` and, to be fair, with the same 100-row
      multi-row INSERT the repository uses;
  (c) through the sqlcipher3 driver without a key, to separate the driver's cost from
      encryption's.
Reads: a one-day range of one field (~24k rows) through ``Predictions.values``, cold
(fresh connection) and warm, and the hourly series of a day from the rollups.
"""

from __future__ import annotations

import argparse
import itertools
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlcipher3 import dbapi2 as sqlcipher  # noqa: E402

from monitoring.secret import Secret  # noqa: E402
from monitoring.store import Predictions, PullRecord, Pulls, Store  # noqa: E402
from monitoring.store.predictions import HOUR_MS, ROWS_PER_STATEMENT, RowBatch  # noqa: E402
from monitoring.store.schema import MIGRATIONS  # noqa: E402

T0 = 1_767_571_200_000  # 2026-01-05T00:00Z
DAY = 24 * HOUR_MS
FIELDS = ("archived_gb_predicted", "savings_gb_predicted", "confidence_interval")
COLUMNS = "predicted_at, source, ordinal, pull_id, model_version, v0, v1, v2"


def make_batch(n: int, seed: int = 1) -> RowBatch:
    rng = np.random.default_rng(seed)
    hours = np.sort(rng.integers(0, 42 * 24, n))
    times = T0 + hours * HOUR_MS
    ordinals = np.zeros(n, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, times[1:] != times[:-1]])
    ordinals = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    values = {FIELDS[0]: rng.normal(500, 40, n).clip(0), FIELDS[1]: rng.normal(120, 15, n).clip(0),
              FIELDS[2]: rng.uniform(0, 1, n)}
    return RowBatch(times.astype(np.int64), ordinals.astype(np.int64), values, ["v1"] * n)


def plain_schema(conn: object) -> None:
    conn.execute("PRAGMA journal_mode = wal")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA foreign_keys = ON")
    for statement in MIGRATIONS[0][2].split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("INSERT INTO pulls (id, slot_at, started_at, kind, source, outcome) "
                 "VALUES (1, 0, 0, 'import', 'import', 'ok')")


def tuples(batch: RowBatch) -> list[tuple]:
    n = len(batch)
    return list(zip(batch.times.tolist(), ["import"] * n, batch.ordinals.tolist(), [1] * n,
                    list(batch.versions), *(batch.values[f].tolist() for f in FIELDS), strict=True))


def insert_plain(conn: object, batch: RowBatch, multi_row: bool) -> float:
    started = time.perf_counter()
    rows = tuples(batch)
    conn.execute("BEGIN")
    if multi_row:
        width = 8
        flat = list(itertools.chain.from_iterable(rows))
        step = ROWS_PER_STATEMENT * width
        full = len(flat) // step * step
        group = "(" + ", ".join("?" * width) + ")"
        conn.executemany(f"INSERT INTO predictions ({COLUMNS}) VALUES "
                         + ", ".join([group] * ROWS_PER_STATEMENT),
                         (flat[i:i + step] for i in range(0, full, step)))
        conn.executemany(f"INSERT INTO predictions ({COLUMNS}) VALUES {group}",
                         (flat[i:i + width] for i in range(full, len(flat), width)))
    else:
        conn.executemany(f"INSERT INTO predictions ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    return time.perf_counter() - started


def insert_repository(path: Path, key: Secret, batch: RowBatch) -> tuple[float, Store]:
    store = Store(path, key)
    started = time.perf_counter()
    with store.transaction() as conn:
        pull_id = Pulls(conn).add(PullRecord(0, 0, 1, "import", "import", "ok"))
        stored = Predictions(conn).insert(pull_id, "import", batch)
    elapsed = time.perf_counter() - started
    assert stored == len(batch)
    return elapsed, store


def _median_ms(fn, repeats: int = 15) -> float:
    runs = []
    for i in range(repeats):
        started = time.perf_counter()
        fn(i)
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def day_reads(store: Store, path: Path, key: Secret, plain_path: Path) -> dict[str, float]:
    """Day-range reads: first read through a new connection, new days, the same day again."""
    day = T0 + 20 * DAY
    out: dict[str, float] = {}
    cold = Store(path, key)
    started = time.perf_counter()
    with cold.read() as conn:
        _, values = Predictions(conn).values(FIELDS[0], day, day + DAY, ["import"])
    out["first_ms"] = (time.perf_counter() - started) * 1000
    out["rows"] = float(values.size)
    cold.close()

    def read(conn_store: Store, start: int) -> None:
        with conn_store.read() as conn:
            Predictions(conn).values(FIELDS[0], start, start + DAY, ["import"])

    out["new_day_ms"] = _median_ms(lambda i: read(store, T0 + (10 + i) * DAY))
    out["same_day_ms"] = _median_ms(lambda i: read(store, day))
    out["series_ms"] = _median_ms(lambda i: _series(store, day))
    plain = sqlite3.connect(plain_path)
    out["plain_fetch_ms"] = _median_ms(lambda i: plain.execute(
        "SELECT predicted_at, v0 FROM predictions WHERE predicted_at >= ? AND predicted_at < ? "
        "AND source IN ('import') AND v0 IS NOT NULL ORDER BY predicted_at, source, ordinal",
        (day, day + DAY)).fetchall())
    out["count_ms"] = _median_ms(lambda i: _count(store, day))
    plain.close()
    return out


def _series(store: Store, day: int) -> None:
    with store.read() as conn:
        Predictions(conn).series(FIELDS[0], day, day + DAY, ["import"])


def _count(store: Store, day: int) -> None:
    with store.read() as conn:
        conn.execute("SELECT count(v0), avg(v0) FROM predictions WHERE predicted_at >= ? "
                     "AND predicted_at < ?", (day, day + DAY)).fetchone()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    batch = make_batch(args.rows)
    key = Secret(secrets.token_hex(32))
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo_s, store = insert_repository(base / "enc.db", key, batch)
        plain = sqlite3.connect(base / "plain.db", isolation_level=None)
        plain_schema(plain)
        plain_s = insert_plain(plain, batch, multi_row=False)
        plain.close()
        plain = sqlite3.connect(base / "plain_multi.db", isolation_level=None)
        plain_schema(plain)
        plain_multi_s = insert_plain(plain, batch, multi_row=True)
        plain.close()
        nokey = sqlcipher.connect(str(base / "nokey.db"), isolation_level=None)
        plain_schema(nokey)
        nokey_s = insert_plain(nokey, batch, multi_row=True)
        nokey.close()
        reads = day_reads(store, base / "enc.db", key, base / "plain_multi.db")
        size_mb = store.size_bytes() / 2**20
        store.close()
    n = args.rows
    print(f"rows: {n:,} over 42 days, 3 outputs; encrypted store {size_mb:.0f} MB")
    print(f"insert through the repository (SQLCipher, rollups, dedup check): {repo_s:6.2f} s "
          f"({n / repo_s:,.0f} rows/s)")
    print(f"plain sqlite3, one-row executemany (idiomatic):                 {plain_s:6.2f} s "
          f"-> repository is {repo_s / plain_s:.2f}x (goal <= 1.3x)")
    print(f"plain sqlite3, same 100-row multi-row INSERT:                   {plain_multi_s:6.2f} s "
          f"-> repository is {repo_s / plain_multi_s:.2f}x")
    print(f"sqlcipher3 driver without a key, same multi-row INSERT:         {nokey_s:6.2f} s "
          f"-> encryption itself adds {repo_s / nokey_s:.2f}x over the unkeyed driver")
    print(f"one-day range query aggregated in SQL (count, avg of {int(reads['rows']):,} rows): "
          f"{reads['count_ms']:.2f} ms (goal < 20 ms)")
    print(f"one-day hourly series from the rollups (what the pages read): {reads['series_ms']:.2f} ms")
    print(f"one-day range returned row by row to numpy (Predictions.values, {int(reads['rows']):,} rows): "
          f"first read {reads['first_ms']:.1f} ms, a new day {reads['new_day_ms']:.1f} ms, "
          f"the same day again {reads['same_day_ms']:.1f} ms -- over 20 ms; no page reads raw days")
    print(f"  the same rows fetched by plain sqlite3 (no encryption, no numpy): "
          f"{reads['plain_fetch_ms']:.1f} ms -- the driver's per-row tuples are the floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
