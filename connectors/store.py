"""The embedded store: one SQLite file holding articles, events and alerts,
with full-text search (FTS5) over articles.

Writes are idempotent upserts keyed by the records' deterministic ids, so
processing the same input twice leaves one copy of everything. One writer at
a time (SQLite's lock, waited for up to ``connectors.sqlite.BUSY_TIMEOUT_S``);
readers never block.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from connectors.schedule import Schedule
from connectors.sqlite import transaction
from pipelines.cluster import merge_into
from schemas import Alert, Article, Event

DB_ENV = "NEWSWATCH_DB"


def default_db() -> Path:
    """$NEWSWATCH_DB, else the XDG data folder (~/.local/share/newswatch/newswatch.db)."""
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV])
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "newswatch" / "newswatch.db"

_SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL,
    source TEXT, published TEXT, doc TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    title, text, content='articles', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS articles_ai AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
CREATE TRIGGER IF NOT EXISTS articles_ad AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, text)
    VALUES ('delete', old.rowid, old.title, old.text);
END;
CREATE TRIGGER IF NOT EXISTS articles_au AFTER UPDATE ON articles BEGIN
    INSERT INTO articles_fts(articles_fts, rowid, title, text)
    VALUES ('delete', old.rowid, old.title, old.text);
    INSERT INTO articles_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
CREATE TABLE IF NOT EXISTS events (
    cluster_id TEXT PRIMARY KEY, event_type TEXT NOT NULL, sub_event_type TEXT NOT NULL,
    event_date TEXT, published TEXT, country TEXT, location TEXT, modality TEXT NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_date ON events(event_date);
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, first_seen TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, last_polled TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0, last_error TEXT);
CREATE TABLE IF NOT EXISTS schedules (
    url TEXT PRIMARY KEY, interval_s REAL NOT NULL, next_poll TEXT, last_change TEXT,
    failures INTEGER NOT NULL DEFAULT 0, failing_since TEXT);
CREATE TABLE IF NOT EXISTS imported_feeds (url TEXT PRIMARY KEY, title TEXT, added TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS websub (
    topic TEXT PRIMARY KEY, hub TEXT, state TEXT NOT NULL, lease_expires TEXT,
    checked_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS websub_inbox (
    doc_id TEXT PRIMARY KEY, topic TEXT NOT NULL, entry TEXT NOT NULL, received TEXT NOT NULL);
"""


class StoreError(RuntimeError):
    """The store cannot be opened or queried; the message says which and why."""


