"""``newswatch feeds import|export|status``: the service's feed list as OPML,
and what the scheduler knows of each feed.

The list is the config file's ``feeds`` plus the feeds imported into the store
(``imported_feeds`` table); import never edits the config file, so its
comments and layout stay the operator's. A running service picks imported
feeds up at its next round.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from connectors.feeds import FeedError, parse_opml, write_opml
from connectors.service_ops import feed_list
from connectors.store import Store

if TYPE_CHECKING:
    from connectors.service import ServiceConfig


def import_opml(path: Path, store: Store, out: TextIO, err: TextIO) -> int:
    try:
        refs = parse_opml(path.read_bytes())
    except OSError as exc:
        print(f"error: {path}: cannot read: {exc.strerror or exc}", file=err)
        return 2
    except FeedError as exc:
        print(f"error: {path}: {exc.reason}", file=err)
        return 2
    good, bad = [], 0
    for ref in refs:
        if urlsplit(ref.url).scheme.lower() in ("http", "https"):
            good.append((ref.url, ref.title))
        else:
            bad += 1
            print(f"error: {path}: {ref.url}: not an http(s) URL", file=err)
    added = store.import_feeds(good, datetime.now(UTC).isoformat())
    print(f"imported {added} new feed(s) of {len(refs)} listed; {len(good) - added} already "
          f"imported, {bad} refused", file=out)
    return 1 if bad else 0


def export_opml(config: ServiceConfig, store: Store, path: Path | None, out: TextIO) -> int:
    data = write_opml(feed_list(config, store))
    if path is None:
        out.write(data.decode("utf-8"))
    else:
        path.write_bytes(data)
    return 0


def print_status(config: ServiceConfig, store: Store, out: TextIO) -> int:
    failing = 0
    for ref in feed_list(config, store):
        schedule, state = store.schedule(ref.url), store.feed_state(ref.url)
        if schedule is None:
            print(f"new      {ref.url}  (not polled yet)", file=out)
            continue
        failing += schedule.failing
        flag = "FAILING" if schedule.failing else "ok"
        when = schedule.next_poll.isoformat(timespec="seconds") if schedule.next_poll else "now"
        line = f"{flag:8} {ref.url}  next={when} every={schedule.interval:.0f}s"
        if schedule.failures:
            line += f" failures={schedule.failures} last_error={state.last_error!r}"
        print(line, file=out)
    return 1 if failing else 0
