"""Being a good guest on other people's servers: per-host concurrency and
request spacing, and robots.txt for article pages.

``HostLimiter.slot(url)`` is held around every request: at most
``per_host`` requests to one host at a time, and request starts to one host at
least ``delay`` seconds apart (or the host's robots.txt ``Crawl-delay``, if
longer). Waiting stops early when the ``stop`` event is set (SIGTERM).

``RobotsCache.check(url)`` returns None when the page may be fetched, else the
reason. robots.txt is fetched through the guarded ``Fetcher`` (address checks,
size cap, deadline) and parsed by ``urllib.robotparser``; it is kept per
origin for ``ttl`` seconds. As RFC 9309 says: a 4xx robots.txt means no
restrictions; a 5xx or an unreachable one means everything is disallowed until
it is fetched again (after ``error_ttl``). Feeds are not checked: an operator
listed them on purpose.

Both are thread-safe; the service's page workers share one of each.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.http import FetchError, Fetcher

ROBOTS_AGENT = "newswatch"
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB; we read no more
_HTTP_STATUS = re.compile(r"^HTTP (\d{3})$")

Clock = Callable[[], float]


def host_key(url: str) -> str:
    """scheme://host:port: what robots.txt and the limits are per."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:  # a bad port: the fetcher refuses the URL with its own reason
        port = None
    port = port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}:{port}"


class HostLimiter:
    def __init__(self, per_host: int = 2, delay: float = 1.0, stop: threading.Event | None = None,
                 clock: Clock = time.monotonic) -> None:
        if per_host < 1 or delay < 0:
            raise ValueError("HostLimiter: per_host must be >= 1 and delay >= 0")
        self.per_host = per_host
        self.delay = delay
        self.stop = stop or threading.Event()
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}
        self._delays: dict[str, float] = {}

    def set_delay(self, url: str, seconds: float) -> None:
        """A longer spacing for one host (its robots.txt Crawl-delay)."""
        with self._lock:
            self._delays[host_key(url)] = seconds

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        key = host_key(url)
        with self._lock:
            semaphore = self._slots.setdefault(key, threading.BoundedSemaphore(self.per_host))
        semaphore.acquire()
        try:
            with self._lock:
                now = self._clock()
                start = max(now, self._next_start.get(key, now))
                self._next_start[key] = start + max(self.delay, self._delays.get(key, 0.0))
            if start > now:
                self.stop.wait(start - now)
            yield
        finally:
            semaphore.release()


@dataclass(frozen=True)
class _Rules:
    parser: urllib.robotparser.RobotFileParser | None  # None: everything disallowed
    reason: str | None  # why everything is disallowed
    expires: float


class RobotsCache:
    def __init__(self, fetcher: Callable[[], Fetcher], ttl: float = 3600.0,
                 error_ttl: float = 300.0, agent: str = ROBOTS_AGENT,
                 limiter: HostLimiter | None = None, clock: Clock = time.monotonic) -> None:
        self._fetcher = fetcher  # the calling thread's fetcher
        self.ttl = ttl
        self.error_ttl = error_ttl
        self.agent = agent
        self._limiter = limiter
        self._clock = clock
        self._lock = threading.Lock()
        self._rules: dict[str, _Rules] = {}
        self._loading: dict[str, threading.Lock] = {}

    def check(self, url: str) -> str | None:
        """None if ``url`` may be fetched, else why not (a one-line reason)."""
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return None  # not ours to judge: the fetcher refuses other schemes
        rules = self._rules_for(host_key(url))
        if rules.parser is None:
            return rules.reason
        if rules.parser.can_fetch(self.agent, url):
            return None
        return "disallowed by robots.txt"

    def _rules_for(self, origin: str) -> _Rules:
        with self._lock:
            cached = self._rules.get(origin)
            if cached and cached.expires > self._clock():
                return cached
            loading = self._loading.setdefault(origin, threading.Lock())
        with loading:  # one fetch per origin, however many pages wait for it
            with self._lock:
                cached = self._rules.get(origin)
                if cached and cached.expires > self._clock():
                    return cached
            rules = self._load(origin)
            with self._lock:
                self._rules[origin] = rules
            return rules

    def _load(self, origin: str) -> _Rules:
        url = origin + "/robots.txt"
        try:
            if self._limiter is not None:
                with self._limiter.slot(url):
                    result = self._fetcher().fetch(url)
            else:
                result = self._fetcher().fetch(url)
        except FetchError as exc:
            status = _HTTP_STATUS.match(exc.reason)
            if status and 400 <= int(status.group(1)) < 500:
                return self._parsed(origin, "")  # unavailable: no restrictions
            # An address the guard refuses is refused for the page too: say that.
            reason = exc.reason if exc.reason.startswith("refused:") else \
                f"robots.txt unreachable: {exc.reason}"
            return _Rules(None, reason, self._clock() + self.error_ttl)
        return self._parsed(origin, result.text[:ROBOTS_MAX_BYTES])

    def _parsed(self, origin: str, text: str) -> _Rules:
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(text.splitlines())
        delay = parser.crawl_delay(self.agent)
        if delay and self._limiter is not None:
            # A robots.txt asking for an hour between requests would stall a
            # worker for that long; a minute is the most we grant.
            self._limiter.set_delay(origin, min(float(delay), 60.0))
        return _Rules(parser, None, self._clock() + self.ttl)
