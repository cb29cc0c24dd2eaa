"""Measurements 4 and 5 with Kafka and Elasticsearch: the service publishes each polling
round to Kafka, ``newswatch stream`` (Prism runner) analyses it and writes Elasticsearch
and the alerts topic.

Servers: a stack of our own from ``deploy/local/stack.sh`` on other ports and in
``.cache/deploy/bench-run`` (a developer's stack and the integration tests' are not
touched), stopped at the end if this run started it. Topics, group and index prefix
are new for each run.

- sustained articles/s: records the job has committed (it commits a window's offsets
  after Elasticsearch and Kafka acknowledged everything derived from it) over the time
  from the first round to the last commit;
- latency: for each alert, from the moment the local feed first showed the newest of
  its articles (so the poll interval is not counted) to the moment a consumer of the
  alerts topic receives it. The Slack leg is not measured: in streaming mode nothing yet
  carries alerts from the alerts topic to the notifier (docs/benchmarks.md).
- peak RSS of the job's process tree (Python driver, Prism, SDK workers).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer

from bench import corpus
from bench.procs import ROOT, TreeSampler, run_child
from bench.run import Plan, check, service_config
from connectors.feeds import short_id
from connectors.kafka import KafkaSettings, committed_offsets, ensure_topics
from pipelines.streaming import prism_location

STACK = ROOT / "deploy" / "local" / "stack.sh"
PORTS = {"NEWSWATCH_KAFKA_PORT": "39092", "NEWSWATCH_KAFKA_CONTROLLER_PORT": "39093",
         "NEWSWATCH_ES_PORT": "39200", "NEWSWATCH_ES_TRANSPORT_PORT": "39300"}
GAP_SECONDS = 1.0  # session gap of the job: a round's window fires this long after its last record
ROUND_PAUSE = 4.0  # between rounds, longer than the gap, as a poll interval would be
LATENCY_ROUNDS = 6


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(p: Plan, site: corpus.Site, workdir: Path) -> dict:
    if shutil.which("java") is None:
        return {"skipped": "java is not installed: Kafka and Elasticsearch cannot start"}
    env = {**os.environ, **PORTS, "NEWSWATCH_RUN_DIR": str(ROOT / ".cache" / "deploy" / "bench-run")}
    was_running = subprocess.run([str(STACK), "status"], env=env, capture_output=True).returncode == 0
    up = subprocess.run([str(STACK), "up"], env=env, capture_output=True, text=True)
    if up.returncode != 0:
        return {"skipped": f"deploy/local/stack.sh up failed: {up.stderr.strip().splitlines()[-1:]}"}
    try:
        return _measure(p, site, workdir)
    finally:
        if not was_running:
            subprocess.run([str(STACK), "down"], env=env, capture_output=True)


def _measure(p: Plan, site: corpus.Site, workdir: Path) -> dict:
    tag = uuid.uuid4().hex[:8]
    kafka = KafkaSettings(bootstrap_servers=f"127.0.0.1:{PORTS['NEWSWATCH_KAFKA_PORT']}",
                          articles_topic=f"bench-{tag}.articles", alerts_topic=f"bench-{tag}.alerts",
                          dead_letter_topic=f"bench-{tag}.dead-letter", group_id=f"bench-{tag}")
    es_url = f"http://127.0.0.1:{PORTS['NEWSWATCH_ES_PORT']}"
    ensure_topics(kafka)
    workdir.mkdir(parents=True, exist_ok=True)
    log = (workdir / "stream.log").open("w", encoding="utf-8")
    job = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "newswatch"), "stream", "--bootstrap-servers", kafka.bootstrap_servers,
         "--articles-topic", kafka.articles_topic, "--alerts-topic", kafka.alerts_topic,
         "--dead-letter-topic", kafka.dead_letter_topic, "--group-id", kafka.group_id,
         "--es-url", es_url, "--es-prefix", f"bench-{tag}", "--gap-seconds", str(GAP_SECONDS),
         "--runner=PrismRunner", f"--prism_location={prism_location()}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    sampler = TreeSampler(job.pid).start()
    received: list[tuple[float, dict]] = []
    stop = threading.Event()

    def consume() -> None:
        consumer = KafkaConsumer(kafka.alerts_topic, bootstrap_servers=kafka.bootstrap_servers,
                                 auto_offset_reset="earliest", group_id=None)
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=100).values():
                now = time.time()
                received.extend((now, json.loads(r.value)) for r in records)
        consumer.close()
    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    phases: dict[str, dict] = {}
    try:
        time.sleep(15)  # the job's start-up (Prism, SDK worker): not a latency to charge to alerts
        texts = corpus.real_texts()
        # Latency: small rounds, as a feed shows a few new items per poll; consecutive real
        # articles, so that several outlets report one event and a rule fires.
        small = [corpus.redated(texts[(8 * n) % len(texts):][:8], 40 * (n + 1)) for n in range(LATENCY_ROUNDS)]
        # Throughput: rounds of the whole corpus, published as bursts.
        big = [corpus.redated(texts, 40 * (LATENCY_ROUNDS + n + 1))[:p.pages] for n in range(max(3, p.repeats))]
        for name, batches, base in (("latency", small, 8 * 10**7), ("throughput", big, 9 * 10**7)):
            pages = [[corpus.page(t, base + 1000 * n + i) for i, t in enumerate(b)] for n, b in enumerate(batches)]
            phases[name] = _phase(site, workdir / name, kafka, pages, base, received)
    finally:
        stop.set()
        job.terminate()
        try:
            job.wait(timeout=30)
        except subprocess.TimeoutExpired:
            job.kill()
        sampler.stop()
        reader.join(timeout=5)
        log.close()
    lat, thr = phases["latency"], phases["throughput"]
    latencies = lat["latencies"]
    return {
        "rate": thr["rate"], "phases": phases,
        "note": f"{thr['committed']} records; {len(big)} rounds of {p.pages}, {ROUND_PAUSE:g}s apart (pauses not counted)",
        "latency_s": {"p50": _percentile(latencies, 0.5), "p95": _percentile(latencies, 0.95),
                      "p99": _percentile(latencies, 0.99), "n": len(latencies)},
        "latency_note": f"{len(latencies)} alerts, rounds of 8 articles; median "
                        f"{statistics.median(lat['in_service']) if lat['in_service'] else float('nan'):.1f}s "
                        f"before Kafka; to the alerts topic (no Slack bridge yet); gap {GAP_SECONDS:g}s",
        "throughput_latency_p50_s": _percentile(thr["latencies"], 0.5),
        "job_peak_mb": sampler.peak_mb, "service_maxrss_mb": thr["service_maxrss_mb"],
    }


def _phase(site: corpus.Site, workdir: Path, kafka: KafkaSettings, pages: list[list[corpus.Page]],
           base: int, received: list[tuple[float, dict]]) -> dict:
    """The service in Kafka mode over ``pages`` (one round per batch), until the job has
    committed every record; the alerts received for these pages and their latencies."""
    config = service_config(site, pages, workdir, start=base, kafka=json.loads(kafka.model_dump_json()))
    before = sum(o or 0 for o in committed_offsets(kafka, kafka.articles_topic).values())
    run = run_child(["service", str(config), str(len(pages))], env={"BENCH_ROUND_PAUSE": str(ROUND_PAUSE)})
    check(run, "stream service")
    published = sum(r.get("published", 0) for r in run.records)
    committed, deadline, last_commit = 0, time.time() + 180, time.time()
    while time.time() < deadline and committed < published:
        now = sum(o or 0 for o in committed_offsets(kafka, kafka.articles_topic).values()) - before
        if now != committed:
            committed, last_commit = now, time.time()
        time.sleep(0.5)
    time.sleep(2 * GAP_SECONDS)
    mine = {short_id(pg.guid): pg.guid for batch in pages for pg in batch}
    appeared = {d: site.appeared[g] for d, g in mine.items() if g in site.appeared}
    # Each round is published when all its pages are read: split each latency at that moment.
    ends = sorted(r["ended"] for r in run.records if "ended" in r)
    latencies, in_service = [], []
    for when, alert in list(received):
        seen = [appeared[d] for d in alert.get("doc_ids", []) if d in appeared]
        if seen:
            latencies.append(when - max(seen))
            in_service.append(next((e for e in ends if e >= max(seen)), when) - max(seen))
    warm = run.records[0].get("published", 0) if run.records else 0
    first = min(appeared.values()) if appeared else last_commit
    active = max(last_commit - first - ROUND_PAUSE * (len(pages) - 1), 1e-9)
    return {"published": published, "committed": committed, "rate": (committed - warm) / active,
            "latencies": latencies, "in_service": in_service, "service_maxrss_mb": run.maxrss_mb}
