"""Per-feed schedules: adapt to change, stay in bounds, jitter, back off, report failing feeds."""

import io
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.feedlist import print_status
from connectors.http import Fetcher
from connectors.schedule import Schedule, SchedulePolicy, after_failure, after_success, \
    new_schedule, seconds_until_due
from connectors.service import FeedConfig, Service, ServiceConfig
from connectors.service_settings import OpsConfig, ScheduleConfig
from connectors.store import Store
from tests.connectors.conftest import LOCAL

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = SchedulePolicy(initial_interval=600, min_interval=60, max_interval=3600, jitter=0.0,
                        failing_after=3, backoff_max=7200)


def rng():
    return random.Random(7)


def test_a_new_feed_is_due_at_once():
    assert new_schedule("http://f", POLICY).due(T0)


def test_a_feed_that_keeps_changing_is_polled_more_often_down_to_the_minimum():
    s = new_schedule("http://f", POLICY)
    intervals = []
    for minute in range(0, 200, 2):
        s = after_success(s, POLICY, T0 + timedelta(minutes=minute), changed=True, rng=rng())
        intervals.append(s.interval)
    assert intervals[0] == 300  # halved on the first change
    assert intervals == sorted(intervals, reverse=True)
    assert intervals[-1] == 60  # changes every 2 minutes: polled every minute, not faster


def test_a_quiet_feed_backs_off_up_to_the_maximum():
    s = new_schedule("http://f", POLICY)
    for hour in range(30):
        s = after_success(s, POLICY, T0 + timedelta(hours=hour), changed=False, rng=rng())
    assert s.interval == 3600
    assert s.next_poll == T0 + timedelta(hours=29, seconds=3600)


def test_the_interval_follows_the_gap_between_changes():
    s = Schedule("http://f", interval=600, last_change=T0)
    s = after_success(s, POLICY, T0 + timedelta(minutes=40), changed=True, rng=rng())
    # blend of the current interval and half the 40-minute gap
    assert s.interval == (600 + 1200) / 2
    assert s.last_change == T0 + timedelta(minutes=40)


def test_jitter_stays_within_its_fraction_and_is_reproducible_with_a_seed():
    policy = SchedulePolicy(initial_interval=1000, min_interval=60, max_interval=3600, jitter=0.2)
    waits = [(after_success(new_schedule("u", policy), policy, T0, False, random.Random(i))
              .next_poll - T0).total_seconds() for i in range(200)]
    assert all(1250 * 0.8 <= w <= 1250 * 1.2 for w in waits)
    assert len(set(waits)) > 100  # feeds do not fire together
    again = after_success(new_schedule("u", policy), policy, T0, False, random.Random(3))
    assert again == after_success(new_schedule("u", policy), policy, T0, False, random.Random(3))


def test_failures_back_off_exponentially_then_the_feed_is_reported_failing():
    s = new_schedule("http://f", POLICY)
    waits = []
    for _ in range(5):
        s = after_failure(s, POLICY, T0, rng())
        waits.append((s.next_poll - T0).total_seconds())
        assert s.failing == (s.failures >= 3)
    assert waits == [1200, 2400, 7200, 7200, 7200]  # capped: never retried at full rate
    assert s.failing_since == T0


def test_one_success_clears_the_failing_state():
    s = Schedule("http://f", interval=600, failures=9, failing_since=T0)
    s = after_success(s, POLICY, T0 + timedelta(hours=1), changed=False, rng=rng())
    assert (s.failures, s.failing, s.next_poll) == (0, False, T0 + timedelta(hours=1, seconds=750))


def test_a_feed_with_a_live_push_subscription_is_polled_only_as_a_safety_net():
    s = after_success(new_schedule("u", POLICY), POLICY, T0, changed=True, rng=rng(), ceiling=3600)
    assert s.interval == 3600


def test_the_service_sleeps_until_the_first_feed_is_due():
    a = Schedule("a", 60, next_poll=T0 + timedelta(seconds=90))
    b = Schedule("b", 60, next_poll=T0 + timedelta(seconds=30))
    assert seconds_until_due([a, b], T0, default=300) == 30
    assert seconds_until_due([a, Schedule("c", 60)], T0, default=300) == 0
    assert seconds_until_due([], T0, default=300) == 300


def test_a_policy_with_bounds_the_wrong_way_round_is_refused():
    with pytest.raises(ValueError, match="min_interval"):
        SchedulePolicy(initial_interval=10, min_interval=60, max_interval=3600)


def test_schedules_survive_a_restart(tmp_path):
    s = after_failure(after_success(new_schedule("http://f", POLICY), POLICY, T0, True, rng()),
                      POLICY, T0 + timedelta(minutes=5), rng())
    Store(tmp_path / "nw.db").put_schedule(s)
    assert Store(tmp_path / "nw.db").schedule("http://f") == s
    assert Store(tmp_path / "nw.db").schedule("http://other") is None


def test_a_feed_that_keeps_failing_is_reported_and_not_retried_at_full_rate(server, tmp_path,
                                                                           caplog):
    config = ServiceConfig(
        feeds=(FeedConfig(url=server.url("/gone.xml")),), interval_seconds=0.1,
        schedule=ScheduleConfig(failing_after=2, backoff_max_seconds=3600, jitter=0),
        store=tmp_path / "nw.db", out_dir=tmp_path / "out", allowed_networks=("127.0.0.0/8",),
        ops=OpsConfig(enabled=False))
    svc = Service(config, out=io.StringIO())
    with Fetcher(LOCAL) as fetcher:
        for _ in range(6):
            svc.poll(fetcher)
            time.sleep(0.25)
        # A restart keeps the schedule: no poll before the backoff is over.
        Service(config, out=io.StringIO()).poll(fetcher)
    assert sum(r.path == "/gone.xml" for r in server.requests) == 2  # at once, after 0.2 s, then 1 h
    failing = [r.getMessage() for r in caplog.records if "is failing" in r.getMessage()]
    assert failing == [f"feed {server.url('/gone.xml')} is failing: 2 failures in a row, "
                       "last: HTTP 404; retrying every 3600s"]
    status = io.StringIO()
    assert print_status(config, svc.store, status) == 1
    assert status.getvalue().startswith(f"FAILING  {server.url('/gone.xml')}  next=")
