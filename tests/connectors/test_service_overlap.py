"""Two rounds in flight (``Service.rounds``): the next round is read while the one
before is analysed, and every round comes out as it would one after the other."""

import io
import json
import sqlite3
import threading

import pytest

from connectors.http import Fetcher
from connectors.service import FeedConfig, Service, ServiceConfig
from connectors.service_settings import EmbeddedConfig, OpsConfig, PolitenessConfig
from pipelines import embedded
from tests.connectors.conftest import LOCAL
from tests.connectors.news_site import news_site

VOLATILE = {"created_at", "fetched_at"}  # when, not what


def service(tmp_path, feed, overlap=True, helpers=1, name="nw"):
    # A cap of 2 entries a round over the five seeds: rounds of 2, 2 and 1 from one
    # feed that lists all five every time, so each round's poll sees the entries of
    # the round before, which are still being analysed when the rounds overlap.
    config = ServiceConfig(feeds=(FeedConfig(url=feed),), store=tmp_path / f"{name}.db",
                           out_dir=tmp_path / name, allowed_networks=("127.0.0.0/8",),
                           ops=OpsConfig(enabled=False), politeness=PolitenessConfig(host_delay_seconds=0),
                           embedded=EmbeddedConfig(max_entries_per_round=2, helper_processes=helpers,
                                                   overlap_rounds=overlap))
    return Service(config, out=io.StringIO())


def stable(value):
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def stored(svc):
    with sqlite3.connect(svc.store.path) as db:
        return {table: [stable(json.loads(doc)) for (doc,) in db.execute(f"SELECT doc FROM {table} ORDER BY 1")]
                for table in ("articles", "events", "alerts")}


def run_rounds(svc, count=3):
    """``count`` rounds; each round's new pages and output files as it is done."""
    done = []

    def record(batch, alerts):
        out = svc.config.out_dir / "last-round"
        files = {name: [stable(json.loads(line)) for line in (out / f"{name}.jsonl").read_text().splitlines()]
                 for name in embedded.OUTPUTS} if batch.raw else {}
        done.append((sorted(batch.keys), [a.alert_id for a in alerts], files))

    with Fetcher(LOCAL) as fetcher, svc.ops.running():
        try:
            svc.rounds(fetcher, count, record)
        finally:
            svc.close()
    return done


def test_each_round_comes_out_as_it_does_when_the_rounds_run_one_after_the_other(server, tmp_path):
    feed = news_site(server)
    alone = service(tmp_path, feed, overlap=False, name="alone")
    overlapped = service(tmp_path, feed, overlap=True, name="overlapped")
    one_after_the_other = run_rounds(alone)
    pages_before = [r.path for r in server.requests if r.path.startswith("/news/")]
    in_flight = run_rounds(overlapped)
    pages = [r.path for r in server.requests if r.path.startswith("/news/")][len(pages_before):]

    assert [len(keys) for keys, _, _ in in_flight] == [2, 2, 1]
    assert in_flight == one_after_the_other  # the same entries, outputs and announced alerts
    assert stored(overlapped) == stored(alone)
    assert len(pages) == len(set(pages)) == 5, "no round re-read the entries of the round being analysed"
    assert any(alerts for _, alerts, _ in in_flight)


def test_the_next_round_is_read_while_the_one_before_is_in_its_pipeline(server, tmp_path, monkeypatch):
    feed = news_site(server)
    svc = service(tmp_path, feed, helpers=0)
    second_read = threading.Event()
    seen_during_run: list[bool] = []
    collect, run = svc.ops.collect, embedded.run

    def reading(*args, **kwargs):
        if svc.ops._rounds == 1:
            second_read.set()
        return collect(*args, **kwargs)

    def slow_run(raw, *args, **kwargs):
        if not seen_during_run:  # the first round's pipeline waits for the second round's reading
            seen_during_run.append(second_read.wait(timeout=10))
        return run(raw, *args, **kwargs)

    monkeypatch.setattr(svc.ops, "collect", reading)
    monkeypatch.setattr(embedded, "run", slow_run)
    done = run_rounds(svc, 2)
    assert seen_during_run == [True], "the second round was read only after the first was analysed"
    assert [len(keys) for keys, _, _ in done] == [2, 2]


def test_a_round_that_fails_leaves_its_entries_and_the_next_rounds_unseen(server, tmp_path, monkeypatch):
    feed = news_site(server)
    svc = service(tmp_path, feed, helpers=0)
    run, calls = embedded.run, []

    ahead_keys: list[str] = []

    def failing_run(raw, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the pipeline broke")
        ahead_keys.extend(r.doc_id for r in raw)
        return run(raw, *args, **kwargs)

    monkeypatch.setattr(embedded, "run", failing_run)
    with pytest.raises(RuntimeError, match="the pipeline broke"):
        run_rounds(svc, 3)
    # Round 1 was stored; round 2 failed, and what was read meanwhile is not seen either:
    # at its next poll the restarted service reads the last three entries, once.
    assert [svc.store.is_seen(k) for k in ahead_keys] == [True, True]
    restarted = service(tmp_path, feed, helpers=0)
    restarted.ops.ingest.due_in([feed], 0)
    monkeypatch.setattr(embedded, "run", run)
    again = run_rounds(restarted, 2)
    assert [len(keys) for keys, _, _ in again] == [2, 1]
    assert not {k for keys, _, _ in again for k in keys} & set(ahead_keys)


def test_a_stop_while_the_next_round_is_read_finishes_both_rounds(server, tmp_path, monkeypatch):
    feed = news_site(server)
    svc = service(tmp_path, feed, helpers=0)
    collect = svc.ops.collect

    def stopped_while_reading(*args, **kwargs):
        collected = collect(*args, **kwargs)
        if svc.ops._rounds == 2:
            svc.stop()  # SIGTERM while round 1 is analysed and round 2 is read
        return collected

    monkeypatch.setattr(svc.ops, "collect", stopped_while_reading)
    done = run_rounds(svc, None)  # until stopped
    assert [len(keys) for keys, _, _ in done] == [2, 2]
    assert all(svc.store.is_seen(k) for keys, _, _ in done for k in keys)


def test_an_entry_being_analysed_is_not_read_again_and_its_feed_keeps_its_validators(server, tmp_path):
    feed = news_site(server)
    status, headers, body = server.routes["/feed.xml"]
    server.routes["/feed.xml"] = (status, {**headers, "ETag": '"v1"'}, body)
    svc = service(tmp_path, feed, helpers=0)
    svc.ops.ingest.max_entries = None
    with Fetcher(LOCAL) as fetcher, svc.ops.running():
        _, _, keys = svc.poll(fetcher)
        assert len(keys) == 5
        reads = len(server.requests)
        svc.ops.ingest.due_in([feed], 0)
        raw, _, _ = svc.poll(fetcher, frozenset(keys))  # the five are in the pipeline
        assert raw == [] and len(server.requests) == reads + 1, "only the feed was fetched"
        assert svc.store.feed_state(feed).etag is None, "validators kept until the entries are seen"
        svc.store.mark_seen(keys, "2026-01-01T00:00:00+00:00")
        svc.ops.ingest.due_in([feed], 0)
        svc.poll(fetcher)
        assert svc.store.feed_state(feed).etag == '"v1"'
