"""The always-on service: poll the configured feeds on a schedule, analyse
what is new, store it, announce new alerts once.

Lifecycle of one round: poll the feeds that are due (their schedules,
conditional GET and per-host limits: connectors/ingest.py) and take what WebSub
hubs pushed → read the pages of entries not seen before → run the
embedded pipeline over them → upsert articles and events → store alerts and
announce only those not stored before (console and ``out_dir/alerts.jsonl``)
→ mark the entries seen. Entries are marked seen only after their round has
been stored, so a crash re-reads them (at-least-once) and the idempotent
store keeps one copy. SIGTERM and SIGINT finish the current round, then stop.

Two rounds in flight (embedded mode, ``embedded.overlap_rounds``): reading a
round's pages and running its pipeline each leave one of two cores mostly idle
(docs/benchmarks.md), so ``Service.rounds`` runs a round's pipeline, storing and
announcing on a thread of its own while the next round's pages are read. The
pipelines still run one at a time and in order, each round stores and marks
its entries seen before the next one's pipeline starts, and the round being read
leaves out the entries of the one being analysed (``Ingest.collect``'s
``in_flight``). On SIGTERM both rounds finish, then the service stops.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.extract import extract_page
from connectors.http import Fetcher
from connectors.console import print_alert
from connectors.notify.config import NotifyConfig
from connectors.notify.notifier import Notifier, routes_for
from connectors.notify.outbox import Outbox
from connectors.elasticsearch import EsSettings
from connectors.kafka import KafkaSettings
from connectors.store import Store, default_db
from connectors.service_settings import EmbeddedConfig, FetchConfig, OpsConfig, \
    PolitenessConfig, ScheduleConfig, WebSubConfig, env_overrides
from connectors.service_ops import ServiceOps
from schemas import Alert, Failure, RawDocument

log = logging.getLogger(__name__)

ENV_PREFIX = "NEWSWATCH_"


class ConfigError(ValueError):
    """The configuration is invalid; the message names the file and the field."""


class FeedConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://")
    name: str | None = None


class ServiceConfig(BaseModel):
    """Service settings: defaults here, a YAML file over them, then
    ``NEWSWATCH_<FIELD>`` environment variables over both."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    feeds: tuple[FeedConfig, ...] = ()
    interval_seconds: float = Field(default=300.0, gt=0)
    store: Path | None = Field(default=None, description="SQLite store (default: the CLI's default)")
    out_dir: Path = Path("newswatch-out")
    rules: Path | None = None
    allowed_networks: tuple[str, ...] = Field(
        default=(), description="Private networks feeds may point to (intranets, tests), e.g. 127.0.0.0/8")
    notify: NotifyConfig | None = Field(default=None, description="Email and Slack delivery (connectors.notify)")
    kafka: KafkaSettings | None = Field(
        default=None, description="Publish new articles to Kafka for the streaming job instead of analysing them here")
    elasticsearch: EsSettings | None = Field(default=None, description="Cluster of the streaming job")
    # Scheduling and operations (connectors/service_settings.py, docs/operations.md).
    schedule: ScheduleConfig = ScheduleConfig()
    fetch: FetchConfig = FetchConfig()
    politeness: PolitenessConfig = PolitenessConfig()
    ops: OpsConfig = OpsConfig()
    websub: WebSubConfig = WebSubConfig()
    embedded: EmbeddedConfig = EmbeddedConfig()
    log_format: Literal["json", "text"] = "json"


def load_config(path: Path | None, environ: dict[str, str] | None = None) -> ServiceConfig:
    environ = dict(os.environ if environ is None else environ)
    data: dict = {}
    name = str(path) if path else "<defaults>"
    if path is not None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{name}: cannot read config: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{name}: expected a mapping of settings")
    for field in ("interval_seconds", "store", "out_dir", "rules", "log_format"):
        value = environ.get(ENV_PREFIX + field.upper())
        if value:
            data[field] = value
            name += f" + ${ENV_PREFIX}{field.upper()}"
    for variable in env_overrides(data, environ, ENV_PREFIX):
        name += f" + ${variable}"
    try:
        return ServiceConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(map(str, first["loc"])) or "<config>"
        raise ConfigError(f"{name}: {field}: {first['msg']}") from exc


@dataclass(frozen=True)
class Batch:
    """A round's reading: its new pages, the read failures, the doc ids to mark seen
    once the round is stored, and when the reading started (``time.time()``)."""

    raw: list[RawDocument]
    failures: list[Failure]
    keys: list[str]
    started: float


