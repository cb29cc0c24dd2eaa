"""The always-on service: poll the configured feeds on a schedule, analyse
what is new, store it, announce new alerts once.

Lifecycle of one round: poll every feed (conditional GET with the validators
kept in the store) → read the pages of entries not seen before → run the
embedded pipeline over them → upsert articles and events → store alerts and
announce only those not stored before (console and ``out_dir/alerts.jsonl``)
→ mark the entries seen. Entries are marked seen only after their round has
been stored, so a crash re-reads them (at-least-once) and the idempotent
store keeps one copy. SIGTERM and SIGINT finish the current round, then stop.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.http import Fetcher, FetchSettings
from connectors.sources import poll_feed, read_entry
from connectors.console import print_alert
from connectors.store import Store, default_db
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
    for field in ("interval_seconds", "store", "out_dir", "rules"):
        value = environ.get(ENV_PREFIX + field.upper())
        if value:
            data[field] = value
            name += f" + ${ENV_PREFIX}{field.upper()}"
    try:
        return ServiceConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(map(str, first["loc"])) or "<config>"
        raise ConfigError(f"{name}: {field}: {first['msg']}") from exc


class _SeenInStore:
    """``x in seen`` backed by the store, for poll_feed."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.store.is_seen(key)


class Service:
    def __init__(self, config: ServiceConfig, beam_args: Sequence[str] = (), out=sys.stdout) -> None:
        from pipelines.rules import default_rules, load_rule_dir

        self.config = config
        self.beam_args = list(beam_args)
        self.out = out
        self.store = Store(config.store or default_db())
        self.rules = load_rule_dir(config.rules) if config.rules else default_rules()
        self.stopping = threading.Event()

    def stop(self, *_: object) -> None:
        log.info("stopping after the current round")
        self.stopping.set()

    def run(self, once: bool = False) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.stop)
        settings = FetchSettings(allowed_networks=self.config.allowed_networks)
        with Fetcher(settings) as fetcher:
            while not self.stopping.is_set():
                self.round(fetcher)
                if once:
                    break
                self.stopping.wait(self.config.interval_seconds)
        return 0

    def poll(self, fetcher: Fetcher) -> tuple[list[RawDocument], list[Failure], list[str]]:
        raw, failures, keys = [], [], []
        now = datetime.now(UTC).isoformat()
        for feed in self.config.feeds:
            state = self.store.feed_state(feed.url)
            result = poll_feed(fetcher, feed.url, state.etag, state.last_modified,
                               seen=_SeenInStore(self.store))
            if result.failure:
                failures.append(result.failure)
                state = replace(state, last_polled=now, last_error=result.failure.reason,
                                consecutive_failures=state.consecutive_failures + 1)
            else:
                state = replace(state, etag=result.etag, last_modified=result.last_modified,
                                last_polled=now, consecutive_failures=0, last_error=None)
            self.store.put_feed_state(state)
            for entry in result.entries:
                if self.stopping.is_set():
                    break
                item = read_entry(fetcher, entry, feed.url)
                if isinstance(item, Failure):
                    # Not marked seen: the page is tried again next round.
                    failures.append(item)
                else:
                    raw.append(item)
                    keys.append(entry.doc_id)
        return raw, failures, keys

    def round(self, fetcher: Fetcher) -> list[Alert]:
        """One polling round; returns the alerts announced in it."""
        from pipelines import embedded

        raw, failures, keys = self.poll(fetcher)
        for failure in failures:
            log.warning("%s", failure.line())
        if not raw:
            self.store.mark_seen(keys, datetime.now(UTC).isoformat())
            return []
        result = embedded.run(raw, failures, self.rules, self.config.out_dir / "last-round",
                              self.store.path, self.beam_args)
        new = self.store.put_alerts(result.alerts)
        self.announce(new)
        self.store.mark_seen(keys, datetime.now(UTC).isoformat())
        print(f"round: new={len(raw)} failed={len(result.failures)} articles={result.articles} "
              f"events={result.events} new_alerts={len(new)}", file=self.out, flush=True)
        return new

    def announce(self, alerts: list[Alert]) -> None:
        if not alerts:
            return
        self.config.out_dir.mkdir(parents=True, exist_ok=True)
        with (self.config.out_dir / "alerts.jsonl").open("a", encoding="utf-8") as handle:
            for alert in alerts:
                handle.write(alert.model_dump_json() + "\n")
                print_alert(alert, self.out)
