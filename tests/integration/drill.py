"""The fault-drill harness: the whole streaming deployment as an operator runs
it, in real processes, against the drill's own Kafka and Elasticsearch.

    GrowingSite ─▶ newswatch run (Kafka mode) ─▶ Kafka ─▶ newswatch stream (Prism)
                                                          ├▶ Elasticsearch
                                                          └▶ alerts topic ─▶ newswatch notify ─▶ Slack receiver

Each process runs in its own session, so ``kill -9`` of one takes its children
(the Prism runner and SDK worker of the job) with it, as an OOM killer or a
power cut would. Each drill has its own topics, consumer groups, indices and
SQLite files; the counts come from what the servers hold at the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from connectors.elasticsearch import EsSettings, client, refresh
from connectors.kafka import KafkaSettings, delete_topics, read_all
from tests.connectors.notify.webhook import WebhookReceiver
from tests.fixtures.servers import STACK, Stack
from tests.integration.drill_site import GrowingSite


class Proc:
    """A ``newswatch`` sub-command in a process session of its own; output to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> Proc:
        self.starts += 1
        with self.log.open("a") as out:
            out.write(f"\n===== start {self.starts} of {self.name} =====\n")
            self.popen = subprocess.Popen([sys.executable, "-m", "connectors.cli", *self.argv], env=self.env,
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the whole session: no handler, no flush, no goodbye."""
        assert self.popen is not None
        self._killpg(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM, wait, then SIGKILL whatever is left in the session."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self._killpg(signal.SIGKILL)
        return self.popen.wait(timeout=30)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text.splitlines()[-lines:])

    def _killpg(self, sig: int) -> None:
        assert self.popen is not None
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass


@dataclass(frozen=True)
class Figures:
    """What a drill measured: one line in the test output."""

    drill: str
    sent: int  # articles the feed published
    published: int  # records on the articles topic (re-sends after a crash included)
    indexed: int  # sent articles found in the articles index
    duplicated: int  # extra article documents for one sent article
    lost: int  # sent articles not in the index
    dead_letters: int  # records on the dead-letter topic (none expected: every input is well formed)
    alerts_expected: int
    alerts_indexed: int  # documents in the alerts index
    alerts_published: int  # records on the alerts topic (re-sends after a crash included)
    alerts_delivered: int  # distinct alerts the Slack receiver got
    alerts_duplicated: int  # deliveries beyond the first of one alert
    seconds: float

    def line(self) -> str:
        return (f"drill {self.drill}: articles sent={self.sent} published={self.published} "
                f"indexed={self.indexed} duplicated={self.duplicated} lost={self.lost} "
                f"dead_letters={self.dead_letters}; alerts expected={self.alerts_expected} "
                f"indexed={self.alerts_indexed} published={self.alerts_published} "
                f"delivered={self.alerts_delivered} duplicated={self.alerts_duplicated}; {self.seconds:.0f} s")


class Drill:
    """One deployment (service, job, notifier) over one growing site."""

    def __init__(self, name: str, stack: Stack, prism: str, site: GrowingSite, slack: WebhookReceiver,
                 folder: Path, gap_seconds: float = 2.0) -> None:
        self.name, self.stack, self.site, self.slack = name, stack, site, slack
        tag = uuid.uuid4().hex[:8]
        self.kafka = KafkaSettings(bootstrap_servers=stack.kafka, articles_topic=f"drill-{tag}.articles",
                                   alerts_topic=f"drill-{tag}.alerts", dead_letter_topic=f"drill-{tag}.dead-letter",
                                   group_id=f"drill-{tag}")
        self.es = EsSettings(urls=(stack.es_url,), prefix=f"drill-{tag}")
        self.folder = folder
        config = folder / "newswatch.yaml"
        config.write_text(yaml.safe_dump({
            "feeds": [{"url": site.feed_url}], "interval_seconds": 1, "store": str(folder / "nw.db"),
            "out_dir": str(folder / "out"), "allowed_networks": ["127.0.0.0/8"], "log_format": "text",
            "schedule": {"min_interval_seconds": 0.5, "max_interval_seconds": 1, "jitter": 0,
                         "backoff_max_seconds": 2},
            "politeness": {"host_delay_seconds": 0},
            "ops": {"enabled": False},
            "kafka": self.kafka.model_dump(exclude_none=True),
            "elasticsearch": {"urls": list(self.es.urls), "prefix": self.es.prefix},
            "notify": {"channels": {"slack": {"type": "slack"}}, "outbox": str(folder / "outbox.db"),
                       "poll_seconds": 0.2, "retry_base_seconds": 0.5, "retry_max_seconds": 2,
                       "deliver_in_service": False},
        }))
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "NEWSWATCH_SLACK_WEBHOOK_URL": slack.url()}
        self.service = Proc("service", ["run", "--config", str(config)], env, folder / "service.log")
        self.job = Proc("job", ["stream", "--config", str(config), "--gap-seconds", str(gap_seconds),
                                "--runner=PrismRunner", f"--prism_location={prism}"], env, folder / "job.log")
        self.notifier = Proc("notify", ["notify", "--config", str(config)], env, folder / "notify.log")
        self.processes = (self.service, self.job, self.notifier)
        self.started = time.monotonic()

    # -- the deployment -------------------------------------------------------

    def start(self) -> None:
        self.job.start()
        self.notifier.start()
        self.wait(lambda: "streaming job started" in self.job.log.read_text(errors="replace"), 120,
                  "the streaming job to start")
        self.service.start()
        self.started = time.monotonic()

    def stop(self) -> None:
        for proc in self.processes:
            proc.stop()

    def cleanup(self) -> None:
        self.stop()
        delete_topics(self.kafka, self.kafka.topics)
        es = client(self.es)
        try:
            indices = list(es.indices.get(index=f"{self.es.prefix}-*", expand_wildcards="all"))
            if indices:
                es.indices.delete(index=",".join(indices))
        finally:
            es.close()

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.processes)

    # -- faults ----------------------------------------------------------------

    def server(self, action: str, service: str) -> None:
        """``deploy/local/stack.sh up|down kafka|elasticsearch`` on the drill stack."""
        done = subprocess.run([str(STACK), action, service], check=False, env=self.stack.env,
                              capture_output=True, text=True)
        assert done.returncode == 0, f"stack.sh {action} {service}:\n{done.stderr[-2000:]}"

    # -- progress and counts ---------------------------------------------------

    @contextmanager
    def feeding(self, per_step: int = 2, every: float = 1.0) -> Iterator[None]:
        """Release articles in the background while the body of the ``with`` runs."""
        stop = threading.Event()

        def run() -> None:
            while not stop.is_set() and self.site.release(per_step) < len(self.site.articles):
                stop.wait(every)

        thread = threading.Thread(target=run, name="feed", daemon=True)
        thread.start()
        try:
            yield
        finally:
            thread.join(timeout=len(self.site.articles) * every + 10)
            stop.set()

    def wait(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            for proc in self.processes:
                assert proc.popen is None or proc.alive(), f"{proc.name} exited while waiting for {what}\n{self.logs()}"
            assert time.monotonic() < deadline, f"{self.name}: no {what} within {timeout:.0f} s\n{self.logs()}"
            time.sleep(0.5)

    def count(self, kind: str) -> int:
        es = client(self.es)
        try:
            refresh(es, self.es, (kind,))  # type: ignore[arg-type]
            return int(es.count(index=f"{self.es.prefix}-{kind}")["count"])
        finally:
            es.close()

    def indexed_per_url(self) -> dict[str, int]:
        es = client(self.es)
        try:
            refresh(es, self.es, ("articles",))
            hits = es.search(index=f"{self.es.prefix}-articles", size=10_000,
                             source=["url", "canonical_url"])["hits"]["hits"]
        finally:
            es.close()
        counts: dict[str, int] = {}
        for hit in hits:
            url = hit["_source"].get("url") or hit["_source"].get("canonical_url")
            counts[url] = counts.get(url, 0) + 1
        return counts

    def deliveries(self) -> dict[str, int]:
        """Slack messages per capture article (each alert cites its article's URL)."""
        captures = [a for a in self.site.articles if a.town]
        out = {self.site.url(a): 0 for a in captures}
        for body in list(self.slack.bodies):
            text = json.dumps(body)
            for url in out:
                if url in text:
                    out[url] += 1
        return out

    def complete(self) -> bool:
        sent = {self.site.url(a) for a in self.site.articles}
        return (self.site.released == len(self.site.articles)
                and sent <= set(self.indexed_per_url())
                and all(n >= 1 for n in self.deliveries().values()))

    def finish(self, timeout: float = 240.0, settle: float = 6.0) -> Figures:
        """Wait until every article is indexed and every alert delivered (or
        the timeout), wait ``settle`` seconds more for late repeats, count."""
        deadline = time.monotonic() + timeout
        while not self.complete() and time.monotonic() < deadline:
            if not all(p.alive() for p in self.processes):
                break  # the test reports which one exited
            time.sleep(1.0)
        time.sleep(settle)
        sent = [self.site.url(a) for a in self.site.articles[:self.site.released]]
        per_url = self.indexed_per_url()
        deliveries = self.deliveries()
        return Figures(
            drill=self.name, sent=len(sent), published=len(read_all(self.kafka, self.kafka.articles_topic)),
            indexed=sum(1 for u in sent if per_url.get(u)),
            duplicated=sum(max(0, per_url.get(u, 0) - 1) for u in sent),
            lost=sum(1 for u in sent if not per_url.get(u)),
            dead_letters=len(read_all(self.kafka, self.kafka.dead_letter_topic)),
            alerts_expected=len(deliveries), alerts_indexed=self.count("alerts"),
            alerts_published=len(read_all(self.kafka, self.kafka.alerts_topic)),
            alerts_delivered=sum(1 for n in deliveries.values() if n),
            alerts_duplicated=sum(max(0, n - 1) for n in deliveries.values()),
            seconds=time.monotonic() - self.started)
