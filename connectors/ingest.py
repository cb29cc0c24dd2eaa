"""One round of ingestion for the service: poll the feeds that are due, take
what hubs pushed, and read new entries' pages, in a bounded thread pool that
keeps to per-host limits and robots.txt.

What is remembered, and when (so a restart neither repeats nor misses):

- a feed's schedule is saved right after its poll;
- a feed's validators (ETag, Last-Modified) are saved only after a poll that
  found nothing new. A poll with new entries keeps the old ones, so the next
  conditional GET returns the feed again and any entry that was not stored
  (a failed page, a crash, a SIGTERM before its page was read) comes back.
  Cost: one extra full GET after each change;
- entries are marked seen by the service after the round is stored. While a round
  is being analysed the next one may already be read (``Service.rounds``): its
  entries are passed as ``in_flight``, not read again, and a feed listing any of
  them keeps its validators, as if they were new, until they are marked seen.

Stopping: once ``stop`` is set, queued work is dropped (those entries are not
marked seen, and their feed is made due at once, so the next run reads them)
and in-flight fetches finish, each within the fetcher's total deadline.

Crash barrier: an unexpected exception while polling one feed or reading one
entry becomes that item's ``Failure`` (and a logged traceback); the round goes on.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Container, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from connectors.feeds import FeedEntry
from connectors.http import Fetcher, FetchSettings
from connectors.metrics import Metrics
from connectors.politeness import HostLimiter, RobotsCache
from connectors.schedule import Schedule, SchedulePolicy, after_failure, after_success, \
    new_schedule, seconds_until_due
from connectors.extract import extract_page
from connectors.sources import Extract, PollResult, poll_feed, read_entry
from connectors.store import Store
from connectors.websub import WebSub
from schemas import Failure, RawDocument

log = logging.getLogger(__name__)


class SeenInStore:
    """``key in seen`` backed by the store, for poll_feed."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.store.is_seen(key)


