"""Operations: health and readiness, Prometheus metrics scraped over HTTP,
JSON logs, config validation, and a SIGTERM that drains and loses nothing."""

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from connectors.http import Fetcher
from connectors.logs import configure_logging
from connectors.service import ConfigError, FeedConfig, Service, ServiceConfig, load_config
from connectors.service_settings import OpsConfig
from tests.connectors.conftest import LOCAL
from tests.connectors.news_site import news_site
from tests.fixtures.http_server import respond

REPO = Path(__file__).resolve().parents[2]


def samples(text):
    """{(name, frozenset(labels)): value} of a Prometheus text exposition."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_health_and_readiness_over_http(server, tmp_path):
    feed = news_site(server)
    config = ServiceConfig(
        feeds=(FeedConfig(url=feed), FeedConfig(url=server.url("/gone.xml"))),
        interval_seconds=0.1, store=tmp_path / "nw.db", out_dir=tmp_path / "out",
        allowed_networks=("127.0.0.0/8",), ops=OpsConfig(port=0))
    svc = Service(config, out=io.StringIO())
    with Fetcher(LOCAL) as fetcher, svc.ops.running():
        base = svc.ops.server.url
        assert svc.ops.server.address[0] == "127.0.0.1"  # loopback unless told otherwise
        assert httpx.get(base + "/healthz").json() == {"status": "ok"}
        not_yet = httpx.get(base + "/readyz")
        assert (not_yet.status_code, not_yet.json()["reason"]) == (503, "first poll not finished")
        svc.round(fetcher)
        assert httpx.get(base + "/readyz").status_code == 200
        scrape = httpx.get(base + "/metrics")
        svc.stop()
        assert httpx.get(base + "/readyz").json() == {"status": "fail", "reason": "stopping"}
    assert scrape.headers["content-type"].startswith("text/plain")
    m = samples(scrape.text)
    assert m[("newswatch_feeds_polled_total", frozenset({("result", "new_entries")}))] == 1
    assert m[("newswatch_feeds_polled_total", frozenset({("result", "failed")}))] == 1
    assert m[("newswatch_fetch_errors_total", frozenset({("kind", "http_4xx"),
                                                          ("step", "fetch")}))] == 1
    assert m[("newswatch_articles_extracted_total", frozenset())] == 5
    assert m[("newswatch_duplicates_total", frozenset())] >= 1  # two outlets, one capture story
    assert m[("newswatch_events_total", frozenset())] >= 1
    assert m[("newswatch_alerts_total", frozenset())] == 1
    assert m[("newswatch_fetch_to_alert_seconds_count", frozenset())] == 1
    assert m[("newswatch_feeds", frozenset())] == 2
    assert ("newswatch_queue_lag_seconds", frozenset()) in m


def test_healthz_fails_when_the_loop_stalls(tmp_path):
    config = ServiceConfig(store=tmp_path / "nw.db",
                           ops=OpsConfig(port=0, stall_after_seconds=0.05))
    svc = Service(config, out=io.StringIO())
    with svc.ops.running():
        time.sleep(0.1)
        answer = httpx.get(svc.ops.server.url + "/healthz")
    assert answer.status_code == 503
    assert answer.json()["reason"].startswith("service loop silent for")


def test_logs_are_one_json_object_per_line():
    stream = io.StringIO()
    configure_logging("json", logging.INFO, stream)
    try:
        logging.getLogger("connectors.ingest").warning("feed %s is failing", "http://a.example/f")
    finally:
        configure_logging("text", logging.WARNING, sys.stderr)
    record = json.loads(stream.getvalue())
    assert record["message"] == "feed http://a.example/f is failing"
    assert (record["level"], record["logger"]) == ("WARNING", "connectors.ingest")
    assert record["time"].endswith("+0000")


def test_nested_settings_come_from_the_environment_too(tmp_path):
    path = tmp_path / "nw.yaml"
    path.write_text("ops:\n  port: 9000\n  host: 127.0.0.1\n")
    config = load_config(path, {"NEWSWATCH_OPS__PORT": "9100", "NEWSWATCH_POLITENESS__PER_HOST": "1",
                                "NEWSWATCH_LOG_FORMAT": "text"})
    assert (config.ops.port, config.ops.host, config.politeness.per_host) == (9100, "127.0.0.1", 1)
    assert config.log_format == "text"


@pytest.mark.parametrize("text, env, message", [
    ("schedule:\n  jitter: 2\n", {}, r"nw\.yaml: schedule\.jitter: Input should be less than 1"),
    ("politeness:\n  workerz: 3\n", {}, r"politeness\.workerz: Extra inputs are not permitted"),
    ("", {"NEWSWATCH_OPS__PORT": "http"}, r"\$NEWSWATCH_OPS__PORT: ops\.port: Input should be a valid"),
    ("schedule:\n  min_interval_seconds: 600\n  max_interval_seconds: 60\n", {},
     r"schedule: Value error, min_interval_seconds is greater than max_interval_seconds"),
])
def test_bad_settings_are_refused_at_start_naming_the_file_and_field(tmp_path, text, env, message):
    path = tmp_path / "nw.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path, env)


def slow_pages(server, seconds):
    """Make every article page of the news site take ``seconds`` to answer."""
    for path, route in list(server.routes.items()):
        if path.startswith("/news/"):
            def slow(handler, route=route):
                time.sleep(seconds)
                respond(handler, *route)
            server.routes[path] = slow


def page_requests(server):
    return sorted(r.path for r in server.requests if r.path.startswith("/news/"))


def newswatch(config_path, *args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "connectors.cli", "run", "--config",
                             str(config_path), *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigterm_drains_in_flight_fetches_and_a_restart_reads_only_the_rest(server, tmp_path):
    feed = news_site(server)
    slow_pages(server, 1.0)
    config = tmp_path / "nw.yaml"
    config.write_text(yaml.safe_dump({
        "feeds": [{"url": feed}], "interval_seconds": 600, "store": str(tmp_path / "nw.db"),
        "out_dir": str(tmp_path / "out"), "allowed_networks": ["127.0.0.0/8"],
        "politeness": {"workers": 1, "per_host": 1, "host_delay_seconds": 0},
        "ops": {"port": 0}}))
    first = newswatch(config)
    deadline = time.monotonic() + 60
    while not page_requests(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    fetched_before = page_requests(server)
    assert 1 <= len(fetched_before) < 5  # the page in flight was finished, the rest dropped
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(r["message"] == "stopping after the current round" for r in logs)
    assert f"new={len(fetched_before)}" in out

    second = newswatch(config, "--once")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    pages = page_requests(server)
    assert len(pages) == len(set(pages)) == 5  # every page read once, over both runs
    alerts = (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()
    assert len(alerts) == 1


def test_a_taken_ops_port_is_a_clear_error(tmp_path):
    first = Service(ServiceConfig(store=tmp_path / "a.db", ops=OpsConfig(port=0)), out=io.StringIO())
    with first.ops.running():
        port = first.ops.server.address[1]
        second = Service(ServiceConfig(store=tmp_path / "b.db", ops=OpsConfig(port=port)),
                         out=io.StringIO())
        with pytest.raises(ConfigError, match=rf"ops: cannot listen on 127\.0\.0\.1:{port}: "
                                              "Address already in use"):
            second.run(once=True)


def test_the_ops_port_binds_ipv6_loopback_too(tmp_path):
    config = ServiceConfig(store=tmp_path / "nw.db", ops=OpsConfig(host="::1", port=0))
    svc = Service(config, out=io.StringIO())
    with svc.ops.running():
        url = svc.ops.server.url
        answer = httpx.get(url + "/healthz")
    assert url.startswith("http://[::1]:")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