@dataclass(frozen=True)
class FeedState:
    """What the service remembers of a feed between polls and restarts."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_polled: str | None = None
    consecutive_failures: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class SearchHit:
    article: Article
    snippet: str
    score: float


def _dump(record: Article | Event | Alert) -> str:
    return record.model_dump_json()


class Store:
    """The SQLite store at ``path`` (created on first use)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open store: {exc}") from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with transaction(self.path) as db:
            yield db

    # -- writes -------------------------------------------------------------

    def put_articles(self, articles: Iterable[Article]) -> None:
        rows = [(a.id, a.title, a.text, a.source, a.published.isoformat() if a.published else None,
                 _dump(a)) for a in articles]
        with self._connect() as db:
            db.executemany(
                "INSERT INTO articles(id, title, text, source, published, doc) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET title=excluded.title, text=excluded.text, "
                "source=excluded.source, published=excluded.published, doc=excluded.doc", rows)

    def put_events(self, events: Iterable[Event]) -> None:
        """Upsert events by cluster id; a cluster already stored keeps its
        sources and gains the new ones (pipelines.cluster.merge_into)."""
        events = list(events)
        with self._connect() as db:
            stored = {}
            for event in events:
                row = db.execute("SELECT doc FROM events WHERE cluster_id = ?",
                                 (event.cluster_id or event.event_id,)).fetchone()
                if row:
                    stored[event.cluster_id] = Event.model_validate_json(row[0])
        events = [merge_into(stored[e.cluster_id], e) if e.cluster_id in stored else e for e in events]
        rows = [(e.cluster_id or e.event_id, e.event_type, e.sub_event_type,
                 e.event_date.isoformat() if e.event_date else None,
                 e.published.isoformat() if e.published else None,
                 e.country, e.location, e.modality, _dump(e)) for e in events]
        with self._connect() as db:
            db.executemany(
                "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(cluster_id) DO UPDATE SET "
                "event_type=excluded.event_type, sub_event_type=excluded.sub_event_type, "
                "event_date=excluded.event_date, published=excluded.published, "
                "country=excluded.country, location=excluded.location, "
                "modality=excluded.modality, doc=excluded.doc", rows)

    def put_alerts(self, alerts: Iterable[Alert]) -> list[Alert]:
        """Store alerts not stored before; return those (the new ones)."""
        new = []
        with self._connect() as db:
            for alert in alerts:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO alerts VALUES (?,?,?,?)",
                    (alert.alert_id, alert.rule_id, alert.created_at.isoformat(), _dump(alert)))
                if cursor.rowcount:
                    new.append(alert)
        return new

    def mark_seen(self, keys: Iterable[str], when: str) -> list[str]:
        """Record keys; return the ones not seen before."""
        fresh = []
        with self._connect() as db:
            for key in keys:
                if db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (key, when)).rowcount:
                    fresh.append(key)
        return fresh

    def feed_state(self, url: str) -> FeedState:
        with self._connect() as db:
            row = db.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
        return FeedState(*row) if row else FeedState(url)

    def put_feed_state(self, state: FeedState) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO feeds VALUES (?,?,?,?,?,?)",
                       (state.url, state.etag, state.last_modified, state.last_polled,
                        state.consecutive_failures, state.last_error))

    def is_seen(self, key: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM seen WHERE key = ?", (key,)).fetchone() is not None

    # -- reads --------------------------------------------------------------

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Full-text search in FTS5 syntax; a query FTS5 rejects (such as
        'al-Sukhna', read as column 'al' minus 'Sukhna') is retried with every
        word as a quoted phrase."""
        try:
            return self._search(query, limit)
        except sqlite3.OperationalError:
            quoted = " ".join('"' + word.replace('"', '""') + '"' for word in query.split())
            try:
                return self._search(quoted, limit)
            except sqlite3.OperationalError as again:
                raise StoreError(f"search query {query!r}: {again}") from again

    def _search(self, query: str, limit: int) -> list[SearchHit]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT a.doc, snippet(articles_fts, 1, '[', ']', ' … ', 16), bm25(articles_fts) "
                "FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid "
                "WHERE articles_fts MATCH ? ORDER BY bm25(articles_fts) LIMIT ?",
                (query, limit)).fetchall()
        return [SearchHit(Article.model_validate_json(doc), snippet, -score)
                for doc, snippet, score in rows]

    def events(self, kind: str | None = None, since: date | None = None,
               limit: int = 100) -> list[Event]:
        """Events, newest first; ``kind`` matches event type or sub-type
        (case-insensitive substring); ``since`` compares the event date, or the
        publication date when the event date is unknown."""
        where, args = [], []
        if kind:
            where.append("(lower(event_type) LIKE ? OR lower(sub_event_type) LIKE ?)")
            args += [f"%{kind.lower()}%"] * 2
        if since:
            where.append("coalesce(event_date, substr(published, 1, 10)) >= ?")
            args.append(since.isoformat())
        sql = "SELECT doc FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY coalesce(event_date, published) DESC LIMIT ?"
        with self._connect() as db:
            return [Event.model_validate_json(doc) for (doc,) in db.execute(sql, [*args, limit])]

    def event(self, cluster_id: str) -> Event | None:
        """The stored event of a cluster, with every source merged into it so far."""
        with self._connect() as db:
            row = db.execute("SELECT doc FROM events WHERE cluster_id = ?", (cluster_id,)).fetchone()
        return Event.model_validate_json(row[0]) if row else None

    def alerts(self, limit: int = 100) -> list[Alert]:
        with self._connect() as db:
            rows = db.execute("SELECT doc FROM alerts ORDER BY created_at DESC LIMIT ?", (limit,))
            return [Alert.model_validate_json(doc) for (doc,) in rows]

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
                    for table in ("articles", "events", "alerts")}

    # -- the service's feed list, schedules and push subscriptions ----------

    def schedule(self, url: str) -> Schedule | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM schedules WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        url, interval, next_poll, last_change, failures, failing_since = row
        return Schedule(url, interval, _when(next_poll), _when(last_change), failures,
                        _when(failing_since))

    def put_schedule(self, s: Schedule) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO schedules VALUES (?,?,?,?,?,?)",
                       (s.url, s.interval, _iso(s.next_poll), _iso(s.last_change), s.failures,
                        _iso(s.failing_since)))

    def imported_feeds(self) -> list[tuple[str, str | None]]:
        """Feeds added with ``newswatch feeds import``: (url, title), in import order."""
        with self._connect() as db:
            return db.execute("SELECT url, title FROM imported_feeds ORDER BY rowid").fetchall()

    def import_feeds(self, feeds: Iterable[tuple[str, str | None]], when: str) -> int:
        """Add feeds not listed before; return how many were new."""
        with self._connect() as db:
            return sum(db.execute("INSERT OR IGNORE INTO imported_feeds VALUES (?,?,?)",
                                  (url, title, when)).rowcount for url, title in feeds)

    def websub_state(self, topic: str) -> tuple[str | None, str, str | None, str] | None:
        """(hub, state, lease_expires, checked_at) of a feed's push subscription."""
        with self._connect() as db:
            row = db.execute("SELECT hub, state, lease_expires, checked_at FROM websub "
                             "WHERE topic = ?", (topic,)).fetchone()
        return tuple(row) if row else None  # type: ignore[return-value]

    def put_websub_state(self, topic: str, hub: str | None, state: str,
                         lease_expires: str | None, checked_at: str) -> None:
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO websub VALUES (?,?,?,?,?)",
                       (topic, hub, state, lease_expires, checked_at))


    def put_pushed(self, topic: str, entries: Iterable[tuple[str, str]], received: str) -> None:
        """Keep (doc id, entry JSON) pairs a hub pushed until they are seen (or expire)."""
        with self._connect() as db:
            db.executemany("INSERT OR IGNORE INTO websub_inbox VALUES (?,?,?,?)",
                           [(doc_id, topic, entry, received) for doc_id, entry in entries])

    def pushed(self, expired_before: str) -> list[tuple[str, str, str]]:
        """(topic, entry JSON, received) of pushed entries not seen yet, oldest first;
        forgets the seen ones and those received before ``expired_before``."""
        with self._connect() as db:
            db.execute("DELETE FROM websub_inbox WHERE received < ? OR doc_id IN (SELECT key FROM seen)",
                       (expired_before,))
            rows = db.execute("SELECT topic, entry, received FROM websub_inbox ORDER BY received").fetchall()
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
