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


def cmd_run(args: argparse.Namespace, beam_args: Sequence[str]) -> int:
    from connectors.service import Service, load_config
    config = load_config(args.config)
    return Service(config, beam_args).run(once=args.once)


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

    rules = sub.add_parser("rules", help="alert rules")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    check = rules_sub.add_parser("check", help="validate a rule file or folder")
    check.add_argument("dir", type=Path)
    check.set_defaults(func=cmd_rules_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, beam_args = parser.parse_known_args(argv)
    unknown = [a for a in beam_args if not a.startswith("--")]
    if unknown or (beam_args and args.command != "process" and args.command != "run"):
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
