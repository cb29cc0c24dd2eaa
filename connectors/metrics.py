"""The service's Prometheus metrics, in a registry of its own (not the
process-global one, so two services in one test process do not collide).

Served as text at ``/metrics`` by ``connectors.ops``. Names and labels are
listed in docs/operations.md; ``error_kind`` is the one place that turns a
failure reason into the small, fixed set of ``kind`` label values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from schemas import Alert, Failure, RawDocument

# Ordered: the first matching prefix or fragment names the kind.
_FETCH_KINDS = (("timed out", "timeout"), ("response larger", "too_large"),
                ("refused:", "address_refused"), ("redirect", "redirect"),
                ("too many redirects", "redirect"), ("not an html page", "content_type"),
                ("not a feed", "content_type"), ("not a robots", "content_type"),
                ("bad gzip", "encoding"), ("bad deflate", "encoding"),
                ("unsupported content encoding", "encoding"), ("cannot resolve", "dns"),
                ("robots.txt", "robots"), ("unsupported scheme", "bad_url"),
                ("invalid url", "bad_url"), ("tls error", "tls"))


def error_kind(failure: Failure) -> str:
    """A low-cardinality label for a failure: ``timeout``, ``http_4xx``, ``parse``…"""
    if failure.step != "fetch":
        return failure.step  # read, parse, extract, robots
    reason = failure.reason.lower()
    if reason.startswith("http ") and reason[5:6].isdigit():
        return f"http_{reason[5]}xx"
    for fragment, kind in _FETCH_KINDS:
        if fragment in reason:
            return kind
    return "network"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.feeds_polled = Counter(
            "newswatch_feeds_polled", "Feed polls, by result (new_entries, no_new_entries, "
            "not_modified, failed)", ["result"], registry=r)
        self.fetch_errors = Counter(
            "newswatch_fetch_errors", "Inputs that failed, by kind and step", ["kind", "step"],
            registry=r)
        self.articles_extracted = Counter(
            "newswatch_articles_extracted", "Pages and entries turned into documents", registry=r)
        self.articles = Counter("newswatch_articles", "Articles stored after deduplication",
                                registry=r)
        self.duplicates = Counter("newswatch_duplicates", "Documents merged as duplicates",
                                  registry=r)
        self.events = Counter("newswatch_events", "Events extracted", registry=r)
        self.alerts = Counter("newswatch_alerts", "New alerts announced", registry=r)
        self.published = Counter("newswatch_published", "Articles acknowledged by Kafka (Kafka mode)",
                                 registry=r)
        self.publish_failures = Counter(
            "newswatch_publish_failures", "Rounds Kafka did not take (Kafka mode; their entries are re-read)",
            registry=r)
        self.websub_pushes = Counter(
            "newswatch_websub_pushes", "WebSub content deliveries, by result", ["result"],
            registry=r)
        self.queue_pending = Gauge(
            "newswatch_queue_pending", "Feeds due plus pushed entries waiting, at round start",
            registry=r)
        self.queue_lag = Gauge(
            "newswatch_queue_lag_seconds", "How long the oldest waiting item (a due feed or a "
            "pushed entry) has waited past its time, at round start", registry=r)
        self.feeds = Gauge("newswatch_feeds", "Feeds on the list", registry=r)
        self.feeds_failing = Gauge("newswatch_feeds_failing",
                                   "Feeds reported as failing (backed off)", registry=r)
        self.rounds = Counter("newswatch_rounds", "Polling rounds completed", registry=r)
        self.last_round = Gauge("newswatch_last_round_timestamp_seconds",
                                "Unix time the last polling round completed", registry=r)
        self.fetch_to_alert = Histogram(
            "newswatch_fetch_to_alert_seconds", "From fetching an article's page or entry to "
            "announcing the alert it led to", registry=r,
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600))

    def failed(self, failures: Iterable[Failure]) -> None:
        for failure in failures:
            self.fetch_errors.labels(kind=error_kind(failure), step=failure.step).inc()

    def round_done(self, raw: Sequence[RawDocument], articles: int, duplicates: int, events: int,
                   new_alerts: Sequence[Alert], now: datetime) -> None:
        """Counts of one round's pipeline run, and each new alert's latency from its
        earliest fetch."""
        self.articles.inc(articles)
        self.duplicates.inc(duplicates)
        self.events.inc(events)
        self.alerts.inc(len(new_alerts))
        fetched = {d.doc_id: d.fetched_at for d in raw if d.fetched_at is not None}
        for alert in new_alerts:
            times = [fetched[i] for i in alert.doc_ids if i in fetched]
            if times:
                self.fetch_to_alert.observe(max(0.0, (now - min(times)).total_seconds()))
