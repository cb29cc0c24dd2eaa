"""The ``newswatch`` command line: batch runs, the always-on service, search.

Each sub-command parses its flags, calls into connectors and pipelines, and
prints. Errors in the input are reported one line each on stderr and counted
in the closing summary; the exit status is 1 when anything failed.

Heavy modules (Apache Beam takes about 1.5 s to import) are imported inside
the sub-commands that need them, so ``--help`` and ``search`` answer at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

def parse_since(text: str) -> date:
    """'2017-08-01', or a span back from today: '7d', '12h', '2w'."""
    match = re.fullmatch(r"(\d+)([hdw])", text.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        span = {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}
        return (datetime.now(UTC) - span[unit]).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--since {text!r}: expected YYYY-MM-DD or a span like 7d") from None


def _store_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None,
                        help="SQLite store (default: $NEWSWATCH_DB or ~/.local/share/newswatch/newswatch.db)")


def _rules(path: Path | None) -> list:
    from pipelines.rules import default_rules, load_rule_dir
    return load_rule_dir(path) if path else default_rules()


def cmd_process(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from connectors.http import Fetcher, FetchSettings
    from connectors.sources import read_inputs
    from connectors.console import print_alert
    from connectors.store import Store, default_db
    from pipelines import embedded
    from schemas import Failure, RawDocument

    rules = _rules(args.rules)
    raw: list[RawDocument] = []
    failed: list[Failure] = []
    from tqdm import tqdm

    with Fetcher(FetchSettings(allowed_networks=tuple(args.allow_network))) as fetcher:
        for item in tqdm(read_inputs(args.inputs, fetcher), desc="reading", unit="doc",
                         disable=None, file=sys.stderr):
            (failed if isinstance(item, Failure) else raw).append(item)
    store_path = None if args.no_store else (args.db or default_db())
    result = embedded.run(raw, failed, rules, args.out, store_path, beam_args)
    if store_path is not None:
        Store(store_path).put_alerts(result.alerts)
    for failure in result.failures:
        print(f"error: {failure.line()}", file=sys.stderr)
    for alert in result.alerts:
        print_alert(alert, sys.stdout)
    read = len(raw) + len(failed)
    print(f"summary: read={read} duplicates={result.duplicates} failed={len(result.failures)} "
          f"articles={result.articles} events={result.events} alerts={len(result.alerts)} "
          f"out={args.out}")
    return 1 if result.failures else 0


def cmd_search(args: argparse.Namespace, _beam_args: Sequence[str]) -> int:
    from connectors.store import Store, default_db
    hits = Store(args.db or default_db()).search(args.query, args.limit)
    for hit in hits:
        article = hit.article
        when = article.published.date().isoformat() if article.published else "undated"
        print(f"{hit.score:6.2f}  {when}  {article.title}  [{', '.join(article.doc_ids)}]")
        print(f"        {hit.snippet}")
    print(f"{len(hits)} article(s)")
    return 0


def cmd_events(args: argparse.Namespace, _beam_args: Sequence[str]) -> int:
    from connectors.store import Store, default_db
    events = Store(args.db or default_db()).events(args.type, args.since, args.limit)
    for e in events:
        actors = " vs ".join(a for a in (e.actor1, e.actor2) if a) or "-"
        print(f"{e.event_date or 'undated':10}  {e.sub_event_type:38}  {e.location or '-'}"
              f" ({e.admin1 or '-'}, {e.country or '-'})  {actors}  [{e.modality}; "
              f"{e.independent_sources} source(s)]")
    print(f"{len(events)} event(s)")
    return 0


def cmd_rules_check(args: argparse.Namespace, _beam_args: Sequence[str]) -> int:
    rules = _rules(args.dir)
    for rule in rules:
        print(f"ok  {rule.id}: {rule.description}")
    print(f"{len(rules)} rule(s) valid")
    return 0


def cmd_eval(args: argparse.Namespace, _beam_args: Sequence[str]) -> int:
    """Per-article scores of the entity and event layer against a gold file; no Beam,
    no dedup, no store: each article alone, as the gold labels it."""
    from connectors.sources import read_inputs
    from pipelines.entities import tag_entities
    from pipelines.evaluate import Prediction, parse_gold, score
    from pipelines.events import extract_events
    from pipelines.normalize import NormalizeError, normalize
    from pipelines.rules import match_event
    from schemas import Failure

    missing = [i for i in args.inputs if "://" not in i and not Path(i).exists()]
    if missing:
        # The devset texts are third-party pages kept out of the repository.
        print(f"error: {missing[0]}: no such file; rebuild the article texts from the URLs in the gold file "
              f"(see tests/fixtures/devset/README.md)", file=sys.stderr)
        return 2
    gold = parse_gold(args.gold.read_text(encoding="utf-8").splitlines(), str(args.gold))
    if args.split:
        gold = [g for g in gold if g.split == args.split]
    rules = [r for r in _rules(args.rules) if r.id == args.rule]
    predictions: dict[str, Prediction] = {}
    read: set[str] = set()
    for item in read_inputs(args.inputs):
        if isinstance(item, Failure):
            print(f"error: {item.line()}", file=sys.stderr)
            continue
        read.add(item.doc_id)
        try:
            article = normalize(item)
        except NormalizeError as exc:
            print(f"error: {item.origin}: {item.doc_id}: normalize: {exc}", file=sys.stderr)
            continue
        article = article.model_copy(update={"entities": tag_entities(article)})
        events = extract_events(article)
        predictions[item.doc_id] = Prediction(tuple(events), any(match_event(rules, e) for e in events))
    for line in score(gold, predictions, read=read).lines():
        print(line)
    return 0


def cmd_agreement(args: argparse.Namespace, _beam_args: Sequence[str]) -> int:
    """Inter-annotator agreement of two gold files: is the gold itself reliable?"""
    from pipelines.evaluate import agreement, parse_gold

    try:
        first, second = (parse_gold(p.read_text(encoding="utf-8").splitlines(), str(p))
                         for p in (args.first, args.second))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in agreement(first, second):
        print(line)
    return 0


def cmd_rules_test(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    """Backtest: run the pipeline over INPUTs with the rules; show what would alert and why."""
    import tempfile

    from connectors.http import Fetcher, FetchSettings
    from connectors.sources import read_inputs
    from pipelines import embedded
    from schemas import Failure, RawDocument

    rules = _rules(args.dir)
    raw: list[RawDocument] = []
    failed: list[Failure] = []
    with Fetcher(FetchSettings(allowed_networks=tuple(args.allow_network))) as fetcher:
        for item in read_inputs(args.inputs, fetcher):
            (failed if isinstance(item, Failure) else raw).append(item)
    with tempfile.TemporaryDirectory(prefix="newswatch-rules-test-") as out:
        result = embedded.run(raw, failed, rules, Path(out), None, beam_args)
    for failure in result.failures:
        print(f"error: {failure.line()}", file=sys.stderr)
    for alert in sorted(result.alerts, key=lambda a: (a.rule_id, a.title)):
        what = f"event {alert.cluster_id}" if alert.event else f"article {alert.article_id}"
        print(f"ALERT {alert.rule_id} [{alert.severity}] {alert.title}")
        print(f"    {what}; docs: {', '.join(alert.doc_ids)}")
        print(f"    sources: {', '.join(sorted({s.name or s.doc_id for s in alert.sources}))}")
        print(f"    why: {'; '.join(alert.reasons)}")
    counts = {r.id: sum(a.rule_id == r.id for a in result.alerts) for r in rules}
    print("summary: " + " ".join(f"{rid}={n}" for rid, n in counts.items())
          + f" events={result.events} articles={result.articles} failed={len(result.failures)}")
    return 1 if result.failures else 0


def cmd_rules_backfill(args: argparse.Namespace, _beam_args: Sequence[str]) -> int:
    """Run one rule as an Elasticsearch query over stored events (or articles)."""
    import json

    from elasticsearch import Elasticsearch
    from elasticsearch.helpers import scan

    from pipelines.rules import RuleError, backfill_query, match_article, match_event
    from schemas import Article, Event

    rules = {r.id: r for r in _rules(args.rules)}
    if args.rule not in rules:
        raise RuleError(f"rule {args.rule}: not found (rules: {', '.join(rules)})")
    rule = rules[args.rule]
    query = backfill_query(rule, args.since)
    if args.show_query:
        print(json.dumps({"query": query}, indent=2))
        return 0
    record = Article if rule.kind == "article" else Event
    index = args.index or f"newswatch-{rule.kind}s"
    client = Elasticsearch(args.es)
    found = 0
    for hit in scan(client, index=index, query={"query": query}):
        doc = {k: v for k, v in hit["_source"].items() if k in record.model_fields}
        item = record.model_validate(doc)
        alerts = (match_article([rule], item) if isinstance(item, Article)
                  else match_event([rule], item))
        for alert in alerts:
            found += 1
            print(f"ALERT {alert.rule_id} [{alert.severity}] {alert.title}")
            print(f"    why: {'; '.join(alert.reasons)}")
    print(f"summary: rule={rule.id} index={index} since={args.since} alerts={found}")
    return 0


def cmd_notify(args: argparse.Namespace, _beam_args: Sequence[str]) -> int:
    """Send alerts from the outbox to email and Slack until stopped; with a
    ``kafka:`` section, also take the streaming job's alerts from Kafka."""
    import signal
    import threading

    from connectors.logs import quiet_clients
    from connectors.service import ConfigError, load_config, notifier_for
    from connectors.store import Store, default_db

    quiet_clients(args.verbose)
    config = load_config(args.config)
    if config.notify is None or not config.notify.channels:
        raise ConfigError(f"{args.config}: notify: no channels configured")
    rules = _rules(config.rules)
    notifier = notifier_for(config, Store(config.store or default_db()), rules)
    if args.once:
        with notifier.outbox.exclusive():
            sent = notifier.drain()
        print(f"sent={sent} " + " ".join(f"{k}={v}" for k, v in notifier.outbox.counts().items()))
        return 0
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    if config.kafka is not None:
        # Streaming mode: the job's alerts arrive on Kafka, not from a local round.
        from connectors.notify.alert_topic import pump
        threading.Thread(target=pump, args=(config.kafka, notifier, rules, stopping),
                         name="alert-topic", daemon=True).start()
    notifier.run(stopping)
    return 0


