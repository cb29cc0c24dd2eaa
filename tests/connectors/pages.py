"""Realistic pages and feeds built around the seed articles (test data, not fixtures)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

SEEDS = Path(__file__).parents[1] / "fixtures" / "seeds"
# Site furniture at the top of some seed files; the headline is the next line.
_FURNITURE = ("Skip to main content", "Last updated")


@dataclass(frozen=True)
class Seed:
    doc_id: str
    headline: str
    paragraphs: tuple[str, ...]


def seeds() -> list[Seed]:
    found = []
    for path in sorted(SEEDS.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line and not line.startswith(_FURNITURE)]
        found.append(Seed(path.stem, lines[0], tuple(lines[1:])))
    return found


def longest_paragraph(seed: Seed) -> str:
    return max(seed.paragraphs, key=len)


def article_page(seed: Seed, site: str = "Example News",
                 published: str = "2017-08-12T10:30:00+03:00", charset: str = "utf-8") -> str:
    """A news page as sites serve them: nav, related links, footer around the article."""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in seed.paragraphs)
    title = html.escape(seed.headline)
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="{charset}">
<title>{title} | {site}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{site}">
<meta name="author" content="Staff Reporter">
<meta property="article:published_time" content="{published}">
</head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/opinion">Opinion</a></li><li><a href="/video">Video</a></li></ul></nav>
<form action="/search"><input name="q" placeholder="Search"></form></header>
<main>
<article>
<h1>{title}</h1>
<p class="byline">By Staff Reporter</p>
{body}
</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Celebrity chef opens new restaurant</a></li>
<li><a href="/b">Ten tips for a better garden</a></li></ul></aside>
</main>
<footer><p>Newsletter: sign up for our daily briefing.</p>
<p>Copyright 2017 {site}. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body>
</html>
"""


def rss_feed(items: list[tuple[str, str, str, str]], title: str = "Example News") -> bytes:
    """RSS 2.0 with (guid, link, headline, summary) items and no full content."""
    entries = "\n".join(
        f"<item><guid isPermaLink=\"false\">{html.escape(guid)}</guid><link>{html.escape(link)}</link>"
        f"<title>{html.escape(head)}</title><description>{html.escape(summary)}</description>"
        f"<pubDate>Sat, 12 Aug 2017 10:30:00 +0300</pubDate></item>"
        for guid, link, head, summary in items)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{html.escape(title)}</title><link>http://example.com/</link>
<description>News</description>
{entries}
</channel></rss>
""".encode("utf-8")


BILLION_LAUGHS_DTD = b"""<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""
