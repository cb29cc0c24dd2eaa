"""The full stack on real servers: the service publishes a real local feed to
Kafka, the streaming job reads it and writes Elasticsearch and Kafka.

Needs Java (Kafka, Elasticsearch); the unbounded test also needs Go (Prism).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.elasticsearch import EsSettings, client, refresh
from connectors.kafka import KafkaSettings, commit_offsets, committed_offsets, read_all
from connectors.service import Service, ServiceConfig
from pipelines import streaming
from schemas.validate import errors
from tests.connectors.news_site import news_site
from tests.fixtures.http_server import LocalServer
from tests.integration.conftest import stream_args
from tests.integration.es_proxy import HoldingProxy

pytestmark = pytest.mark.integration

PALMYRA = {"lat": 34.5603, "lon": 38.2675}
SEEDS = 5


@pytest.fixture
def feed() -> str:
    with LocalServer() as server:
        yield news_site(server)


def ingest(feed: str, kafka: KafkaSettings, store: Path) -> str:
    """One round of the always-on service in Kafka mode; its printed summary."""
    out = io.StringIO()
    config = ServiceConfig.model_validate({
        "feeds": [{"url": feed}], "store": store, "out_dir": store.parent / "out",
        "allowed_networks": ["127.0.0.0/8"], "kafka": kafka,
        "ops": {"enabled": False}})  # no health/metrics port: tests run beside other services
    Service(config, out=out).run(once=True)
    return out.getvalue()


def counts(es_settings: EsSettings) -> dict[str, int]:
    es = client(es_settings)
    refresh(es, es_settings)
    return {kind: es.count(index=f"{es_settings.prefix}-{kind}")["count"]
            for kind in ("articles", "events", "alerts")}


def ids(es_settings: EsSettings, kind: str) -> list[str]:
    es = client(es_settings)
    refresh(es, es_settings)
    hits = es.search(index=f"{es_settings.prefix}-{kind}", size=1000, source=False)["hits"]["hits"]
    return sorted(h["_id"] for h in hits)


def bounded(kafka: KafkaSettings, es: EsSettings, records: int) -> None:
    streaming.run(stream_args(kafka, es, "--max-records", str(records)))


def start_unbounded(kafka: KafkaSettings, es: EsSettings, prism: str) -> subprocess.Popen:
    """``newswatch stream`` on Prism, in its own process session."""
    return subprocess.Popen(
        [sys.executable, "-m", "connectors.cli", "stream", *stream_args(kafka, es),
         "--runner=PrismRunner", f"--prism_location={prism}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def stop(job: subprocess.Popen) -> str:
    job.send_signal(signal.SIGTERM)
    out, _ = job.communicate(timeout=60)
    # The job's own session: whatever it left behind (a Prism process) goes with it.
    try:
        os.killpg(job.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return out


def committed_total(kafka: KafkaSettings) -> int:
    return sum(o or 0 for o in committed_offsets(kafka, kafka.articles_topic).values())


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.5)
    return time.monotonic() - start


def test_the_service_publishes_each_new_article_once_as_a_raw_document(feed, kafka, tmp_path, stack):
    summary = ingest(feed, kafka, tmp_path / "nw.db")
    ingest(feed, kafka, tmp_path / "nw.db")  # the same entries again: already seen, not re-sent

    records = read_all(kafka, kafka.articles_topic)
    assert "published=5" in summary
    assert len(records) == SEEDS
    assert all(errors("raw_document", json.loads(r.value)) == [] for r in records)
    assert all(r.key and r.key.startswith("a") for r in records), "key = the article id"
    print(f"stack start: {stack.start_seconds:.1f} s")


def test_the_job_writes_mapped_documents_one_alert_and_commits_after_writing(feed, kafka, es_settings, tmp_path):
    ingest(feed, kafka, tmp_path / "nw.db")
    start = time.monotonic()
    bounded(kafka, es_settings, SEEDS)
    print(f"bounded job, {SEEDS} records: {time.monotonic() - start:.1f} s")

    es = client(es_settings)
    refresh(es, es_settings)
    mapping = es.indices.get_mapping(index=f"{es_settings.prefix}-events")
    (index_mapping,) = mapping.values()
    assert index_mapping["mappings"]["properties"]["location_point"]["type"] == "geo_point"
    near_palmyra = es.search(index=f"{es_settings.prefix}-events", query={"bool": {"filter": [
        {"geo_distance": {"distance": "100km", "location_point": PALMYRA}},
        {"term": {"sub_event_type": "Government regains territory"}}]}})["hits"]["hits"]
    assert {h["_source"]["location"] for h in near_palmyra} >= {"As Sukhnah"}

    alerts = es.search(index=f"{es_settings.prefix}-alerts", query={"term": {"rule_id": "town-captured"}})
    assert alerts["hits"]["total"]["value"] == 1
    (alert,) = alerts["hits"]["hits"]
    assert alert["_source"]["event"]["location"] == "As Sukhnah"
    assert [r.key for r in read_all(kafka, kafka.alerts_topic)] == [alert["_id"]], "alert sent to the notifier"

    committed = committed_offsets(kafka, kafka.articles_topic)
    assert sum(o or 0 for o in committed.values()) == SEEDS, "every record read was committed"


def test_no_duplicates_after_the_feed_is_ingested_twice_and_the_job_restarted(feed, kafka, es_settings, tmp_path):
    ingest(feed, kafka, tmp_path / "first.db")
    bounded(kafka, es_settings, SEEDS)
    first = {kind: ids(es_settings, kind) for kind in ("articles", "events", "alerts")}

    ingest(feed, kafka, tmp_path / "second.db")  # another service, same feed: every article again
    bounded(kafka, es_settings, SEEDS)  # the restarted job resumes at the committed offsets
    assert committed_offsets(kafka, kafka.articles_topic) != {}
    # A crash before the commit re-delivers everything: rewind the group and read it all again.
    commit_offsets(kafka, {(kafka.articles_topic, p): 0
                           for p in committed_offsets(kafka, kafka.articles_topic)})
    bounded(kafka, es_settings, 2 * SEEDS)

    assert len(read_all(kafka, kafka.articles_topic)) == 2 * SEEDS
    assert {kind: ids(es_settings, kind) for kind in first} == first
    assert counts(es_settings)["alerts"] == 1
    assert len(read_all(kafka, kafka.alerts_topic)) == 1, "the notifier hears of the alert once"


def test_a_record_that_is_not_a_raw_document_goes_to_the_dead_letter_topic(kafka, es_settings):
    from connectors.kafka import Publisher

    with Publisher(kafka) as publisher:
        publisher.send(kafka.articles_topic, "bad", '{"title": "no id, no origin"}')
        publisher.flush()
    bounded(kafka, es_settings, 1)

    (dead,) = read_all(kafka, kafka.dead_letter_topic)
    failure = json.loads(dead.value)
    assert errors("failure", failure) == []
    assert failure["step"] == "parse-kafka-record"
    assert failure["input"].startswith(f"{kafka.articles_topic}/")
    assert sum(o or 0 for o in committed_offsets(kafka, kafka.articles_topic).values()) == 1


def test_the_unbounded_job_on_prism_processes_articles_as_they_arrive(feed, kafka, es_settings, tmp_path, prism):
    def start_job() -> subprocess.Popen:
        return start_unbounded(kafka, es_settings, prism)

    def alerted() -> bool:
        return counts(es_settings)["alerts"] == 1 and sum(
            o or 0 for o in committed_offsets(kafka, kafka.articles_topic).values()) == SEEDS

    job = start_job()
    try:
        time.sleep(8)  # the job starts (Prism, workers) while the feed is quiet
        assert job.poll() is None, job.stdout.read() if job.stdout else ""
        ingest(feed, kafka, tmp_path / "first.db")
        latency = wait_for(alerted, 90, "an alert in Elasticsearch and the offsets committed")
        print(f"unbounded job, publish to alert document: {latency:.1f} s")
        first = {kind: ids(es_settings, kind) for kind in ("articles", "events", "alerts")}
    finally:
        output = stop(job)
    assert "stream: CANCELLED" in output, output[-3000:]
    print("\n".join(line for line in output.splitlines() if "committed" in line))

    job = start_job()  # restarted: resumes at the committed offsets
    try:
        ingest(feed, kafka, tmp_path / "second.db")
        wait_for(lambda: sum(o or 0 for o in committed_offsets(kafka, kafka.articles_topic).values())
                 == 2 * SEEDS, 90, "the re-ingested feed consumed")
    finally:
        stop(job)
    assert {kind: ids(es_settings, kind) for kind in first} == first


OLD_MARGIN = 3 * 2.0  # the commit used to be stamped three session gaps (2 s here) after its records
HOLD = 15.0  # Elasticsearch stalls longer than that margin (and below the client's 30 s timeout)


def test_offsets_are_committed_only_after_elasticsearch_acknowledged_even_when_it_stalls(
        feed, kafka, es_settings, tmp_path, prism):
    raw_ids = set()
    with HoldingProxy(es_settings.urls[0]) as proxy:
        through_proxy = es_settings.model_copy(update={"urls": (proxy.url,)})
        job = start_unbounded(kafka, through_proxy, prism)
        try:
            time.sleep(8)  # the job starts (Prism, workers) while the feed is quiet
            assert job.poll() is None, job.stdout.read() if job.stdout else ""
            proxy.hold()  # from now on every bulk write waits
            ingest(feed, kafka, tmp_path / "nw.db")
            raw_ids = {json.loads(r.value)["doc_id"] for r in read_all(kafka, kafka.articles_topic)}
            held_since = time.monotonic()
            while time.monotonic() - held_since < HOLD:
                assert counts(es_settings)["articles"] == 0, "bulk writes are held"
                assert committed_total(kafka) == 0, "an offset was committed before Elasticsearch had its records"
                time.sleep(0.5)
            assert proxy.held_requests >= 1, "the job tried to write while Elasticsearch stalled"
            proxy.release()
            wait_for(lambda: committed_total(kafka) == SEEDS, 60, "every offset committed after the release")
        finally:
            output = stop(job)
            print("\n".join(line for line in output.splitlines() if "kafka_sinks" in line or "Error" in line))

    es = client(es_settings)
    refresh(es, es_settings)
    articles = es.search(index=f"{es_settings.prefix}-articles", size=100)["hits"]["hits"]
    per_record = [sum(raw in a["_source"]["doc_ids"] for a in articles) for raw in sorted(raw_ids)]
    assert len(raw_ids) == SEEDS
    assert per_record == [1] * SEEDS, "every record is in exactly one article document"
    assert counts(es_settings)["alerts"] == 1
    assert counts(es_settings)["events"] == len(set(ids(es_settings, "events"))) > 0
