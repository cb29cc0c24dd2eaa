"""One way to open the project's SQLite files (the store, the alert outbox)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

# A writer waits this long for another process's lock before failing.
BUSY_TIMEOUT_S = 30


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that commits on success, rolls back on error, and is closed either way."""
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as db, db:
        yield db
