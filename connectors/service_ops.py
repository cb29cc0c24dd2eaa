"""The scheduling and operations side of the service, in one object the
service holds: the feed list, ingestion (schedules, politeness, the fetch
pool), WebSub, metrics and the ops HTTP port, and when to wake up next.

``Service.run`` enters ``ServiceOps.running()`` around its loop: the ops port
is open and WebSub callbacks are served while it runs; on leaving, in-flight
fetches finish and the port closes.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Container, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from connectors.feeds import FeedRef
from connectors.http import Fetcher, FetchSettings
from connectors.ingest import Collected, Ingest
from connectors.metrics import Metrics
from connectors.ops import OpsServer
from connectors.store import Store
from connectors.websub import WebSub
from schemas import Alert, RawDocument

if TYPE_CHECKING:
    from connectors.service import ServiceConfig

log = logging.getLogger(__name__)

BEAT_SECONDS = 30.0  # the loop wakes at least this often, to show it is alive


class ServiceOps:
    def __init__(self, config: ServiceConfig, store: Store, stopping: threading.Event,
                 environ: Mapping[str, str] | None = None, rng: random.Random | None = None) -> None:
        self.config = config
        self.store = store
        self.stopping = stopping
        self.wake = threading.Event()
        self.metrics = Metrics()
        self.policy = config.schedule.policy(config.interval_seconds)
        self.websub: WebSub | None = None
        if config.websub.public_url:
            secret = config.websub.secret(environ)
            if not secret:
                raise ValueError(f"websub.public_url is set but ${config.websub.secret_env} is empty")
            self.websub = WebSub(store, config.websub.public_url, secret, self.metrics,
                                 lease_seconds=config.websub.lease_seconds, on_push=self.wake.set)
        p = config.politeness
        self.ingest = Ingest(store, self.policy, self.fetch_settings(), self.metrics, stopping,
                             workers=p.workers, per_host=p.per_host, host_delay=p.host_delay_seconds,
                             robots_ttl=p.robots_ttl_seconds, websub=self.websub, rng=rng)
        self.server: OpsServer | None = None
        self._beat = time.monotonic()
        self._rounds = 0
        self._kafka_down: str | None = None  # why the last round could not be published
        self._publish_failures = 0  # rounds in a row Kafka did not take

    def fetch_settings(self) -> FetchSettings:
        f = self.config.fetch
        return FetchSettings(connect_timeout=f.connect_timeout_seconds,
                             read_timeout=f.read_timeout_seconds,
                             total_timeout=f.total_timeout_seconds, max_bytes=f.max_bytes,
                             max_redirects=f.max_redirects,
                             allowed_networks=self.config.allowed_networks)

    def feeds(self) -> list[FeedRef]:
        return feed_list(self.config, self.store)

    # -- the loop -------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[ServiceOps]:
        ops = self.config.ops
        if ops.enabled:
            try:
                self.server = OpsServer(self.metrics, self.live, self.ready, self.websub,
                                        host=ops.host, port=ops.port).start()
            except OSError as exc:
                from connectors.service import ConfigError
                raise ConfigError(f"ops: cannot listen on {ops.host}:{ops.port}: "
                                  f"{exc.strerror or exc}") from exc
        try:
            yield self
        finally:
            self.ingest.close()  # in-flight fetches finish, queued ones are dropped
            if self.server is not None:
                self.server.stop()

    def collect(self, fetcher: Fetcher, in_flight: Container[str] = frozenset()) -> Collected:
        """One round's reading; ``in_flight``: entries of a round still being analysed."""
        self.beat()
        urls = [f.url for f in self.feeds()]
        if self.websub is not None and not self.stopping.is_set():
            self.websub.maintain(urls, fetcher)
        collected = self.ingest.collect(urls, in_flight)
        self.metrics.articles_extracted.inc(len(collected.raw))  # in Kafka mode too
        self.metrics.rounds.inc()
        self.metrics.last_round.set(time.time())
        self._rounds += 1
        return collected

    def sleep(self) -> None:
        """Until a feed is due, a hub pushes, or the service is told to stop."""
        while not self.stopping.is_set():
            self.beat()
            left = self.ingest.seconds_until_due([f.url for f in self.feeds()])
            if left <= 0 or self.wake.is_set():
                break
            self.wake.wait(min(left, BEAT_SECONDS))
        self.wake.clear()

    def round_done(self, raw: list[RawDocument], articles: int, duplicates: int, events: int,
                   new_alerts: list[Alert]) -> None:
        self.metrics.round_done(raw, articles, duplicates, events, new_alerts, datetime.now(UTC))
        self.beat()

    def published(self, articles: int) -> None:
        """Kafka mode: a round's articles were acknowledged by the broker."""
        self.metrics.published.inc(articles)
        self._kafka_down, self._publish_failures = None, 0
        self.beat()

    def publish_failed(self, reason: str, feeds: Iterable[str]) -> float:
        """Kafka mode: the broker did not take a round. Its feeds are polled
        again after a back-off (15 s, doubling, at most ``max_interval``), so
        their entries are re-read and re-sent soon, without refetching every
        page at full rate during a long outage. Returns the back-off."""
        self.metrics.publish_failures.inc()
        self._kafka_down = reason
        self._publish_failures += 1
        wait = min(self.policy.max_interval, 15.0 * 2 ** (self._publish_failures - 1))
        self.ingest.due_in(feeds, wait)
        self.beat()  # the loop is alive: waiting for the broker is its job
        return wait

    # -- health -------------------------------------------------------------

    def beat(self) -> None:
        self._beat = time.monotonic()

    def live(self) -> str | None:
        quiet = time.monotonic() - self._beat
        if quiet > self.config.ops.stall_after_seconds:
            return f"service loop silent for {quiet:.0f}s"
        return None

    def ready(self) -> str | None:
        if self.stopping.is_set():
            return "stopping"
        if self._rounds == 0:
            return "first poll not finished"
        if self._kafka_down:
            return f"kafka: {self._kafka_down}"
        try:
            self.store.counts()
        except (sqlite3.Error, OSError) as exc:
            return f"store: {type(exc).__name__}: {exc}"
        return None


def feed_list(config: ServiceConfig, store: Store) -> list[FeedRef]:
    """The configured feeds, then those imported from OPML, each once."""
    refs = {f.url: FeedRef(f.url, f.name) for f in config.feeds}
    for url, title in store.imported_feeds():
        refs.setdefault(url, FeedRef(url, title))
    return list(refs.values())
