"""WebSub (PubSubHubbub) subscriber: feeds that name a hub push new entries to us.

Lifecycle of a subscription (state kept in the store's ``websub`` table):

1. ``maintain(feeds)`` (each service round) fetches a feed whose hub is not
   known or was last checked over ``recheck`` ago, finds ``<link rel="hub">``
   and ``rel="self"`` (``discover``), and POSTs ``hub.mode=subscribe`` with
   our callback ``{public_url}/websub/{topic id}``, a per-topic secret and the
   lease we ask for: state ``pending``.
2. The hub verifies intent with a GET to the callback (``hub.challenge``);
   we echo the challenge only for a topic we asked for: state ``active`` with
   the lease the hub granted. ``hub.mode=denied``: state ``denied``.
3. The hub POSTs new content to the callback. We accept it only with a valid
   ``X-Hub-Signature`` (HMAC of the body with the topic's secret, sha1 to
   sha512) and queue its entries for the next round (``drain``), which wakes.
4. ``maintain`` renews a lease when less than ``renew_margin`` (or half the
   lease, if shorter) is left.

Secrets: each topic's secret is HMAC-SHA256(master secret, topic); the master
secret comes from the environment, so the database holds no secret and a
restart verifies pushes for subscriptions made before it.

Delivery: a push's entries are written to the store (``websub_inbox``)
before the hub gets its 202, and drained by every round until they are
marked seen, i.e. until a round that read them has been stored or published.
A crash or a failed round therefore loses nothing a hub handed us; an entry
whose page keeps failing is dropped from the inbox after ``inbox_ttl`` (the
feed's safety-net poll still finds it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import io
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import feedparser

from connectors.feeds import FeedEntry, FeedError, parse_feed, short_id
from connectors.http import FetchError, Fetcher
from connectors.metrics import Metrics
from connectors.store import Store
from schemas import Failure

log = logging.getLogger(__name__)

CALLBACK_PREFIX = "/websub/"
_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
               "sha512": hashlib.sha512}


@dataclass(frozen=True)
class Pushed:
    """Entries a hub delivered, waiting for the next round."""

    topic: str
    entries: tuple[FeedEntry, ...]
    received: datetime


def discover(data: bytes) -> tuple[str | None, str | None]:
    """(hub URL, self URL) named by a feed's links; None where absent."""
    if b"<!ENTITY" in data.upper():
        return None, None  # parse_feed refuses such feeds; we do not read them either
    parsed = feedparser.parse(io.BytesIO(data))
    links = parsed.get("feed", {}).get("links", [])
    hub = next((link.get("href") for link in links if link.get("rel") == "hub"), None)
    self_url = next((link.get("href") for link in links if link.get("rel") == "self"), None)
    return hub, self_url


def topic_id(topic: str) -> str:
    return short_id(topic)


