"""The streaming job: Kafka in, Elasticsearch (and Kafka) out, ``AnalyzeNews`` between.

    newswatch stream --config newswatch.yaml --runner=PrismRunner --prism_location=… --streaming
    newswatch stream --max-records 5          # bounded: read 5 records, write, commit, stop

Topology::

    KafkaSource ─▶ Parse ─▶ AnalyzeNews(rules, Sessions(gap)) ─┬▶ articles ─▶ Elasticsearch ─┐
       │                 └─ bad JSON ─┐                      ├▶ events ───▶ Elasticsearch ─┤
       │                              ├─ failures ───────────┼▶ dead-letter topic ─────────┤
       │                              │                      └▶ alerts ──▶ alerts topic, Elasticsearch
       └─ reads (offset, names) ──────┴─ what each window produced ─ acks of every writer ─▶ CommitOffsets
                                                                    (a record once all derived from it is acked)

Windows: session windows with a gap of ``--gap-seconds`` (default 2 s) and
the default trigger. The service publishes each polling round as a burst, so
a round's articles form one session: wire copies of one story are compared
with each other and reports of one event are clustered together. ClusterEvents
gets a 1 ms session (its input is one Deduplicate firing, all at one timestamp),
so alerts come one gap after a burst, not two.

Offsets (docs/decisions.md): the commit step is fed every record read (offset
and the names its results carry), one list per window of everything the
analysis produced from it, and the acknowledgements of every writer; it
commits a partition up to the first record not yet fully acknowledged. A crash
re-reads from there; the writers' deterministic ids make the repeat harmless
(at-least-once delivery, idempotent writes).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam.io.unbounded_source import ReadFromUnboundedSource
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.runner import PipelineResult
from apache_beam.transforms.window import GlobalWindows, Sessions
from pydantic import ValidationError

from connectors.elasticsearch import EsSettings, connect
from connectors.elasticsearch_sink import WriteToElasticsearch
from connectors.kafka import KafkaRecord, KafkaSettings, ensure_topics
from connectors.kafka_sinks import EXPECT, READ, CommitOffsets, PublishFailures
from connectors.kafka_source import KafkaSource
from connectors.outage import DEFAULT_PATIENCE
from pipelines.rules import Rule, default_rules, load_rule_dir
from pipelines.transforms import AnalyzeNews
from schemas import Alert, Article, Event, Failure, RawDocument, es_templates

log = logging.getLogger(__name__)

PARSE_STEP = "parse-kafka-record"


def parse_record(record: KafkaRecord) -> RawDocument | Failure:
    """A record's value as a RawDocument, or a Failure naming the record and the reason."""
    try:
        return RawDocument.model_validate_json(record.value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "<value>"
        return Failure(input=record.name, step=PARSE_STEP, reason=f"{where}: {first['msg']}")


def _split_parsed(item: RawDocument | Failure):  # type: ignore[no-untyped-def]
    if isinstance(item, Failure):
        yield beam.pvalue.TaggedOutput("failures", item)
    else:
        yield item


def _read_fact(record: KafkaRecord) -> tuple[str, str, int, int, tuple[str, ...]]:
    """The record's position and the names its results will carry: the
    RawDocument's ``doc_id`` (in the ``doc_ids`` of articles, events, alerts)
    and ``origin`` (a Normalize failure's input), else the record's own name."""
    parsed = parse_record(record)
    names = (record.name,) if isinstance(parsed, Failure) else (record.name, parsed.doc_id, parsed.origin)
    return (READ, record.topic, record.partition, record.offset, names)


def expectations(element: Article | Event | Alert | Failure) -> list[tuple[str, str, str]]:
    """(name, kind, id): what must be acknowledged before the records named are done."""
    if isinstance(element, Failure):
        return [(n, "dead-letter", element.input) for n in set(element.input.split(","))]
    kind = "articles" if isinstance(element, Article) else "events" if isinstance(element, Event) else "alerts"
    return [(d, kind, es_templates.document_id(element)) for d in element.doc_ids]


def _expect_fact(keyed: tuple[str, Iterable[Any]]) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    return (EXPECT, tuple(e for element in keyed[1] for e in expectations(element)))


# ClusterEvents' input is one Deduplicate firing, stamped at the end of its
# window: a 1 ms session closes as soon as it has it (not a gap later).
CLUSTER_WINDOW = Sessions(0.001)


@dataclass(frozen=True)
class StreamSettings:
    kafka: KafkaSettings
    elasticsearch: EsSettings
    rules: tuple[Rule, ...]
    gap_seconds: float = 2.0
    max_records: int | None = None
    patience: float = DEFAULT_PATIENCE  # how long writers and commits wait out a server outage


class StreamNews(beam.PTransform):
    """Kafka records → analysis → Elasticsearch, alerts and dead-letter topics, offset commits.

    Outputs each commit it makes (``{"topic/partition": next offset}``).
    """

    def __init__(self, settings: StreamSettings) -> None:
        super().__init__()
        self.settings = settings

    def expand(self, records: beam.PCollection) -> beam.PCollection:
        s = self.settings
        window = Sessions(s.gap_seconds)
        # Every branch in the same windows from the start: Flatten needs one windowing.
        records = records | "Window" >> beam.WindowInto(window)
        parsed = records | "Parse" >> beam.Map(parse_record) | "SplitParsed" >> beam.FlatMap(
            _split_parsed).with_outputs("failures", main="raw")
        # Tagging first: each article is tagged as it is read, while its session is
        # still open, instead of all of them after the session closes.
        out = parsed.raw | "Analyze" >> AnalyzeNews(s.rules, window, cluster_window=CLUSTER_WINDOW, tag_first=True)
        # A fusion break before the article and event writers (a Reshuffle is only
        # that on Prism): otherwise they run in the bundles that produce the alerts'
        # inputs, which are handed on only when those bundles end, so every alert
        # waited for both bulk writes. Apart, they run beside the alert path.
        articles = (out["articles"] | "ArticlesApart" >> beam.Reshuffle()
                    | "WriteArticles" >> WriteToElasticsearch(s.elasticsearch, "articles", patience=s.patience))
        events = (out["events"] | "EventsApart" >> beam.Reshuffle()
                  | "WriteEvents" >> WriteToElasticsearch(s.elasticsearch, "events", patience=s.patience))
        # Two alert writers, so that the events' alerts are written in the bundle
        # that clustered the events: a Flatten first would be one more stage.
        alerts = out["event_alerts"] | "WriteAlerts" >> WriteToElasticsearch(
            s.elasticsearch, "alerts", kafka=s.kafka, patience=s.patience)
        article_alerts = out["article_alerts"] | "WriteArticleAlerts" >> WriteToElasticsearch(
            s.elasticsearch, "alerts", kafka=s.kafka, patience=s.patience)
        dead = (_global("Failures", parsed.failures, out["failures"], articles.failures, events.failures,
                        alerts.failures, article_alerts.failures)
                | "DeadLetter" >> PublishFailures(s.kafka, s.patience))
        # What each window's analysis produced, gathered in one element: the
        # commit step then knows, for every record, all it must see acknowledged.
        expected = (_rewindow("Produced", window, parsed.failures, out["articles"], out["events"],
                              out["alerts"], out["failures"])
                    | "ProducedKey" >> beam.WithKeys("window")
                    | "GatherProduced" >> beam.GroupByKey()
                    | "Expectations" >> beam.Map(_expect_fact))
        reads = records | "Reads" >> beam.Map(_read_fact)
        return (_global("Facts", reads, expected, articles.written, events.written, alerts.written,
                        article_alerts.written, dead)
                | "CommitOffsets" >> beam.ParDo(CommitOffsets(s.kafka, s.patience)))


def _rewindow(label: str, window: Any, *pcolls: beam.PCollection) -> beam.PCollection:
    """The collections in one windowing (Flatten requires it), flattened."""
    return (tuple(pc | f"{label}{i}" >> beam.WindowInto(window) for i, pc in enumerate(pcolls))
            | f"{label}All" >> beam.Flatten())


def _global(label: str, *pcolls: beam.PCollection) -> beam.PCollection:
    return _rewindow(label, GlobalWindows(), *pcolls)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newswatch stream", description=(
        "The streaming job: read RawDocuments from Kafka, analyse them, write Elasticsearch. "
        "Other --flags are Beam pipeline options (--runner=PrismRunner --streaming …)."))
    p.add_argument("--config", type=Path, help="YAML config with kafka: and elasticsearch: sections")
    p.add_argument("--bootstrap-servers", help="Kafka brokers, host:port[,…] (default 127.0.0.1:9092)")
    p.add_argument("--articles-topic")
    p.add_argument("--alerts-topic")
    p.add_argument("--dead-letter-topic")
    p.add_argument("--group-id", help="consumer group whose offsets the job commits")
    p.add_argument("--es-url", action="append", help="Elasticsearch URL (repeat for several nodes)")
    p.add_argument("--es-prefix", help="index, alias and template name prefix (default newswatch)")
    p.add_argument("--rules", type=Path, help="rule file or folder (default: the shipped rule pack)")
    p.add_argument("--gap-seconds", type=float, default=2.0,
                   help="session gap: a window closes this long after its last record")
    p.add_argument("--max-records", type=int, help="bounded mode: stop after this many records")
    p.add_argument("--max-outage-seconds", type=float, default=DEFAULT_PATIENCE,
                   help="how long to wait for Kafka or Elasticsearch to come back before the job fails "
                        "(default %(default).0f)")
    return p


