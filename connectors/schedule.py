"""When to poll each feed next. Pure: a schedule, a policy, the outcome of a
poll and the time in; the next schedule out. The store keeps schedules
(``Store.schedule``/``put_schedule``) so a restart resumes them.

Adapting to the feed: a feed that had new entries is polled sooner, at half
the observed gap between changes (blended with the current interval so one
burst does not swing it); a feed with nothing new backs off by a quarter each
time. The interval always stays within ``[min_interval, max_interval]``, and
each wait gets ``±jitter`` so feeds on one host do not fire together.

Failing feeds: each consecutive failure doubles the wait (from the current
interval, capped at ``backoff_max``). After ``failing_after`` failures in a row
the feed is *failing*: it is reported (a log line once, the
``newswatch_feeds_failing`` gauge, ``newswatch feeds status``) and retried only
every ``backoff_max``, never at full rate. One success clears it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SchedulePolicy:
    initial_interval: float = 300.0
    min_interval: float = 60.0
    max_interval: float = 3600.0
    jitter: float = 0.1  # fraction of the wait, each way
    failing_after: int = 5
    backoff_max: float = 6 * 3600.0
    growth: float = 1.25  # interval factor after a poll with nothing new

    def __post_init__(self) -> None:
        if not 0 < self.min_interval <= self.initial_interval <= self.max_interval:
            raise ValueError("SchedulePolicy: need 0 < min_interval <= initial_interval <= max_interval")
        if not 0 <= self.jitter < 1 or self.failing_after < 1 or self.backoff_max < self.min_interval:
            raise ValueError("SchedulePolicy: need 0 <= jitter < 1, failing_after >= 1, "
                             "backoff_max >= min_interval")

    def clamp(self, seconds: float) -> float:
        return min(self.max_interval, max(self.min_interval, seconds))


@dataclass(frozen=True)
class Schedule:
    """What the scheduler remembers of one feed."""

    url: str
    interval: float  # seconds between polls while the feed is healthy
    next_poll: datetime | None = None  # None: never polled, due now
    last_change: datetime | None = None  # when a poll last found new entries
    failures: int = 0  # consecutive
    failing_since: datetime | None = None  # set once failures reach failing_after

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    def due(self, now: datetime) -> bool:
        return self.next_poll is None or self.next_poll <= now


def new_schedule(url: str, policy: SchedulePolicy) -> Schedule:
    return Schedule(url=url, interval=policy.initial_interval)


def _jittered(seconds: float, policy: SchedulePolicy, rng: random.Random) -> timedelta:
    return timedelta(seconds=seconds * (1 + rng.uniform(-policy.jitter, policy.jitter)))


def after_success(schedule: Schedule, policy: SchedulePolicy, now: datetime, changed: bool,
                  rng: random.Random, ceiling: float | None = None) -> Schedule:
    """The schedule after a poll that worked; ``changed``: it found new entries.

    ``ceiling`` replaces ``max_interval`` as the interval (a feed with a live
    WebSub subscription is only polled as a safety net).
    """
    if ceiling is not None:
        interval = max(policy.min_interval, ceiling)
    elif changed:
        if schedule.last_change is not None:
            gap = (now - schedule.last_change).total_seconds()
            interval = policy.clamp((schedule.interval + gap / 2) / 2)
        else:
            interval = policy.clamp(schedule.interval / 2)
    else:
        interval = policy.clamp(schedule.interval * policy.growth)
    return replace(schedule, interval=interval, next_poll=now + _jittered(interval, policy, rng),
                   last_change=now if changed else schedule.last_change,
                   failures=0, failing_since=None)


def after_failure(schedule: Schedule, policy: SchedulePolicy, now: datetime,
                  rng: random.Random) -> Schedule:
    """The schedule after a failed poll: exponential backoff, then *failing*."""
    failures = schedule.failures + 1
    wait = min(policy.backoff_max, schedule.interval * 2 ** failures)
    failing_since = schedule.failing_since
    if failures >= policy.failing_after:
        wait = policy.backoff_max
        failing_since = failing_since or now
    return replace(schedule, next_poll=now + _jittered(wait, policy, rng), failures=failures,
                   failing_since=failing_since)


def seconds_until_due(schedules: list[Schedule], now: datetime, default: float) -> float:
    """How long the service may sleep before some feed is due (0 if one is)."""
    waits = [0.0 if s.next_poll is None else (s.next_poll - now).total_seconds() for s in schedules]
    return max(0.0, min(waits, default=default))
