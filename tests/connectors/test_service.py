"""The always-on service: rounds over a real local feed, restarts, config."""

import io
import json

import pytest

from connectors.service import ConfigError, FeedConfig, Service, ServiceConfig, load_config
from connectors.service_settings import OpsConfig
from tests.connectors.news_site import news_site

# The ops endpoint on any free port: the default 9464 may be taken on a shared machine.
ANY_PORT = OpsConfig(port=0)


def service(tmp_path, feed_url, out=None):
    config = ServiceConfig(feeds=(FeedConfig(url=feed_url),), interval_seconds=0.1,
                           store=tmp_path / "nw.db", out_dir=tmp_path / "out",
                           allowed_networks=("127.0.0.0/8",), ops=ANY_PORT)
    return Service(config, out=out or io.StringIO())


def alert_lines(tmp_path):
    path = tmp_path / "out" / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_new_articles_in_a_feed_are_processed_and_alerted_once(server, tmp_path):
    feed = news_site(server, only=("000", "001", "003"))
    svc = service(tmp_path, feed)
    svc.run(once=True)
    assert [a["rule_id"] for a in alert_lines(tmp_path)] == ["town-captured"]
    # Rudaw's report of the same capture arrives later: no second alert.
    news_site(server)
    svc.run(once=True)
    assert len(alert_lines(tmp_path)) == 1
    assert svc.store.counts()["articles"] == 4


def test_a_restart_neither_repeats_nor_refetches_seen_articles(server, tmp_path):
    feed = news_site(server)
    service(tmp_path, feed).run(once=True)
    pages_before = sum(r.path.startswith("/news/") for r in server.requests)
    out = io.StringIO()
    service(tmp_path, feed, out).run(once=True)
    assert sum(r.path.startswith("/news/") for r in server.requests) == pages_before
    assert len(alert_lines(tmp_path)) == 1
    assert "ALERT" not in out.getvalue()


def test_a_failing_feed_is_recorded_and_the_others_go_on(server, tmp_path):
    feed = news_site(server)
    config = ServiceConfig(feeds=(FeedConfig(url=server.url("/gone.xml")), FeedConfig(url=feed)),
                           store=tmp_path / "nw.db", out_dir=tmp_path / "out",
                           allowed_networks=("127.0.0.0/8",), ops=ANY_PORT)
    svc = Service(config, out=io.StringIO())
    svc.run(once=True)
    state = svc.store.feed_state(server.url("/gone.xml"))
    assert (state.consecutive_failures, state.last_error) == (1, "HTTP 404")
    assert len(alert_lines(tmp_path)) == 1


def test_config_errors_name_the_file_and_field(tmp_path):
    path = tmp_path / "nw.yaml"
    path.write_text("feeds:\n  - url: ftp://example.org/feed\n")
    with pytest.raises(ConfigError, match=r"nw\.yaml: feeds\.0\.url"):
        load_config(path)


def test_environment_overrides_the_file(tmp_path):
    path = tmp_path / "nw.yaml"
    path.write_text("interval_seconds: 300\n")
    config = load_config(path, {"NEWSWATCH_INTERVAL_SECONDS": "60"})
    assert config.interval_seconds == 60


def test_in_kafka_mode_a_round_the_broker_did_not_take_is_read_again_and_the_service_goes_on(server, tmp_path):
    import socket
    from datetime import UTC, datetime, timedelta

    from connectors.kafka import KafkaSettings

    with socket.socket() as s:  # a loopback port nothing listens on: the broker is down
        s.bind(("127.0.0.1", 0))
        down = s.getsockname()[1]
    feed = news_site(server)
    config = ServiceConfig(feeds=(FeedConfig(url=feed),), store=tmp_path / "nw.db", out_dir=tmp_path / "out",
                           allowed_networks=("127.0.0.0/8",), ops=OpsConfig(enabled=False),
                           kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{down}", bootstrap_timeout_seconds=1))
    out = io.StringIO()
    svc = Service(config, out=out)
    svc.run(once=True)
    first_backoff = svc.store.schedule(feed).next_poll - datetime.now(UTC)
    svc.ops.ingest.due_in([feed], 0)  # the back-off has passed
    svc.run(once=True)
    second_backoff = svc.store.schedule(feed).next_poll - datetime.now(UTC)

    assert out.getvalue().count("published=0 kafka_unavailable=1") == 2
    assert sum(r.path.startswith("/news/") for r in server.requests) == 10, \
        "entries Kafka did not take are not marked seen: the next round reads them again"
    assert timedelta(seconds=10) < first_backoff <= timedelta(seconds=15)
    assert timedelta(seconds=25) < second_backoff <= timedelta(seconds=30), "the back-off doubles"
    assert (svc.ops.ready() or "").startswith("kafka: KafkaUnavailable")
    assert svc.ops.metrics.registry.get_sample_value("newswatch_publish_failures_total") == 2
