"""Store invariants the fault tests check after a crash or a failed write."""

from __future__ import annotations

from typing import Any


def torn_pulls(conn: Any) -> list[tuple[int, int, int]]:
    """(pull id, rows its record says, rows stored) for every pull whose rows do not match it."""
    return conn.execute(
        "SELECT p.id, p.rows_stored, count(x.pull_id) FROM pulls p LEFT JOIN predictions x "
        "ON x.pull_id = p.id GROUP BY p.id HAVING count(x.pull_id) != p.rows_stored").fetchall()