def topic_secret(master: str, topic: str) -> str:
    return hmac.new(master.encode(), topic.encode(), hashlib.sha256).hexdigest()


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``X-Hub-Signature: method=hexdigest`` is the HMAC of ``body``."""
    if not header or "=" not in header:
        return False
    method, _, digest = header.strip().partition("=")
    algorithm = _ALGORITHMS.get(method.lower())
    if algorithm is None:
        return False
    expected = hmac.new(secret.encode(), body, algorithm).hexdigest()
    return hmac.compare_digest(expected, digest.strip().lower())


class WebSub:
    def __init__(self, store: Store, public_url: str, master_secret: str, metrics: Metrics,
                 lease_seconds: int = 864000, recheck: timedelta = timedelta(days=1),
                 renew_margin: timedelta = timedelta(hours=12),
                 on_push: Callable[[], None] = lambda: None,
                 inbox_ttl: timedelta = timedelta(days=1)) -> None:
        self.store = store
        self.public_url = public_url.rstrip("/")
        self._master = master_secret
        self.metrics = metrics
        self.lease_seconds = lease_seconds
        self.recheck = recheck
        self.renew_margin = renew_margin
        self._on_push = on_push
        self._topics: dict[str, str] = {}  # topic id -> topic
        self._lock = threading.Lock()  # guards _topics (the ops server's threads read it)
        self.inbox_ttl = inbox_ttl

    def callback_url(self, topic: str) -> str:
        return f"{self.public_url}{CALLBACK_PREFIX}{topic_id(topic)}"

    def active(self, topic: str) -> bool:
        state = self.store.websub_state(topic)
        return state is not None and state[1] == "active"

    # -- the subscriber side: runs in the service loop ----------------------

    def maintain(self, feeds: Sequence[str], fetcher: Fetcher, now: datetime | None = None) -> None:
        """Discover hubs, subscribe and renew, for every feed on the list."""
        now = now or datetime.now(UTC)
        with self._lock:
            self._topics = {topic_id(f): f for f in feeds}
        for feed in feeds:
            state = self.store.websub_state(feed)
            if state is None or self._stale(state, now):
                self._discover_and_subscribe(feed, fetcher, now)

    def _stale(self, state: tuple[str | None, str, str | None, str], now: datetime) -> bool:
        _hub, status, lease_expires, checked_at = state
        if status == "active" and lease_expires:
            expires = datetime.fromisoformat(lease_expires)
            lease = expires - datetime.fromisoformat(checked_at)  # as granted by the hub
            return expires - now < min(self.renew_margin, lease / 2)
        return now - datetime.fromisoformat(checked_at) > self.recheck

    def _discover_and_subscribe(self, feed: str, fetcher: Fetcher, now: datetime) -> None:
        try:
            hub, _self_url = discover(fetcher.fetch(feed).body)
        except FetchError as exc:
            log.info("websub: %s: cannot check for a hub: %s", feed, exc.reason)
            self.store.put_websub_state(feed, None, "unchecked", None, now.isoformat())
            return
        if hub is None:
            self.store.put_websub_state(feed, None, "no_hub", None, now.isoformat())
            return
        # The topic stays the URL we poll: our callback id and secret are derived
        # from it, and a hub names the topic it verifies, which we check.
        form = {"hub.mode": "subscribe", "hub.topic": feed, "hub.callback": self.callback_url(feed),
                "hub.secret": topic_secret(self._master, feed),
                "hub.lease_seconds": str(self.lease_seconds)}
        self.store.put_websub_state(feed, hub, "pending", None, now.isoformat())
        try:
            status = fetcher.post_form(hub, form)
        except FetchError as exc:
            status, reason = 0, exc.reason
        else:
            reason = f"HTTP {status}"
        if status not in (202, 204):
            log.warning("websub: %s: hub %s refused the subscription: %s", feed, hub, reason)
            self.store.put_websub_state(feed, hub, "failed", None, now.isoformat())

    # -- the callback side: runs in the ops server's threads ----------------

    def _topic(self, path: str) -> str | None:
        with self._lock:
            return self._topics.get(path.removeprefix(CALLBACK_PREFIX).strip("/"))

    def verify(self, path: str, query: str) -> tuple[int, bytes]:
        """A hub's verification-of-intent GET: (status, body)."""
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        topic = self._topic(path)
        if topic is None or params.get("hub.topic") != topic:
            return 404, b"unknown topic\n"
        state = self.store.websub_state(topic)
        now = datetime.now(UTC)
        mode = params.get("hub.mode")
        if mode == "denied":
            log.warning("websub: hub denied the subscription to %s: %s", topic,
                        params.get("hub.reason", "no reason given"))
            self.store.put_websub_state(topic, state[0] if state else None, "denied", None,
                                        now.isoformat())
            return 200, b""
        wanted = state is not None and state[1] in ("pending", "active")
        if mode != "subscribe" or not wanted or "hub.challenge" not in params:
            return 404, b"no such subscription request\n"
        try:
            lease = int(params.get("hub.lease_seconds") or self.lease_seconds)
        except ValueError:
            return 400, b"bad hub.lease_seconds\n"
        expires = now + timedelta(seconds=lease)
        self.store.put_websub_state(topic, state[0], "active", expires.isoformat(), now.isoformat())
        log.info("websub: subscribed to %s until %s", topic, expires.isoformat())
        return 200, params["hub.challenge"].encode()

    def deliver(self, path: str, headers: Mapping[str, str], body: bytes) -> int:
        """A hub's content distribution POST: the status to answer."""
        topic = self._topic(path)
        if topic is None or not self.active(topic):
            self.metrics.websub_pushes.labels(result="unknown_topic").inc()
            return 404
        if not signature_ok(topic_secret(self._master, topic), body,
                            headers.get("x-hub-signature")):
            log.warning("websub: push for %s ignored: bad or missing X-Hub-Signature", topic)
            self.metrics.websub_pushes.labels(result="bad_signature").inc()
            return 403
        try:
            entries = parse_feed(body, topic, headers.get("content-type"))
        except FeedError as exc:
            # Acknowledged all the same: the hub cannot do better by retrying.
            failure = Failure(input=topic, step="parse", reason=f"websub push: {exc.reason}")
            log.warning("%s", failure.line())
            self.metrics.failed([failure])
            self.metrics.websub_pushes.labels(result="bad_feed").inc()
            return 202
        # Stored before the 202: once the hub has our answer, only this copy is left.
        self.store.put_pushed(topic, [(e.doc_id, entry_json(e)) for e in entries], datetime.now(UTC).isoformat())
        self.metrics.websub_pushes.labels(result="accepted").inc()
        self._on_push()
        return 202

    def drain(self) -> list[Pushed]:
        """Pushed entries not seen yet, by topic and time of arrival (they stay
        in the store until a round marks them seen)."""
        expired = (datetime.now(UTC) - self.inbox_ttl).isoformat()
        batches: dict[tuple[str, str], list[FeedEntry]] = {}
        for topic, entry, received in self.store.pushed(expired):
            batches.setdefault((topic, received), []).append(entry_from_json(entry))
        return [Pushed(topic, tuple(entries), datetime.fromisoformat(received))
                for (topic, received), entries in batches.items()]


def entry_json(entry: FeedEntry) -> str:
    data = dataclasses.asdict(entry)
    data["published"] = entry.published.isoformat() if entry.published else None
    return json.dumps(data)


def entry_from_json(text: str) -> FeedEntry:
    data = json.loads(text)
    data["published"] = datetime.fromisoformat(data["published"]) if data["published"] else None
    return FeedEntry(**data)
