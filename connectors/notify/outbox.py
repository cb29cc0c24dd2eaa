"""The durable outbox: every alert is written here, per channel, before it is sent.

A delivery is keyed by (alert_id, channel, revision): enqueueing the same
alert again is a no-op, so a re-run or a restart never queues it twice, and a
delivery marked ``sent`` is never picked again. ``alert_state`` remembers
what each alert said when last queued, so a later, materially different
version of its event (more independent sources, revised fatalities) queues
an update (revision + 1) and anything else is dropped as a repeat.

Times are epoch seconds from an injectable clock, so tests can move time.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from connectors.sqlite import transaction
from schemas import Alert

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS deliveries (
    alert_id TEXT NOT NULL, channel TEXT NOT NULL, revision INTEGER NOT NULL,
    rule_id TEXT NOT NULL, alert TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',      -- pending | sent | failed
    digest_window REAL,                          -- start of the digest window, or NULL
    created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL, last_error TEXT, sent_at REAL,
    PRIMARY KEY (alert_id, channel, revision));
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(status, next_attempt);
CREATE TABLE IF NOT EXISTS alert_state (
    alert_id TEXT PRIMARY KEY, revision INTEGER NOT NULL, sources INTEGER, fatalities INTEGER);
CREATE TABLE IF NOT EXISTS digests (
    channel TEXT NOT NULL, window_start REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL, last_error TEXT, sent_at REAL,
    PRIMARY KEY (channel, window_start));
"""


class OutboxLocked(RuntimeError):
    """Another notifier is draining this outbox."""


@dataclass(frozen=True)
class Delivery:
    """One alert (at one revision) due to one channel."""

    alert: Alert
    channel: str
    attempts: int

    @property
    def key(self) -> str:
        """The idempotency key: one message per alert, channel and revision."""
        return f"{self.alert.alert_id}.{self.alert.revision}.{self.channel}"


@dataclass(frozen=True)
class Route:
    """Where an alert goes: a channel, and its digest period in seconds (or None)."""

    channel: str
    digest_seconds: int | None = None


def update_reason(alert: Alert, sources: int | None, fatalities: int | None) -> str | None:
    """Why the alert's event changed materially since it was last sent, or None."""
    event = alert.event
    if event is None:
        return None
    if sources is not None and event.independent_sources > sources:
        return f"update: {event.independent_sources} independent sources (was {sources})"
    if event.fatalities is not None and event.fatalities != fatalities:
        return f"update: fatalities {event.fatalities} (was {fatalities if fatalities is not None else 'unknown'})"
    return None