class FetcherPool:
    """One guarded ``Fetcher`` per worker thread (a fetcher is meant for one thread)."""

    def __init__(self, settings: FetchSettings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._all: list[Fetcher] = []
        self._lock = threading.Lock()

    def get(self) -> Fetcher:
        fetcher = getattr(self._local, "fetcher", None)
        if fetcher is None:
            fetcher = self._local.fetcher = Fetcher(self.settings)
            with self._lock:
                self._all.append(fetcher)
        return fetcher

    def close(self) -> None:
        with self._lock:
            fetchers, self._all = self._all, []
        self._local = threading.local()
        for fetcher in fetchers:
            fetcher.close()


@dataclass(frozen=True)
class Collected:
    raw: list[RawDocument]
    failures: list[Failure]
    keys: list[str]  # doc ids to mark seen once the round is stored


class Ingest:
    def __init__(self, store: Store, policy: SchedulePolicy, settings: FetchSettings,
                 metrics: Metrics, stop: threading.Event, workers: int = 8, per_host: int = 2,
                 host_delay: float = 1.0, robots_ttl: float = 3600.0,
                 websub: WebSub | None = None, rng: random.Random | None = None,
                 max_entries: int | None = None) -> None:
        self.store = store
        self.max_entries = max_entries  # per round; the rest wait for the next one
        # Called with each page as it is read, while the others are still being read.
        self.on_read: Callable[[RawDocument], None] | None = None
        # Page HTML to text; the service may hand it to helper processes (pipelines/embedded.py).
        self.extract: Extract = extract_page
        self.policy = policy
        self.metrics = metrics
        self.stop = stop
        self.websub = websub
        self.rng = rng or random.Random()
        self.fetchers = FetcherPool(settings)
        self.limiter = HostLimiter(per_host, host_delay, stop)
        self.robots = RobotsCache(self.fetchers.get, ttl=robots_ttl, limiter=self.limiter)
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._rng_lock = threading.Lock()
        self._failing: set[str] = set()

    @property
    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="newswatch-fetch")
        return self._executor

    def close(self) -> None:
        """Let in-flight work finish, drop the rest, close the fetchers (reopened on use)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self.fetchers.close()

    def schedules(self, feeds: Sequence[str]) -> list[Schedule]:
        return [self.store.schedule(f) or new_schedule(f, self.policy) for f in feeds]

    def seconds_until_due(self, feeds: Sequence[str]) -> float:
        return seconds_until_due(self.schedules(feeds), datetime.now(UTC), self.policy.max_interval)

    def collect(self, feeds: Sequence[str], in_flight: Container[str] = frozenset()) -> Collected:
        """A round: due feeds polled, pushed entries taken, new entries' pages read.
        ``in_flight``: doc ids read by an earlier round not yet marked seen (being
        analysed); they are left out, and their feeds keep their validators."""
        now = datetime.now(UTC)
        schedules = self.schedules(feeds)
        due = [s for s in schedules if s.due(now)]
        pushed = self.websub.drain() if self.websub else []
        waits = [(now - s.next_poll).total_seconds() for s in due if s.next_poll is not None]
        waits += [(now - p.received).total_seconds() for p in pushed]
        self.metrics.queue_pending.set(len(due) + sum(len(p.entries) for p in pushed))
        self.metrics.queue_lag.set(max(waits, default=0.0))
        self.metrics.feeds.set(len(feeds))

        entries: list[tuple[FeedEntry, str]] = []
        failures: list[Failure] = []
        polls = [(s, self._pool.submit(self._poll, s, in_flight)) for s in due]
        for _schedule, future in polls:
            result = future.result()
            if result is None:
                continue  # stopping: the feed stays due
            if result.failure:
                failures.append(result.failure)
            entries += [(e, result.feed_url) for e in result.entries]
        seen = SeenInStore(self.store)
        for push in pushed:
            entries += [(e, push.topic) for e in push.entries
                        if e.doc_id not in seen and e.doc_id not in in_flight]
        self.metrics.feeds_failing.set(sum(s.failing for s in self.schedules(feeds)))

        unique: dict[str, tuple[FeedEntry, str]] = {}
        for entry, origin in entries:
            unique.setdefault(entry.doc_id, (entry, origin))
        deferred: set[str] = set()  # feeds with entries left for the next round
        if self.max_entries is not None and len(unique) > self.max_entries:
            # Pushed entries are not deferred: no poll would bring them back.
            pushed_ids = {e.doc_id for p in pushed for e in p.entries}
            room = max(0, self.max_entries - len(pushed_ids & unique.keys()))
            polled = [d for d in unique if d not in pushed_ids]
            for doc_id in polled[room:]:
                deferred.add(unique.pop(doc_id)[1])
            log.info("round capped at %s entries; %s wait for the next round",
                     len(unique), len(polled) - room)
        reads: list[tuple[str, Future[RawDocument | Failure | None]]] = [
            (doc_id, self._pool.submit(self._read, entry, origin, now))
            for doc_id, (entry, origin) in unique.items()]
        raw, keys, dropped = [], [], set()
        for doc_id, read in reads:
            item = read.result()
            if item is None:  # dropped by SIGTERM: not marked seen
                dropped.add(unique[doc_id][1])
                continue
            if isinstance(item, Failure):
                failures.append(item)  # not marked seen: tried again next poll
            else:
                raw.append(item)
                keys.append(doc_id)
                if self.on_read is not None:
                    self.on_read(item)
        # Not marked seen, and the feed's validators were kept (a poll with new entries):
        # due again at once, the next round reads the rest.
        self.due_in((dropped | deferred) & set(feeds), 0.0)
        self.metrics.failed(failures)
        return Collected(raw, failures, keys)

    def due_in(self, feeds: Iterable[str], seconds: float) -> None:
        """Make ``feeds`` due ``seconds`` from now (entries of theirs left unread or unsent)."""
        when = datetime.now(UTC) + timedelta(seconds=seconds)
        for url in feeds:
            schedule = self.store.schedule(url)
            if schedule is not None:
                self.store.put_schedule(replace(schedule, next_poll=when))

    def _poll(self, schedule: Schedule, in_flight: Container[str] = frozenset()) -> PollResult | None:
        if self.stop.is_set():
            return None
        url = schedule.url
        state = self.store.feed_state(url)
        with self.limiter.slot(url):
            try:
                result = poll_feed(self.fetchers.get(), url, state.etag, state.last_modified,
                                   seen=SeenInStore(self.store))
            except Exception as exc:  # noqa: BLE001  # one bad feed must not stop the service
                log.exception("feed %s: unexpected error while polling", url)
                result = PollResult(url, False, (), state.etag, state.last_modified, Failure(
                    input=url, step="parse", reason=f"unexpected {type(exc).__name__}: {exc}"))
        # Entries an earlier round is analysing: not read again, and the schedule treats
        # them as seen (as it would once that round is stored), but the validators are
        # kept until they are marked seen (a crash meanwhile must not lose them).
        unstored = bool(result.entries)
        result = replace(result, entries=tuple(e for e in result.entries if e.doc_id not in in_flight))
        now = datetime.now(UTC)
        with self._rng_lock:
            if result.failure:
                schedule = after_failure(schedule, self.policy, now, self.rng)
            else:
                ceiling = self.policy.max_interval if self.websub and self.websub.active(url) else None
                schedule = after_success(schedule, self.policy, now, bool(result.entries),
                                         self.rng, ceiling)
        self.store.put_schedule(schedule)
        if result.failure:
            state = replace(state, last_polled=now.isoformat(), last_error=result.failure.reason,
                            consecutive_failures=state.consecutive_failures + 1)
            kind = "failed"
        elif unstored:
            state = replace(state, last_polled=now.isoformat(), consecutive_failures=0,
                            last_error=None)  # validators kept: see the module docstring
            kind = "new_entries" if result.entries else "no_new_entries"
        else:
            state = replace(state, etag=result.etag, last_modified=result.last_modified,
                            last_polled=now.isoformat(), consecutive_failures=0, last_error=None)
            kind = "not_modified" if result.not_modified else "no_new_entries"
        self.store.put_feed_state(state)
        self.metrics.feeds_polled.labels(result=kind).inc()
        self._report(schedule, state.last_error)
        return result

    def _report(self, schedule: Schedule, error: str | None) -> None:
        if schedule.failing and schedule.url not in self._failing:
            self._failing.add(schedule.url)
            log.warning("feed %s is failing: %s failures in a row, last: %s; retrying every %gs",
                        schedule.url, schedule.failures, error, self.policy.backoff_max)
        elif not schedule.failing and schedule.url in self._failing:
            self._failing.discard(schedule.url)
            log.warning("feed %s recovered", schedule.url)

    def _read(self, entry: FeedEntry, origin: str, polled: datetime,
              ) -> RawDocument | Failure | None:
        if self.stop.is_set():
            return None
        try:
            return self._read_politely(entry, origin, polled)
        except Exception as exc:  # noqa: BLE001  # one bad page must not stop the service
            log.exception("entry %s: unexpected error while reading", entry.link or entry.id)
            return Failure(input=entry.link or origin, step="read",
                           reason=f"unexpected {type(exc).__name__}: {exc}")

    def _read_politely(self, entry: FeedEntry, origin: str, polled: datetime,
                       ) -> RawDocument | Failure | None:
        fetcher = self.fetchers.get()
        if entry.content or not entry.link:
            item = read_entry(fetcher, entry, origin)  # the feed's own text: no fetch
            if isinstance(item, RawDocument) and item.fetched_at is None:
                item = item.model_copy(update={"fetched_at": polled})
            return item
        refusal = self.robots.check(entry.link)
        if refusal:
            return Failure(input=entry.link, step="fetch", reason=refusal)
        with self.limiter.slot(entry.link):
            if self.stop.is_set():
                return None
            return read_entry(fetcher, entry, origin, self.extract)
