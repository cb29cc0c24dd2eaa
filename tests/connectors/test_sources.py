"""connectors.sources: inputs to documents end to end, over a real local server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.feeds import FeedRef, write_opml
from connectors.http import Fetcher
from connectors.sources import poll_feed, read_inputs
from schemas import Failure, RawDocument
from tests.connectors.pages import SEEDS, article_page, longest_paragraph, rss_feed, seeds
from tests.fixtures.http_server import respond

RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
HTML_TYPE = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def news_site(server):
    """A feed of the five seeds, summaries only, and one article page for each."""
    items = []
    for seed in seeds():
        path = f"/news/{seed.doc_id}.html"
        server.routes[path] = (200, HTML_TYPE, article_page(seed).encode("utf-8"))
        items.append((f"urn:example:{seed.doc_id}", server.url(path), seed.headline, seed.paragraphs[0]))
    server.routes["/feed.xml"] = (200, {**RSS_TYPE, "ETag": '"f1"'}, rss_feed(items))
    return server


def test_feed_entries_are_read_from_their_pages(news_site, fetcher):
    items = list(read_inputs([news_site.url("/feed.xml")], fetcher))
    assert all(isinstance(i, RawDocument) for i in items), items
    assert len(items) == 5
    for doc, seed in zip(items, seeds(), strict=True):
        assert longest_paragraph(seed) in doc.text  # the page's text, not the one-line summary
        assert "All rights reserved" not in doc.text
        assert doc.title == seed.headline and doc.url == news_site.url(f"/news/{seed.doc_id}.html")
        assert doc.published == datetime(2017, 8, 12, 7, 30, tzinfo=UTC)
        assert (doc.source, doc.language, doc.feed_url) == ("Example News", "en", news_site.url("/feed.xml"))
        assert doc.origin == news_site.url("/feed.xml") and doc.fetched_at is not None
        assert len(doc.doc_id) == 16 and int(doc.doc_id, 16) >= 0
    again = list(read_inputs([news_site.url("/feed.xml")], fetcher))
    assert [d.doc_id for d in again] == [d.doc_id for d in items]  # stable across runs


def test_a_failing_page_fails_its_entry_only(news_site, fetcher):
    broken = seeds()[2]
    del news_site.routes[f"/news/{broken.doc_id}.html"]
    items = list(read_inputs([news_site.url("/feed.xml")], fetcher))
    assert [type(i).__name__ for i in items] == ["RawDocument"] * 2 + ["Failure"] + ["RawDocument"] * 2
    assert items[2] == Failure(input=news_site.url(f"/news/{broken.doc_id}.html"), step="fetch",
                               reason="HTTP 404")


def test_an_html_page_url_is_one_article(news_site, fetcher):
    seed = seeds()[4]
    [doc] = read_inputs([news_site.url(f"/news/{seed.doc_id}.html")], fetcher)
    assert doc.title == seed.headline and longest_paragraph(seed) in doc.text
    assert doc.source == "Example News" and doc.published is not None


def test_an_opml_url_reads_every_listed_feed(news_site, fetcher):
    opml = write_opml([FeedRef(news_site.url("/feed.xml"), "Example"), FeedRef(news_site.url("/gone.xml"))])
    news_site.routes["/feeds.opml"] = (200, {"Content-Type": "text/x-opml"}, opml)
    items = list(read_inputs([news_site.url("/feeds.opml")], fetcher))
    assert sum(isinstance(i, RawDocument) for i in items) == 5
    assert items[-1] == Failure(input=news_site.url("/gone.xml"), step="fetch", reason="HTTP 404")


def test_every_kind_of_input_in_one_run_in_order(news_site, fetcher, tmp_path):
    news_site.routes["/broken.xml"] = (200, RSS_TYPE, b"<rss version='2.0'><channel><title>x</title")
    news_site.routes["/logo.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG\0")
    items = list(read_inputs([
        str(SEEDS / "000_92cbca79a50a440a.txt"), str(tmp_path / "nope"), news_site.url("/broken.xml"),
        news_site.url("/logo.png"), "http://10.0.0.1/feed.xml", "ftp://example.com/feed.xml",
    ], fetcher))
    assert items[0].doc_id == "000_92cbca79a50a440a"
    assert [i.line() for i in items[1:]] == [
        f"{tmp_path / 'nope'}: read: no such file or directory",
        f"{news_site.url('/broken.xml')}: parse: malformed feed: <unknown>:2:36: unclosed token",
        f"{news_site.url('/logo.png')}: fetch: not a feed or HTML page: image/png",
        "http://10.0.0.1/feed.xml: fetch: refused: 10.0.0.1 is a private address",
        "ftp://example.com/feed.xml: read: unsupported scheme: ftp",
    ]


def test_a_local_feed_file_has_its_pages_fetched_when_there_is_a_fetcher(news_site, fetcher, tmp_path):
    path = tmp_path / "saved.rss"
    seed = seeds()[1]
    path.write_bytes(rss_feed([("g1", news_site.url(f"/news/{seed.doc_id}.html"), seed.headline, "Short.")]))
    [offline] = read_inputs([str(path)], None)
    [online] = read_inputs([str(path)], fetcher)
    assert offline.text == "Short." and offline.url == online.url
    assert longest_paragraph(seed) in online.text and online.doc_id == offline.doc_id


def test_without_a_fetcher_nothing_goes_to_the_network(news_site):
    assert list(read_inputs([news_site.url("/feed.xml")], None)) == [
        Failure(input=news_site.url("/feed.xml"), step="fetch", reason="no fetcher: network access is off")]
    assert news_site.requests == []


def test_poll_feed_uses_validators_and_skips_seen_entries(news_site, fetcher):
    def conditional(h):
        if h.headers.get("If-None-Match") == '"f1"':
            respond(h, 304, {"ETag": '"f1"'}, b"")
        else:
            respond(h, *news_site.routes["/feed.xml"])

    news_site.routes["/polled.xml"] = conditional
    url = news_site.url("/polled.xml")
    first = poll_feed(fetcher, url)
    assert (first.not_modified, len(first.entries), first.etag, first.failure) == (False, 5, '"f1"', None)
    again = poll_feed(fetcher, url, etag=first.etag)
    assert again.not_modified and again.entries == () and again.etag == '"f1"'
    seen = {e.doc_id for e in first.entries[:3]}
    fresh = poll_feed(fetcher, url, seen=seen)
    assert fresh.entries == first.entries[3:]


def test_poll_feed_reports_failures_and_keeps_the_old_validators(server):
    with Fetcher() as default:  # loopback refused: no allowlist
        result = poll_feed(default, server.url("/feed.xml"), etag='"old"', last_modified="x")
    assert result.failure == Failure(input=server.url("/feed.xml"), step="fetch",
                                     reason="refused: 127.0.0.1 is a loopback address")
    assert (result.etag, result.last_modified, result.entries) == ('"old"', "x", ())
