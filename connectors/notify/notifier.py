"""The notifier: drains the outbox into the channels, until stopped.

One pass (``drain``): every due delivery is sent, oldest first; a channel that
fails is skipped for the rest of the pass (its deliveries wait their backoff:
``retry_base_seconds`` doubling up to ``retry_max_seconds``, or the channel's
Retry-After); a rule's throttle holds deliveries back without counting an
attempt; digest channels get one message per closed window. Only one notifier
drains an outbox at a time (a lock file), so nothing is sent twice by two.

``run`` drains as soon as ``enqueue`` (in this process: the service's round, the
alert-topic pump) has queued something, and every ``poll_seconds`` for retries,
digests and what another process put in the outbox: a new alert does not wait for
the next poll (docs/benchmarks.md, fetch-to-Slack latency).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from connectors.notify.channels import Channel, DeliveryError, build_channels
from connectors.notify.config import DIGEST_SECONDS, NotifyConfig
from connectors.notify.outbox import Outbox, Route
from pipelines.rules import Rule, Throttle
from schemas import Alert

log = logging.getLogger(__name__)


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``attempts``-th failure: base, 2·base, 4·base … ≤ cap."""
    return min(cap, base * 2 ** max(0, attempts - 1))


def routes_for(rules: Sequence[Rule], config: NotifyConfig) -> dict[str, list[Route]]:
    """rule id → channels its alerts go to: the rule's ``channels``, or every
    configured channel when it names none. An unknown name is an error."""
    routes = {}
    for rule in rules:
        names = [c for c in rule.channels if c != "console"] if rule.channels else list(config.channels)
        unknown = [n for n in names if n not in config.channels]
        if unknown:
            raise ValueError(f"rule {rule.id}: channels: {unknown[0]!r} is not configured "
                             f"(configured: {', '.join(config.channels) or 'none'})")
        routes[rule.id] = [Route(n, DIGEST_SECONDS.get(config.channels[n].digest or ""))
                           for n in names]
    return routes


@dataclass
class Notifier:
    outbox: Outbox
    channels: Mapping[str, Channel]
    config: NotifyConfig
    throttles: Mapping[str, Throttle]
    clock: Callable[[], float] = time.time
    # Set when something was queued; ``run`` drains then instead of at its next poll.
    wake: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: NotifyConfig, outbox: Outbox, rules: Sequence[Rule],
                    environ: Mapping[str, str] | None = None,
                    clock: Callable[[], float] = time.time) -> Notifier:
        return cls(outbox, build_channels(config, environ), config,
                   {r.id: r.throttle for r in rules if r.throttle}, clock)

    def enqueue(self, alerts: Sequence[Alert], rules: Sequence[Rule]) -> list[Alert]:
        queued = self.outbox.enqueue(alerts, routes_for(rules, self.config), self.clock())
        if queued:
            self.wake.set()  # after the outbox committed them: the sender finds them there
        return queued

    def _retry_at(self, attempts: int, error: DeliveryError, now: float) -> float | None:
        if attempts >= self.config.max_attempts:
            return None
        wait = backoff(attempts, self.config.retry_base_seconds, self.config.retry_max_seconds)
        return now + max(wait, error.retry_after or 0)

    def _throttled_until(self, alert: Alert, channel: str, now: float) -> float | None:
        throttle = self.throttles.get(alert.rule_id)
        if throttle is None:
            return None
        per = throttle.per.total_seconds()
        sent = self.outbox.sent_times(alert.rule_id, channel, now - per)
        return sent[-throttle.max] + per if len(sent) >= throttle.max else None

    def drain(self) -> int:
        """One pass over what is due; returns the number of messages sent."""
        sent, down = 0, set()
        for delivery in self.outbox.due(self.clock()):
            name = delivery.channel
            channel = self.channels.get(name)
            if name in down:
                continue
            now = self.clock()
            if channel is None:
                self.outbox.mark_failed(delivery, f"channel {name} is no longer configured", None)
                continue
            until = self._throttled_until(delivery.alert, name, now)
            if until is not None:
                self.outbox.postpone(delivery, until)
                continue
            try:
                channel.send(delivery.alert)
            except DeliveryError as exc:
                retry = self._retry_at(delivery.attempts + 1, exc, now)
                self.outbox.mark_failed(delivery, str(exc), retry)
                log.warning("channel %s: alert %s not sent (attempt %d): %s", name,
                            delivery.alert.alert_id, delivery.attempts + 1, exc)
                down.add(name)
                continue
            self.outbox.mark_sent(delivery, self.clock())
            sent += 1
        return sent + self._drain_digests(down)

    def _drain_digests(self, down: set[str]) -> int:
        periods = {n: DIGEST_SECONDS[c.digest] for n, c in self.config.channels.items()
                   if c.digest and n in self.channels and n not in down}
        sent = 0
        for name, start, attempts in self.outbox.due_digests(self.clock(), periods):
            alerts = self.outbox.digest_alerts(name, start)
            begin = datetime.fromtimestamp(start, UTC)
            end = datetime.fromtimestamp(start + periods[name], UTC)
            now = self.clock()
            try:
                self.channels[name].send_digest(alerts, begin, end)
            except DeliveryError as exc:
                wait = backoff(attempts + 1, self.config.retry_base_seconds, self.config.retry_max_seconds)
                self.outbox.mark_digest_failed(name, start, str(exc), now + max(wait, exc.retry_after or 0))
                log.warning("channel %s: digest of %s not sent: %s", name, begin.isoformat(), exc)
                continue
            self.outbox.mark_digest_sent(name, start, self.clock())
            sent += 1
        return sent

    def run(self, stopping: threading.Event) -> None:
        """Drain when ``enqueue`` queued something and at least every ``poll_seconds``,
        until ``stopping`` is set; holds the outbox lock."""
        with self.outbox.exclusive():
            log.info("notifier: sending from %s to %s", self.outbox.path, ", ".join(self.channels))
            # One event to wait on: a stop must end the wait as a new alert does.
            threading.Thread(target=lambda: (stopping.wait(), self.wake.set()), name="notifier-stop",
                             daemon=True).start()
            while not stopping.is_set():
                self.wake.clear()  # before the pass: what is queued during it wakes the next one
                self.drain()
                self.wake.wait(self.config.poll_seconds)