class Outbox:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with transaction(self.path) as db:
            yield db

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the drainer's lock: one notifier per outbox, or two could send
        the same delivery. The OS releases it when the process dies."""
        handle: IO[str] = open(self.path.with_name(self.path.name + ".lock"), "w")  # noqa: SIM115
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutboxLocked(f"{self.path}: another notifier is sending from this outbox") from None
            yield
        finally:
            handle.close()

    # -- enqueue ------------------------------------------------------------

    def enqueue(self, alerts: Iterable[Alert], routes: dict[str, Sequence[Route]], now: float
                ) -> list[Alert]:
        """Queue each alert for the routes of its rule (``routes[rule_id]``);
        return the alerts queued (new ones, and updates with their revision)."""
        queued = []
        with self._connect() as db:
            for alert in alerts:
                row = db.execute("SELECT revision, sources, fatalities FROM alert_state WHERE alert_id = ?",
                                 (alert.alert_id,)).fetchone()
                if row:
                    reason = update_reason(alert, row[1], row[2])
                    if reason is None:
                        continue
                    alert = alert.model_copy(update={"revision": row[0] + 1,
                                                     "reasons": [*alert.reasons, reason]})
                event = alert.event
                db.execute("INSERT OR REPLACE INTO alert_state VALUES (?,?,?,?)",
                           (alert.alert_id, alert.revision,
                            event.independent_sources if event else None,
                            event.fatalities if event else None))
                doc = alert.model_dump_json()
                for route in routes.get(alert.rule_id, ()):
                    window = (now - now % route.digest_seconds) if route.digest_seconds else None
                    db.execute(
                        "INSERT OR IGNORE INTO deliveries(alert_id, channel, revision, rule_id, alert, "
                        "digest_window, created_at, next_attempt) VALUES (?,?,?,?,?,?,?,?)",
                        (alert.alert_id, route.channel, alert.revision, alert.rule_id, doc, window,
                         now, now))
                queued.append(alert)
        return queued

    # -- immediate deliveries ---------------------------------------------------

    def due(self, now: float, limit: int = 100) -> list[Delivery]:
        """Pending, non-digest deliveries whose next attempt is due, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT alert, channel, attempts FROM deliveries WHERE status = 'pending' "
                "AND digest_window IS NULL AND next_attempt <= ? ORDER BY created_at, rowid LIMIT ?",
                (now, limit)).fetchall()
        return [Delivery(Alert.model_validate_json(doc), channel, attempts)
                for doc, channel, attempts in rows]

    def _where(self, d: Delivery) -> tuple[str, str, int]:
        return d.alert.alert_id, d.channel, d.alert.revision

    def mark_sent(self, delivery: Delivery, now: float) -> None:
        with self._connect() as db:
            db.execute("UPDATE deliveries SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                       "last_error = NULL WHERE alert_id = ? AND channel = ? AND revision = ?",
                       (now, *self._where(delivery)))

    def mark_failed(self, delivery: Delivery, error: str, next_attempt: float | None) -> None:
        """A failed attempt: retry at ``next_attempt``, or give up when it is None."""
        with self._connect() as db:
            db.execute("UPDATE deliveries SET attempts = attempts + 1, last_error = ?, "
                       "next_attempt = coalesce(?, next_attempt), "
                       "status = CASE WHEN ? IS NULL THEN 'failed' ELSE status END "
                       "WHERE alert_id = ? AND channel = ? AND revision = ?",
                       (error, next_attempt, next_attempt, *self._where(delivery)))

    def postpone(self, delivery: Delivery, until: float) -> None:
        """Not an attempt: the rule's throttle holds it back until ``until``."""
        with self._connect() as db:
            db.execute("UPDATE deliveries SET next_attempt = ? "
                       "WHERE alert_id = ? AND channel = ? AND revision = ?",
                       (until, *self._where(delivery)))

    def sent_times(self, rule_id: str, channel: str, since: float) -> list[float]:
        """When this rule's deliveries to this channel were sent, since ``since``."""
        with self._connect() as db:
            rows = db.execute("SELECT sent_at FROM deliveries WHERE rule_id = ? AND channel = ? "
                              "AND status = 'sent' AND digest_window IS NULL AND sent_at >= ? "
                              "ORDER BY sent_at", (rule_id, channel, since)).fetchall()
        return [r[0] for r in rows]

    # -- digests ----------------------------------------------------------------

    def due_digests(self, now: float, periods: dict[str, int]) -> list[tuple[str, float, int]]:
        """(channel, window start, attempts so far) of closed windows with pending alerts."""
        out = []
        with self._connect() as db:
            for channel, seconds in periods.items():
                windows = db.execute(
                    "SELECT DISTINCT digest_window FROM deliveries WHERE channel = ? AND "
                    "status = 'pending' AND digest_window IS NOT NULL AND digest_window + ? <= ? "
                    "ORDER BY digest_window", (channel, seconds, now)).fetchall()
                for (start,) in windows:
                    db.execute("INSERT OR IGNORE INTO digests(channel, window_start, next_attempt) "
                               "VALUES (?,?,?)", (channel, start, start + seconds))
                    attempts, next_attempt = db.execute(
                        "SELECT attempts, next_attempt FROM digests WHERE channel = ? AND window_start = ?",
                        (channel, start)).fetchone()
                    if next_attempt <= now:
                        out.append((channel, start, attempts))
        return out

    def digest_alerts(self, channel: str, window: float) -> list[Alert]:
        with self._connect() as db:
            rows = db.execute("SELECT alert FROM deliveries WHERE channel = ? AND digest_window = ? "
                              "AND status = 'pending' ORDER BY created_at, rowid",
                              (channel, window)).fetchall()
        return [Alert.model_validate_json(doc) for (doc,) in rows]

    def mark_digest_sent(self, channel: str, window: float, now: float) -> None:
        with self._connect() as db:
            db.execute("UPDATE digests SET sent_at = ?, attempts = attempts + 1 "
                       "WHERE channel = ? AND window_start = ?", (now, channel, window))
            db.execute("UPDATE deliveries SET status = 'sent', sent_at = ? WHERE channel = ? "
                       "AND digest_window = ? AND status = 'pending'", (now, channel, window))

    def mark_digest_failed(self, channel: str, window: float, error: str, next_attempt: float) -> None:
        with self._connect() as db:
            db.execute("UPDATE digests SET attempts = attempts + 1, last_error = ?, next_attempt = ? "
                       "WHERE channel = ? AND window_start = ?", (error, next_attempt, channel, window))

    # -- reads ------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
        return {"pending": 0, "sent": 0, "failed": 0, **dict(rows)}

    def status(self) -> list[dict]:
        """Every delivery (without the alert body), for operators and tests."""
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT alert_id, channel, revision, rule_id, status, attempts, "
                              "last_error, sent_at FROM deliveries ORDER BY created_at, rowid").fetchall()
        return [dict(r) for r in rows]
