"""The benchmark corpus: real article texts as news pages and RSS feeds, served
from a local HTTP server (127.0.0.1 only), scaled up by serving many variants.

Texts: the real articles of the devset (71, in ``.cache/devset/articles.jsonl`` when present) and the five
seeds of ``tests/fixtures/seeds``, each wrapped in the realistic page of
``tests/connectors/pages.py`` (navigation, related links, footer around the article).

Variants: the first ``len(texts)`` articles of a corpus are the real articles as they
are. Every further article is a *remix*, so that near-duplicate detection does not
collapse a 100× corpus into 76 stories (which would make every later step look 100×
faster than it is): the headline of one real article over sentences drawn, with a fixed
seed, from the pool of all real sentences, as many as that article has. Two remixes
share few word 3-shingles, so each is its own story; ``copy_share`` of the remixes are
wire copies of the remix before them (one line added), which dedup should merge, as
it merges real wire copies.
"""

from __future__ import annotations

import functools
import html
import json
import random
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.connectors.pages import Seed, article_page, seeds
from tests.fixtures.http_server import LocalServer, respond

ROOT = Path(__file__).resolve().parent.parent
# The devset texts are third-party articles kept out of the repository (see
# tests/fixtures/devset/README.md); where they are missing the seeds alone are used.
DEVSET = ROOT / ".cache" / "devset" / "articles.jsonl"
# Ordinary (non-conflict) world news, also third-party and local only (same README).
WORLDNEWS = ROOT / ".cache" / "devset" / "worldnews.jsonl"
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
_SENTENCE = re.compile(r"(?<=[.!?\u201d\"])\s+(?=[A-Z\u201c\"])")


@dataclass(frozen=True)
class Text:
    key: str
    site: str
    published: datetime
    headline: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    path: str
    guid: str
    headline: str
    published: datetime
    body: bytes  # the HTML page


def real_texts() -> list[Text]:
    """The devset articles (if the file exists) and the seeds, in a fixed order."""
    texts = list(_read_texts(DEVSET))
    for seed in seeds():
        texts.append(Text(seed.doc_id, "Middle East Eye", datetime(2017, 8, 12, 10, tzinfo=UTC),
                          seed.headline, seed.paragraphs))
    return texts


def world_texts() -> list[Text]:
    """The world-news mix (real non-conflict articles), if its texts file exists."""
    return list(_read_texts(WORLDNEWS))


@functools.cache
def _read_texts(path: Path) -> tuple[Text, ...]:
    """The articles of a texts file (one JSON object a line: id, source, published, title,
    text); none when it is missing. Read once: every batch of pages draws on them."""
    if not path.exists():
        return ()
    texts: list[Text] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        paragraphs = tuple(p.strip() for p in row["text"].split("\n") if p.strip())
        headline = row["title"] or _sentences(paragraphs[0])[0][:120]
        published = datetime.fromisoformat(row["published"] or "2017-08-12").replace(tzinfo=UTC)
        texts.append(Text(row["id"], row["source"] or "Example News", published, headline, paragraphs))
    return tuple(texts)


def _sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE.split(paragraph) if s.strip()]


def variants(texts: Sequence[Text], count: int, copy_share: float = 0.2, seed: int = 11,
             start: int = 0, world: Sequence[Text] = (), conflict_share: float = 1.0) -> list[Text]:
    """Articles ``start`` … ``start + count - 1`` of the endless corpus over ``texts``; with
    ``world`` texts and a ``conflict_share`` below 1, each article is first drawn (fixed
    seed) to be a conflict one (over ``texts``) or an ordinary one (over ``world``), and a
    remix takes its sentences from its own kind only."""
    groups = (tuple(texts), tuple(world)) if world and conflict_share < 1 else (tuple(texts),)
    return [_article(groups, k, copy_share, seed, conflict_share) for k in range(start, start + count)]


@functools.cache
def _pool(texts: tuple[Text, ...]) -> tuple[str, ...]:
    return tuple(s for t in texts for p in t.paragraphs for s in _sentences(p))