def settings_from(args: argparse.Namespace) -> StreamSettings:
    from connectors.service import load_config
    config = load_config(args.config)
    kafka = config.kafka or KafkaSettings()
    flags = {"bootstrap_servers": args.bootstrap_servers, "articles_topic": args.articles_topic,
             "alerts_topic": args.alerts_topic, "dead_letter_topic": args.dead_letter_topic,
             "group_id": args.group_id}
    kafka = kafka.model_copy(update={k: v for k, v in flags.items() if v})
    es = (config.elasticsearch or EsSettings()).with_env()
    es_flags = {"urls": tuple(args.es_url) if args.es_url else None, "prefix": args.es_prefix}
    es = EsSettings.model_validate({**es.model_dump(), **{k: v for k, v in es_flags.items() if v}})
    rules_path = args.rules or config.rules
    rules = load_rule_dir(rules_path) if rules_path else default_rules()
    return StreamSettings(kafka=kafka, elasticsearch=es, rules=tuple(rules),
                          gap_seconds=args.gap_seconds, max_records=args.max_records,
                          patience=args.max_outage_seconds)


JOB_STREAM_SECONDS = 10 * 365 * 24 * 3600  # an always-on job: ten years


def runner_args(beam_args: Sequence[str], bounded: bool) -> list[str]:
    """Beam options with a runner: DirectRunner for a bounded run, else Prism,
    the locally built binary (``deploy/local/prism.sh``) unless one is named."""
    args = list(beam_args)
    if not any(a.startswith("--runner") for a in args):
        args.append("--runner=DirectRunner" if bounded else "--runner=PrismRunner")
    prism = any(a.replace("=", " ").split()[-1] in ("PrismRunner", "prism") for a in args
                if a.startswith("--runner"))
    if prism and not any(a.startswith("--prism_location") for a in args):
        args.append(f"--prism_location={prism_location()}")
    if not bounded and not any(a.startswith(("--job_server_timeout", "--job-server-timeout")) for a in args):
        # Beam opens the job's state and message streams with this as their gRPC
        # deadline (default 300 s): at 5 minutes the driver's wait ends with
        # DEADLINE_EXCEEDED and takes the portable job (Prism) down with it.
        args.append(f"--job_server_timeout={JOB_STREAM_SECONDS}")
    return args