def cmd_stream(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    """The streaming job (pipelines.streaming); SIGTERM and Ctrl-C cancel it."""
    import signal

    from connectors.elasticsearch import EsUnavailable
    from connectors.kafka import KafkaUnavailable
    from connectors.logs import quiet_clients
    from pipelines import streaming

    logging.getLogger().setLevel(logging.DEBUG if args.verbose else logging.INFO)
    quiet_clients(args.verbose)
    try:
        result = streaming.run(beam_args, wait=False)
    except (EsUnavailable, KafkaUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cancelled = []

    def cancel(*_: object) -> None:
        cancelled.append(True)
        result.cancel()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, cancel)
    try:
        state = result.wait_until_finish()
    except RuntimeError:
        if not cancelled:
            raise
        state = "CANCELLED"  # the portable runner raises when a job it was asked to cancel ends
    print(f"stream: {state}")
    return 0 if state in ("DONE", "CANCELLED") else 1


def cmd_run(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from connectors.logs import configure_logging, quiet_clients
    from connectors.service import Service, load_config
    config = load_config(args.config)
    configure_logging(config.log_format, logging.DEBUG if args.verbose else logging.INFO)
    quiet_clients(args.verbose)
    return Service(config, beam_args).run(once=args.once)


def cmd_feeds(args: argparse.Namespace, _beam_args: Sequence[str]) -> int:
    """The service's feed list: OPML import and export, and each feed's schedule."""
    from connectors import feedlist
    from connectors.service import load_config
    from connectors.store import Store, default_db
    config = load_config(args.config)
    store = Store(config.store or default_db())
    if args.feeds_command == "import":
        return feedlist.import_opml(args.file, store, sys.stdout, sys.stderr)
    if args.feeds_command == "export":
        return feedlist.export_opml(config, store, args.out, sys.stdout)
    return feedlist.print_status(config, store, sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newswatch", description="Watch news sources for conflict events.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    process = sub.add_parser("process", help="analyse files, folders, feeds or URLs once",
                             description="Analyse inputs once; write DIR/{articles,events,alerts,failures}.jsonl. "
                             "Extra --flags are passed to Beam as pipeline options.")
    process.add_argument("inputs", nargs="+", help="files, folders, feed files, OPML lists or http(s) URLs")
    process.add_argument("--out", type=Path, required=True, help="output folder")
    process.add_argument("--rules", type=Path, help="rule file or folder (default: the shipped rule pack)")
    process.add_argument("--no-store", action="store_true", help="do not write the SQLite store")
    process.add_argument("--allow-network", action="append", default=[], metavar="CIDR",
                         help="let URLs reach this private network (refused by default), e.g. 10.1.0.0/16")
    _store_arg(process)
    process.set_defaults(func=cmd_process)

    run = sub.add_parser("run", help="the always-on service: poll feeds and process new articles",
                         description="Poll the configured feeds on a schedule until stopped (Ctrl-C, SIGTERM).")
    run.add_argument("--config", type=Path, help="YAML config file (see deploy/examples/newswatch.yaml)")
    run.add_argument("--once", action="store_true", help="one polling round, then exit")
    run.set_defaults(func=cmd_run)

    stream = sub.add_parser("stream", help="the streaming job: Kafka in, Elasticsearch out",
                            add_help=False, description="See: newswatch stream --help")
    stream.set_defaults(func=cmd_stream)

    search = sub.add_parser("search", help="full-text search of stored articles",
                            description="Search stored articles (SQLite FTS5 query syntax).")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=20)
    _store_arg(search)
    search.set_defaults(func=cmd_search)

    events = sub.add_parser("events", help="list stored events")
    events.add_argument("--type", help="event type or sub-type, e.g. 'Battles' or 'regains territory'")
    events.add_argument("--since", type=parse_since, help="YYYY-MM-DD or a span such as 7d")
    events.add_argument("--limit", type=int, default=100)
    _store_arg(events)
    events.set_defaults(func=cmd_events)

    evaluate = sub.add_parser("eval", help="score town-capture alerts, places, types and actors against gold labels",
                              description="Precision, recall and F1 per article against a gold JSONL file "
                              "(format of tests/fixtures/seeds.gold.jsonl), then every error.")
    evaluate.add_argument("gold", type=Path, help="gold JSONL file")
    evaluate.add_argument("inputs", nargs="+", help="the articles: files or folders, as for process")
    evaluate.add_argument("--split", help="score only gold records of this split (dev, heldout)")
    evaluate.add_argument("--rules", type=Path, help="rule file or folder (default: the shipped rule pack)")
    evaluate.add_argument("--rule", default="town-captured", help="the alert rule scored (default: town-captured)")
    evaluate.set_defaults(func=cmd_eval)
    agree = sub.add_parser("agreement", help="how far two gold files of the same articles agree (two annotators)")
    agree.add_argument("first", type=Path, help="gold JSONL file")
    agree.add_argument("second", type=Path, help="another annotator's gold JSONL file for the same articles")
    agree.set_defaults(func=cmd_agreement)

    feeds = sub.add_parser("feeds", help="the service's feed list: OPML import/export, status")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    feeds_import = feeds_sub.add_parser("import", help="add the feeds of an OPML file to the list")
    feeds_import.add_argument("file", type=Path)
    feeds_export = feeds_sub.add_parser("export", help="write the feed list as OPML")
    feeds_export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    feeds_status = feeds_sub.add_parser("status", help="each feed's schedule, failures and last error")
    for command in (feeds_import, feeds_export, feeds_status):
        command.add_argument("--config", type=Path, help="YAML config file (its store holds the list)")
        command.set_defaults(func=cmd_feeds)

    rules = sub.add_parser("rules", help="alert rules")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_sub.add_parser("check", help="validate a rule file or folder")
    check.add_argument("dir", type=Path)
    check.set_defaults(func=cmd_rules_check)
    test = rules_sub.add_parser("test", help="backtest rules over inputs: what would alert, and why",
                                description="Run the pipeline over INPUTs with the rules in DIR; print "
                                "each alert with the conditions and query terms that matched.")
    test.add_argument("dir", type=Path, help="rule file or folder")
    test.add_argument("inputs", nargs="+", help="files, folders, feed files, OPML lists or URLs")
    test.add_argument("--allow-network", action="append", default=[], metavar="CIDR",
                      help="let URLs reach this private network")
    test.set_defaults(func=cmd_rules_test)
    backfill = rules_sub.add_parser("backfill", help="run a rule over Elasticsearch since a date",
                                    description="Run RULE as an Elasticsearch query over the stored "
                                    "events (articles, for article rules), each hit checked by the rule.")
    backfill.add_argument("rule", help="rule id")
    backfill.add_argument("--since", type=parse_since, required=True, help="YYYY-MM-DD or a span such as 7d")
    backfill.add_argument("--rules", type=Path, help="rule file or folder (default: the shipped rule pack)")
    backfill.add_argument("--es", default=os.environ.get("NEWSWATCH_ES_URLS", "http://127.0.0.1:9200").split(",")[0],
                          help="Elasticsearch URL (default: the first of $NEWSWATCH_ES_URLS, as the writer "
                          "uses, or http://127.0.0.1:9200)")
    backfill.add_argument("--index", help="index or pattern (default: newswatch-events / newswatch-articles)")
    backfill.add_argument("--show-query", action="store_true", help="print the query and exit")
    backfill.set_defaults(func=cmd_rules_backfill)

    notify = sub.add_parser("notify", help="send queued alerts by email and Slack",
                            description="Drain the alert outbox into the channels of the config's "
                            "notify: section until stopped (Ctrl-C, SIGTERM).")
    notify.add_argument("--config", type=Path, required=True, help="YAML config with a notify: section")
    notify.add_argument("--once", action="store_true", help="send what is due, then exit")
    notify.set_defaults(func=cmd_notify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, beam_args = parser.parse_known_args(argv)
    unknown = [a for a in beam_args if not a.startswith("--")]
    if args.command != "stream" and (  # the streaming job parses its own flags
            unknown or (beam_args and args.command != "process" and args.command != "run")):
        parser.error(f"unrecognized arguments: {' '.join(beam_args)}")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # Beam warns on import that Google Cloud clients are missing; they are not
    # used here, and the line would read like a fault to an operator.
    logging.getLogger().addFilter(lambda record: "apitools not found" not in record.getMessage())
    from connectors.service import ConfigError
    from connectors.store import StoreError
    from pipelines.rules import RuleError
    try:
        return args.func(args, beam_args)
    except (RuleError, StoreError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
