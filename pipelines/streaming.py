"""The streaming job: Kafka in, Elasticsearch (and Kafka) out, ``AnalyzeNews`` between.

    newswatch stream --config newswatch.yaml --runner=PrismRunner --prism_location=… --streaming
    newswatch stream --max-records 5          # bounded: read 5 records, write, commit, stop

Topology::

    KafkaSource ─▶ Parse ─▶ AnalyzeNews(rules, Sessions(gap)) ─┬▶ articles ─▶ Elasticsearch ─┐
       │                 └─ bad JSON ─┐                      ├▶ events ───▶ Elasticsearch ─┤
       │                              ├─ failures ───────────┼▶ dead-letter topic ─────────┤
       │                              │                      └▶ alerts ──▶ alerts topic, Elasticsearch
       └─ next offsets ───────────────┴──────────────────────────────────────────────────▶ CommitOffsets
                                                                            (per window, after every write)

Windows: session windows with a gap of ``--gap-seconds`` (default 5 s) and
the default trigger. The service publishes each polling round as a burst, so
a round's articles form one session: wire copies of one story are compared
with each other and reports of one event are clustered together, and each
window fires once, ``gap`` after its last record, which is what lets the
commit step know that a window is complete.

Offsets: the commit step sees a window only when the watermark has passed it
downstream of every writer, i.e. when Elasticsearch and Kafka have
acknowledged everything derived from that window's records; then it commits
their next offsets. A crash re-reads from the last committed window; the
writers' deterministic ids make the repeat harmless (at-least-once delivery,
idempotent writes).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
from apache_beam.io.unbounded_source import ReadFromUnboundedSource
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.runner import PipelineResult
from apache_beam.transforms.window import Sessions, TimestampedValue
from apache_beam.utils.timestamp import Timestamp
from pydantic import ValidationError

from connectors.elasticsearch import EsSettings, connect
from connectors.elasticsearch_sink import WriteToElasticsearch
from connectors.kafka import KafkaRecord, KafkaSettings, ensure_topics
from connectors.kafka_sinks import CommitOffsets, PublishFailures, next_offset
from connectors.kafka_source import KafkaSource
from pipelines.rules import Rule, default_rules, load_rule_dir
from pipelines.transforms import AnalyzeNews
from schemas import Failure, RawDocument

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


def _offset_after_writes(record: KafkaRecord, delay: float,
                         timestamp: Timestamp = beam.DoFn.TimestampParam) -> TimestampedValue:
    return TimestampedValue(next_offset(record), timestamp + delay)


@dataclass(frozen=True)
class StreamSettings:
    kafka: KafkaSettings
    elasticsearch: EsSettings
    rules: tuple[Rule, ...]
    gap_seconds: float = 5.0
    max_records: int | None = None


class StreamNews(beam.PTransform):
    """Kafka records → analysis → Elasticsearch, alerts and dead-letter topics, offset commits.

    Outputs one summary dict per completed window (counts of what was read and written).
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
        out = parsed.raw | "Analyze" >> AnalyzeNews(s.rules, window)
        articles = out["articles"] | "WriteArticles" >> WriteToElasticsearch(s.elasticsearch, "articles")
        events = out["events"] | "WriteEvents" >> WriteToElasticsearch(s.elasticsearch, "events")
        alerts = out["alerts"] | "WriteAlerts" >> WriteToElasticsearch(s.elasticsearch, "alerts", kafka=s.kafka)
        dead = ((parsed.failures, out["failures"], articles.failures, events.failures, alerts.failures)
                | "AllFailures" >> beam.Flatten()
                | "DeadLetter" >> PublishFailures(s.kafka))
        # Offsets are stamped three gaps later than their records, i.e. after
        # everything derived from them (Dedup outputs at most one gap later,
        # ClusterEvents two), so they close the same commit window as their
        # writes' markers. See docs/decisions.md: Prism lets the watermark run
        # ahead of a GroupByKey's outputs, and the margin covers that.
        offsets = records | "NextOffsets" >> beam.Map(
            _offset_after_writes, 3 * s.gap_seconds)
        return ((offsets, articles.written, events.written, alerts.written, dead)
                | "WindowDone" >> beam.Flatten()
                | "CommitWindow" >> beam.WindowInto(window)
                | "OneKey" >> beam.WithKeys("commit")
                | "GatherWindow" >> beam.GroupByKey()
                | "CommitOffsets" >> beam.ParDo(CommitOffsets(s.kafka)))


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
    p.add_argument("--gap-seconds", type=float, default=5.0,
                   help="session gap: a window closes this long after its last record")
    p.add_argument("--max-records", type=int, help="bounded mode: stop after this many records")
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
                          gap_seconds=args.gap_seconds, max_records=args.max_records)


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
    source = KafkaSource(settings.kafka, max_records=settings.max_records)
    records = p | "ReadKafka" >> ReadFromUnboundedSource(
        source, poll_interval=0.2, max_records_per_bundle=500, max_read_time_seconds=1.0)
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