def prism_location() -> str:
    """$NEWSWATCH_PRISM, else the binary ``deploy/local/prism.sh`` builds (it builds it if needed)."""
    import os
    import subprocess

    if os.environ.get("NEWSWATCH_PRISM"):
        return os.environ["NEWSWATCH_PRISM"]
    script = Path(__file__).resolve().parents[1] / "deploy" / "local" / "prism.sh"
    if not script.exists():
        raise FileNotFoundError(f"{script}: missing; set NEWSWATCH_PRISM to a prism binary")
    done = subprocess.run([str(script)], check=True, capture_output=True, text=True)
    return done.stdout.strip().splitlines()[-1]


def build(p: beam.Pipeline, settings: StreamSettings) -> beam.PCollection:
    source = KafkaSource(settings.kafka, max_records=settings.max_records, patience=settings.patience)
    records = p | "ReadKafka" >> ReadFromUnboundedSource(
        # Short bundles: a record is processed only once its read bundle ends.
        source, poll_interval=0.05, max_records_per_bundle=500, max_read_time_seconds=0.25)
    return records | "Stream" >> StreamNews(settings)


def run(argv: Sequence[str] | None = None, wait: bool = True) -> PipelineResult:
    """Start the job; with ``wait`` block until it ends (bounded mode) or is cancelled."""
    args, beam_args = parser().parse_known_args(argv)
    settings = settings_from(args)
    # Fail at start-up, with one clear line, rather than in a worker.
    connect(settings.elasticsearch)
    ensure_topics(settings.kafka)
    options = PipelineOptions(runner_args(beam_args, bounded=settings.max_records is not None))
    if settings.max_records is None:
        options.view_as(StandardOptions).streaming = True
    p = beam.Pipeline(options=options)
    build(p, settings)
    result = p.run()
    log.info("streaming job started (%s)", options.view_as(StandardOptions).runner or "DirectRunner")
    if wait:
        result.wait_until_finish()
    return result


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run()
