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
  its articles (so the poll interval is not counted) to the moment the Slack receiver
  (a webhook server on 127.0.0.1) gets it from ``newswatch notify``, which takes the
  alerts topic into its outbox and sends; also to the moment a consumer of the alerts
  topic receives it, to split the time between the job and the notifier. With
  ``--baseline DIR`` the notifier of that checkout runs beside ours (its own consumer
  group, outbox and receiver), so the Slack leg is compared in the same run.
- peak RSS of the job's process tree (Python driver, Prism, SDK workers).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import yaml
from kafka import KafkaConsumer

from bench import corpus
from bench.procs import ROOT, TreeSampler, run_child
from bench.run import Plan, check, service_config
from connectors.feeds import short_id
from connectors.kafka import KafkaSettings, committed_offsets, ensure_topics
from connectors.notify.slack import build_payload
from pipelines.streaming import prism_location
from schemas import Alert
from tests.connectors.notify.webhook import WebhookReceiver

STACK = ROOT / "deploy" / "local" / "stack.sh"
PORTS = {"NEWSWATCH_KAFKA_PORT": "39092", "NEWSWATCH_KAFKA_CONTROLLER_PORT": "39093",
         "NEWSWATCH_ES_PORT": "39200", "NEWSWATCH_ES_TRANSPORT_PORT": "39300"}
ROUND_PAUSE = 4.0  # between rounds, longer than the gap, as a poll interval would be
LATENCY_ROUNDS = 6
_SOURCE_LINK = re.compile(r"<https?://[^/|>]+(/news/[^|>]+)\|")  # a source link in a Slack message


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
        if not was_running:  # what did start (Kafka, when Elasticsearch failed) is stopped
            subprocess.run([str(STACK), "down"], env=env, capture_output=True, check=False)
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
         "--es-url", es_url, "--es-prefix", f"bench-{tag}", "--gap-seconds", str(p.gap_seconds),
         "--runner=PrismRunner", f"--prism_location={prism_location()}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    sampler = TreeSampler(job.pid).start()
    trees = {"current": ROOT, **({"baseline": p.baseline.resolve()} if p.baseline else {})}
    slack = {name: WebhookReceiver().__enter__() for name in trees}
    notifiers = {name: _notifier(tree, kafka, slack[name].url(), workdir / f"notify-{name}", log)
                 for name, tree in trees.items()}
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
            phases[name] = _phase(site, workdir / name, kafka, pages, base, received, slack, p.gap_seconds)
    finally:
        stop.set()
        for proc in (job, *notifiers.values()):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for receiver in slack.values():
            receiver.__exit__()
        sampler.stop()
        reader.join(timeout=5)
        log.close()
        # The job's and the notifiers' stderr, kept beside the results (the workdir is not).
        kept = ROOT / ".cache" / "bench" / f"stream-{tag}.log"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(workdir / "stream.log", kept)
    lat, thr = phases["latency"], phases["throughput"]
    latencies = lat["slack"]["current"]["latencies"]
    to_topic = lat["latencies"]
    return {
        "rate": thr["rate"], "phases": phases,
        "note": f"{thr['committed']} records; {len(big)} rounds of {p.pages}, {ROUND_PAUSE:g}s apart (pauses not counted)",
        "latency_s": _percentiles(latencies),
        "latency_to_topic_s": _percentiles(to_topic),
        "slack": {name: {"latency_s": _percentiles(lat["slack"][name]["latencies"]),
                         "notify_leg_s": _percentiles(lat["slack"][name]["legs"])} for name in trees},
        "latency_note": f"{len(latencies)} alerts at the Slack receiver, rounds of 8 articles; median "
                        f"{statistics.median(lat['in_service']) if lat['in_service'] else float('nan'):.2f}s "
                        f"before Kafka; to the alerts topic p50/p95 {_percentiles(to_topic)['p50']:.2f}/"
                        f"{_percentiles(to_topic)['p95']:.2f}s; gap {p.gap_seconds:g}s",
        "throughput_latency_p50_s": _percentile(thr["latencies"], 0.5),
        "job_peak_mb": sampler.peak_mb, "service_maxrss_mb": thr["service_maxrss_mb"], "log": str(kept),
    }


def _percentiles(values: list[float]) -> dict:
    return {"p50": _percentile(values, 0.5), "p95": _percentile(values, 0.95),
            "p99": _percentile(values, 0.99), "n": len(values)}


def _notifier(tree: Path, kafka: KafkaSettings, webhook: str, workdir: Path, log) -> subprocess.Popen:
    """``newswatch notify`` of checkout ``tree`` (this venv) in streaming mode: the alerts
    topic into its own outbox, then to the Slack receiver at ``webhook``. Its consumer
    group is its own (``<group>-notify-<name>-notifier``), so each notifier gets every alert."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings = kafka.model_copy(update={"group_id": f"{kafka.group_id}-{workdir.name}"})
    # Only what differs from the defaults: a baseline checkout may not know newer fields.
    config = {"store": str(workdir / "store.db"),
              "kafka": json.loads(settings.model_dump_json(exclude_defaults=True)),
              "log_format": "text", "ops": {"enabled": False},
              "notify": {"channels": {"slack": {"type": "slack", "webhook_url": webhook}},
                         "outbox": str(workdir / "outbox.db")}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return subprocess.Popen([sys.executable, "-c", "import sys; from connectors.cli import main; sys.exit(main())",
                             "notify", "--config", str(workdir / "config.yaml")],
                            cwd=tree, stdout=subprocess.DEVNULL, stderr=log)


def _alert_key(payload: dict) -> tuple[str, str]:
    """What identifies one Slack message's alert: its headline and its sources block."""
    sources = next((b["text"]["text"] for b in payload.get("blocks", [])
                    if b.get("type") == "section" and b.get("text", {}).get("text", "").startswith("*Sources*")), "")
    return payload.get("text", ""), sources


def _phase(site: corpus.Site, workdir: Path, kafka: KafkaSettings, pages: list[list[corpus.Page]],
           base: int, received: list[tuple[float, dict]], slack: dict[str, WebhookReceiver],
           gap_seconds: float) -> dict:
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
    time.sleep(2 * gap_seconds + 2)  # the last window's alerts on their way to Slack
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
    # The Slack messages: an alert's articles are its source links; the notifier's own leg
    # is the time from the alerts topic to the receiver, for the same alert.
    guids = {pg.path: pg.guid for batch in pages for pg in batch}
    on_topic = {_alert_key(build_payload(Alert.model_validate(alert))): when for when, alert in list(received)}
    delivered = {}
    for name, receiver in slack.items():
        lat, legs = [], []
        for when, body in zip(list(receiver.times), list(receiver.bodies), strict=False):
            sources = _alert_key(body)[1]
            seen = [site.appeared[guids[path]] for path in _SOURCE_LINK.findall(sources)
                    if path in guids and guids[path] in site.appeared]
            if seen:
                lat.append(when - max(seen))
                if _alert_key(body) in on_topic:
                    legs.append(when - on_topic[_alert_key(body)])
        delivered[name] = {"latencies": lat, "legs": legs, "messages": len(receiver.bodies)}
    warm = run.records[0].get("published", 0) if run.records else 0
    first = min(appeared.values()) if appeared else last_commit
    active = max(last_commit - first - ROUND_PAUSE * (len(pages) - 1), 1e-9)
    return {"published": published, "committed": committed, "rate": (committed - warm) / active,
            "latencies": latencies, "in_service": in_service, "slack": delivered,
            "service_maxrss_mb": run.maxrss_mb}
