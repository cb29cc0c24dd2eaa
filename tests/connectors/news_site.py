"""A small news site on a real local HTTP server: an RSS feed of the seed
articles and one HTML page per article, as outlets publish them."""

from __future__ import annotations

import html
from datetime import datetime
from email.utils import format_datetime

from tests.connectors.pages import article_page, seeds
from tests.fixtures.http_server import LocalServer

# Outlet and publication time of each seed: when the story ran, so that
# "on Saturday" resolves to the capture's date (Saturday 12 August 2017).
PUBLISHED = {
    "000": ("Middle East Eye", "2017-08-10T12:00:00+00:00"),
    "001": ("Middle East Eye", "2017-08-12T18:00:00+00:00"),
    "002": ("Middle East Eye", "2017-08-26T15:00:00+00:00"),
    "003": ("Arab News", "2017-08-10T13:00:00+00:00"),
    "004": ("Rudaw", "2017-08-15T09:00:00+00:00"),
}
HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}


def guid(doc_id: str) -> str:
    return f"urn:seed:{doc_id}"


def news_site(server: LocalServer, only: tuple[str, ...] | None = None) -> str:
    """Add the feed (all seeds, or those whose prefix is in ``only``) and pages; return the feed URL."""
    items = []
    for seed in seeds():
        if only is not None and seed.doc_id[:3] not in only:
            continue
        site, published = PUBLISHED[seed.doc_id[:3]]
        path = f"/news/{seed.doc_id}.html"
        server.routes[path] = (200, HTML, article_page(seed, site=site, published=published).encode())
        items.append(
            f"<item><guid isPermaLink=\"false\">{guid(seed.doc_id)}</guid><link>{server.url(path)}</link>"
            f"<title>{html.escape(seed.headline)}</title>"
            f"<description>{html.escape(seed.paragraphs[0])}</description>"
            f"<pubDate>{format_datetime(datetime.fromisoformat(published))}</pubDate></item>")
    server.routes["/feed.xml"] = (200, RSS, (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Syria news</title>'
        f'<link>{server.url("/")}</link><description>News</description>{"".join(items)}'
        "</channel></rss>").encode())
    return server.url("/feed.xml")
