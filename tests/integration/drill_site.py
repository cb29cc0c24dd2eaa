"""A news site whose feed grows while a fault drill runs.

Articles are written for the drill (no third-party text): most are ordinary
news of no conflict interest, and every ``capture_every``-th one reports a
town capture that the shipped ``town-captured`` rule alerts on, each in a
different town, so every alert is its own event. Filler sentences are drawn
from small word lists with a fixed seed: two articles share almost no word
3-shingles, so near-duplicate detection (Jaccard >= 0.3) keeps them apart and
every article must reach the index as its own document.
"""

from __future__ import annotations

import html
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from tests.connectors.pages import Seed, article_page
from tests.fixtures.http_server import LocalServer

# Towns of the GeoNames places we ship, one per capture (distinct events).
TOWNS = (("Saraqib", "Idlib"), ("Khan Shaykhun", "Idlib"), ("Jisr al-Shughur", "Idlib"),
         ("Manbij", "Aleppo"), ("Jarabulus", "Aleppo"), ("Al-Qaryatayn", "Homs"),
         ("Tadmur", "Homs"), ("Ariha", "Idlib"), ("Maarat al-Numan", "Idlib"), ("Tabqa", "Raqqa"))

# One word per slot, drawn independently: the 3-shingles of two articles barely overlap.
_ADJ = ("local", "new", "old", "small", "public", "rural", "annual", "northern", "quiet", "busy",
        "modern", "famous", "private", "coastal", "historic", "popular", "remote", "green")
_NOUN = ("council", "bakery", "museum", "farmers", "students", "harbour", "nurses", "library",
         "orchestra", "market", "bridge", "garden", "school", "railway", "theatre", "festival",
         "bank", "cinema", "clinic", "orchard", "stadium", "bookshop", "ferry", "vineyard")
_VERB = ("praised", "reopened", "repainted", "funded", "visited", "reviewed", "expanded", "cleaned",
         "measured", "welcomed", "surveyed", "renamed", "rebuilt", "photographed", "inspected")
_WHEN = ("yesterday", "recently", "again", "quickly", "quietly", "twice", "finally", "early")


@dataclass(frozen=True)
class DrillArticle:
    number: int
    seed: Seed
    town: str | None  # the town captured, for capture articles

    @property
    def path(self) -> str:
        return f"/drill/{self.number:04d}.html"

    @property
    def guid(self) -> str:
        return f"urn:drill:{self.number:04d}"


def _filler(rng: random.Random, sentences: int) -> str:
    def sentence() -> str:
        return (f"The {rng.choice(_ADJ)} {rng.choice(_NOUN)} {rng.choice(_VERB)} the {rng.choice(_ADJ)} "
                f"{rng.choice(_NOUN)} {rng.choice(_WHEN)}.")
    return " ".join(sentence() for _ in range(sentences))


def drill_articles(count: int, capture_every: int = 5, seed: int = 7) -> list[DrillArticle]:
    rng = random.Random(seed)
    out: list[DrillArticle] = []
    towns = iter(TOWNS)
    for n in range(count):
        town = None
        paragraphs = [_filler(rng, 4) for _ in range(4)]
        headline = f"{rng.choice(_ADJ).title()} {rng.choice(_NOUN)} {rng.choice(_VERB)} ({n})"
        if n % capture_every == capture_every - 1:
            town, region = next(towns)
            headline = f"Syrian army captures {town} ({n})"
            paragraphs.insert(0, f"Syrian government forces captured the town of {town} in {region} "
                                 f"province on Monday after heavy fighting with rebels, state media said.")
        out.append(DrillArticle(n, Seed(f"drill{n:04d}", headline, tuple(paragraphs)), town))
    return out


class GrowingSite:
    """A feed on a real local HTTP server that lists the first ``released``
    articles; ``release(k)`` publishes k more (the way a wire grows)."""

    def __init__(self, server: LocalServer, articles: list[DrillArticle], site: str = "Drill News") -> None:
        self.server, self.articles, self.site = server, articles, site
        self.released = 0
        self.published = datetime.now(UTC).replace(microsecond=0)
        self.lock = threading.Lock()
        self._write_feed()

    @property
    def feed_url(self) -> str:
        return self.server.url("/drill/feed.xml")

    def url(self, article: DrillArticle) -> str:
        return self.server.url(article.path)

    def release(self, k: int) -> int:
        """Publish the next k articles; return how many are out now."""
        with self.lock:
            for article in self.articles[self.released:self.released + k]:
                self.server.routes[article.path] = (200, {"Content-Type": "text/html; charset=utf-8"},
                                                    article_page(article.seed, site=self.site,
                                                                 published=self.published.isoformat()).encode())
            self.released = min(len(self.articles), self.released + k)
            self._write_feed()
            return self.released

    def _write_feed(self) -> None:
        items = "".join(
            f'<item><guid isPermaLink="false">{a.guid}</guid><link>{self.url(a)}</link>'
            f"<title>{html.escape(a.seed.headline)}</title>"
            f"<pubDate>{format_datetime(self.published)}</pubDate></item>"
            for a in reversed(self.articles[:self.released]))
        self.server.routes["/drill/feed.xml"] = (200, {"Content-Type": "application/rss+xml"}, (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Drill News</title>'
            f'<link>{self.server.url("/")}</link><description>News</description>{items}'
            "</channel></rss>").encode())