class Service:
    def __init__(self, config: ServiceConfig, beam_args: Sequence[str] = (), out=sys.stdout) -> None:
        from pipelines.rules import default_rules, load_rule_dir

        self.config = config
        self.beam_args = list(beam_args)
        self.out = out
        self.store = Store(config.store or default_db())
        self.rules = load_rule_dir(config.rules) if config.rules else default_rules()
        self.stopping = threading.Event()
        self._in_flight: set[str] = set()  # keys of a round read, not yet marked seen
        self._in_flight_lock = threading.Lock()
        try:  # schedules, politeness, WebSub, metrics, the ops port: connectors/service_ops.py
            self.ops = ServiceOps(config, self.store, self.stopping)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        self.ops.ingest.max_entries = config.embedded.max_entries_per_round
        self.publisher = None  # connectors.kafka.Publisher, opened at the first Kafka round
        self.ahead = None  # tagging helpers (pipelines.embedded.TagAhead), fed as pages are read
        if config.kafka is None and config.embedded.helper_processes:
            from pipelines.embedded import TagAhead
            self.ahead = TagAhead(config.embedded.helper_processes)
            self.ops.ingest.on_read = self.ahead.submit
            # Page text is extracted in the helpers too (pipelines.embedded.TagAhead.call).
            self.ops.ingest.extract = functools.partial(self.ahead.call, extract_page)
        self.notifier = notifier_for(config, self.store, self.rules) if config.notify else None

    def stop(self, *_: object) -> None:
        log.info("stopping after the current round")
        self.stopping.set()
        self.ops.wake.set()

    def run(self, once: bool = False) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)
        settings = self.ops.fetch_settings()
        sender = None
        if self.notifier and self.config.notify and self.config.notify.deliver_in_service and not once:
            sender = threading.Thread(target=self._deliver, name="notifier", daemon=True)
            sender.start()
        with Fetcher(settings) as fetcher, self.ops.running():
            self.rounds(fetcher, 1 if once else None)
        if once and self.notifier:
            self.notifier.drain()
        if sender:
            sender.join(timeout=60)
        if self.publisher is not None:
            self.publisher.close()
            self.publisher = None
        self.close()
        return 0

    def close(self) -> None:
        """Stop the tagging helpers (they are started again by the next round)."""
        if self.ahead is not None:
            self.ahead.close()

    def _deliver(self) -> None:
        from connectors.notify.outbox import OutboxLocked
        assert self.notifier is not None
        try:
            self.notifier.run(self.stopping)
        except OutboxLocked as exc:
            log.warning("%s; leaving delivery to it", exc)

    def rounds(self, fetcher: Fetcher, count: int | None = None,
               on_round: Callable[[Batch, list[Alert]], None] | None = None) -> None:
        """Polling rounds until stopped (or ``count`` of them), each after waiting until a
        feed is due. In the embedded mode with ``embedded.overlap_rounds``, a round's
        analysis (``process``) runs on the thread "newswatch-pipeline" while the next
        round is read here; ``on_round(batch, alerts)`` is called there as each round is
        done. Returns once every round read has been processed."""
        if self.config.kafka is not None or not self.config.embedded.overlap_rounds:
            done = 0
            while not self.stopping.is_set():
                batch = self.read(fetcher)
                alerts = self._publish_batch(batch) if self.config.kafka is not None else self.process(batch)
                if on_round is not None:
                    on_round(batch, alerts)
                done += 1
                if count is not None and done >= count:
                    break
                self.ops.sleep()  # until a feed is due, a hub pushes, or SIGTERM
            return
        done = 0
        analysing: Future | None = None  # the round in its pipeline, on the other thread

        def settle() -> None:  # wait for it; its error stops the service
            nonlocal analysing
            previous, analysing = analysing, None
            if previous is not None:
                previous.result()

        with ThreadPoolExecutor(1, thread_name_prefix="newswatch-pipeline") as pipeline:
            try:
                while not self.stopping.is_set():
                    if analysing is not None and analysing.done():
                        settle()  # a round that failed stops the service before the next read
                    if self.ahead is not None and self.ahead.pool is None:
                        settle()  # helpers are forked (``poll``) only while no pipeline runs
                    with self._in_flight_lock:
                        in_flight = frozenset(self._in_flight)
                    batch = self.read(fetcher, in_flight)
                    with self._in_flight_lock:
                        self._in_flight.update(batch.keys)
                    settle()  # one pipeline at a time, in the order the rounds were read
                    analysing = pipeline.submit(self._analyse, batch, on_round)
                    done += 1
                    if count is not None and done >= count:
                        break
                    self.ops.sleep()  # until a feed is due, a hub pushes, or SIGTERM
            finally:
                settle()

    def _analyse(self, batch: Batch, on_round: Callable[[Batch, list[Alert]], None] | None) -> list[Alert]:
        try:
            alerts = self.process(batch)
        finally:
            with self._in_flight_lock:
                self._in_flight.difference_update(batch.keys)  # stored and seen, or to read again
        if on_round is not None:
            on_round(batch, alerts)
        return alerts

    def poll(self, fetcher: Fetcher, in_flight: frozenset[str] = frozenset(),
             ) -> tuple[list[RawDocument], list[Failure], list[str]]:
        """Due feeds and pushed entries, their new pages read (connectors/ingest.py);
        ``in_flight``: entries of a round still being analysed, left out."""
        if self.ahead is not None:
            self.ahead.open()  # forked here (if not running), before the reading threads call on it
            self.ahead.begin()  # what is submitted from now on is this round's
        collected = self.ops.collect(fetcher, in_flight)
        if self.ahead is not None:
            self.ahead.read_all()  # its articles may all go to the helpers now
        return collected.raw, collected.failures, collected.keys

    def read(self, fetcher: Fetcher, in_flight: frozenset[str] = frozenset()) -> Batch:
        started = time.time()
        raw, failures, keys = self.poll(fetcher, in_flight)
        return Batch(raw, failures, keys, started)

    def round(self, fetcher: Fetcher) -> list[Alert]:
        """One polling round, read then processed; returns the alerts announced in it."""
        batch = self.read(fetcher)
        if self.config.kafka is not None:
            return self._publish_batch(batch)
        return self.process(batch)

    def _publish_batch(self, batch: Batch) -> list[Alert]:
        return self.publish(batch.raw, batch.failures, batch.keys)

    def process(self, batch: Batch) -> list[Alert]:
        """The embedded mode's analysis of a round read: the pipeline, the store, the
        announcements, then its entries marked seen; returns the alerts announced."""
        from pipelines import embedded

        raw, failures, keys = batch.raw, batch.failures, batch.keys
        for failure in failures:
            log.warning("%s", failure.line())
        if not raw:
            self.store.mark_seen(keys, datetime.now(UTC).isoformat())
            return []
        result = embedded.run(raw, failures, self.rules, self.config.out_dir / "last-round",
                              self.store.path, self.beam_args, self.ahead)
        new = self.store.put_alerts(result.alerts)
        self.announce(new)
        self.ops.round_done(raw, result.articles, result.duplicates, result.events, new)
        if self.notifier:
            self.notifier.enqueue(self._as_stored(result.alerts), self.rules)
        self.store.mark_seen(keys, datetime.now(UTC).isoformat())
        print(f"round: new={len(raw)} failed={len(result.failures)} articles={result.articles} "
              f"events={result.events} new_alerts={len(new)}", file=self.out, flush=True)
        return new

    def publish(self, raw: list[RawDocument], failures: list[Failure], keys: list[str]) -> list[Alert]:
        """Kafka mode: the streaming job analyses; entries are marked seen once Kafka acknowledged them."""
        from kafka.errors import KafkaError

        from connectors.kafka import KafkaUnavailable, Publisher, ensure_topics, publish_round
        from connectors.outage import describe
        assert self.config.kafka is not None
        try:
            if self.publisher is None:
                ensure_topics(self.config.kafka)
                self.publisher = Publisher(self.config.kafka)
            articles, dead = publish_round(self.publisher, raw, failures)
        except (KafkaError, KafkaUnavailable) as exc:
            # Not marked seen: their feeds' next polls read these entries again and
            # the round is re-sent whole (the job's deterministic ids absorb copies).
            reason = describe(exc)
            wait = self.ops.publish_failed(reason, {d.feed_url for d in raw if d.feed_url})
            log.warning("%s: Kafka did not take the round (%d new entries, read again in %.0f s): %s",
                        self.config.kafka.bootstrap_servers, len(raw), wait, reason)
            if self.publisher is not None:
                self.publisher.close()
                self.publisher = None
            print(f"round: new={len(raw)} published=0 kafka_unavailable=1", file=self.out, flush=True)
            return []
        self.store.mark_seen(keys, datetime.now(UTC).isoformat())
        self.ops.published(articles)
        print(f"round: new={len(raw)} published={articles} dead_letters={dead}", file=self.out, flush=True)
        return []

    def _as_stored(self, alerts: list[Alert]) -> list[Alert]:
        """Alerts restated for their events as stored: a cluster seen in
        earlier rounds has every source so far, so an update can be told."""
        from pipelines.rules import with_event
        out = []
        for alert in alerts:
            event = self.store.event(alert.cluster_id) if alert.cluster_id else None
            out.append(with_event(alert, event) if event else alert)
        return out

    def announce(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        self.config.out_dir.mkdir(parents=True, exist_ok=True)
        with (self.config.out_dir / "alerts.jsonl").open("a", encoding="utf-8") as handle:
            for alert in alerts:
                handle.write(alert.model_dump_json() + "\n")
                print_alert(alert, self.out)


def notifier_for(config: ServiceConfig, store: Store, rules: list) -> Notifier:
    """The notifier of ``config.notify``; its outbox defaults to outbox.db beside the store."""
    assert config.notify is not None
    try:
        routes_for(rules, config.notify)
        outbox = Outbox(config.notify.outbox or store.path.with_name("outbox.db"))
        return Notifier.from_config(config.notify, outbox, rules)
    except ValueError as exc:
        raise ConfigError(f"notify: {exc}") from exc