def _article(groups: tuple[tuple[Text, ...], ...], k: int, copy_share: float, seed: int,
             conflict_share: float) -> Text:
    kind = 0 if len(groups) == 1 or random.Random(f"{seed}:kind:{k}").random() < conflict_share else 1
    texts = groups[kind]
    base = texts[k % len(texts)]
    if k < len(texts):
        return base
    rng = random.Random(f"{seed}:{k}")
    if k > len(texts) and rng.random() < copy_share:
        previous = _article(groups, k - 1, copy_share, seed, conflict_share)
        return Text(f"v{k}", f"Wire Outlet {k % 7}", previous.published, previous.headline,
                    previous.paragraphs + (f"Reporting by staff in bureau {k}.",))
    pool = _pool(texts)
    n = max(3, sum(len(_sentences(p)) for p in base.paragraphs))
    chosen = rng.sample(pool, min(n, len(pool)))
    paragraphs = tuple(" ".join(chosen[i:i + 3]) for i in range(0, len(chosen), 3))
    published = base.published + timedelta(days=(k // len(texts)) % 3650)
    return Text(f"v{k}", f"Outlet {k % 13}", published, base.headline, paragraphs)


def redated(texts: Sequence[Text], days: int) -> list[Text]:
    """The real articles as if published ``days`` later: the same reports of new events
    (their dates, hence their clusters and alerts, are new), for a stream that must alert."""
    return [Text(f"{t.key}-d{days}", t.site, t.published + timedelta(days=days), t.headline,
                 t.paragraphs) for t in texts]


def page(text: Text, index: int) -> Page:
    body = article_page(Seed(text.key, text.headline, text.paragraphs), site=text.site,
                        published=text.published.isoformat())
    return Page(f"/news/{index}/{text.key}.html", f"urn:bench:{index}:{text.key}", text.headline,
                text.published, body.encode("utf-8"))


def rss(server_url: str, pages: Sequence[Page], title: str = "Bench news") -> bytes:
    items = "".join(
        f"<item><guid isPermaLink=\"false\">{html.escape(p.guid)}</guid>"
        f"<link>{server_url}{p.path}</link><title>{html.escape(p.headline)}</title>"
        f"<pubDate>{format_datetime(p.published)}</pubDate></item>" for p in pages)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{html.escape(title)}</title><link>{server_url}/</link>"
            f"<description>News</description>{items}</channel></rss>").encode("utf-8")


class Site:
    """A local news site: pages by path, and feeds that show a new batch on each GET.

    ``/feed/{j}.xml`` answers its n-th request with batch n of feed j, as a real feed
    shows its latest items: a service that polls every feed once per round sees one
    new batch per feed per round.
    """

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self._batches: dict[int, list[list[Page]]] = {}
        self._served: dict[int, int] = {}
        self._lock = threading.Lock()
        self.appeared: dict[str, float] = {}  # guid -> time.time() the feed first showed it

    @property
    def feeds(self) -> int:
        return len(self._batches)

    @property
    def url(self) -> str:
        return self.server.url("").rstrip("/")

    def add_pages(self, pages: Sequence[Page]) -> list[str]:
        for p in pages:
            self.server.routes[p.path] = functools.partial(_send, headers=HTML, body=p.body)
        return [self.url + p.path for p in pages]

    def add_feed(self, feed: int, batches: Sequence[Sequence[Page]]) -> str:
        """Feed ``feed`` serving ``batches`` in turn (then empty); returns its URL."""
        for batch in batches:
            self.add_pages(batch)
        self._batches[feed] = [list(b) for b in batches]
        self._served[feed] = 0
        path = f"/feed/{feed}.xml"
        self.server.routes[path] = lambda handler, feed=feed: self._serve_feed(handler, feed)
        return self.url + path

    def _serve_feed(self, handler: BaseHTTPRequestHandler, feed: int) -> None:
        with self._lock:
            n = self._served[feed]
            self._served[feed] = n + 1
        batches = self._batches[feed]
        batch = batches[n] if n < len(batches) else []
        now = time.time()
        with self._lock:
            for p in batch:
                self.appeared.setdefault(p.guid, now)
        _send(handler, RSS, rss(self.url, batch, f"Bench feed {feed}"))


def _send(handler: BaseHTTPRequestHandler, headers: dict[str, str], body: bytes) -> None:
    # The test server writes headers and body in two writes; with Nagle's algorithm on,
    # a keep-alive client then waits for the delayed ACK (40 ms a page), which would be
    # the whole measurement. News sites' servers (nginx: tcp_nodelay on) do not.
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    respond(handler, 200, headers, body)


@contextmanager
def serve() -> Iterator[Site]:
    with LocalServer() as server:
        # Peers' clients drop keep-alive connections: not an error worth a traceback.
        server._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        yield Site(server)


def split(items: Sequence[Page], parts: int) -> list[list[Page]]:
    """``items`` dealt into ``parts`` lists of nearly equal size, in order."""
    size, extra = divmod(len(items), parts)
    out, at = [], 0
    for i in range(parts):
        n = size + (1 if i < extra else 0)
        out.append(list(items[at:at + n]))
        at += n
    return out
