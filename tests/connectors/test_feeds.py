"""connectors.feeds: feeds and OPML, bytes in, records out."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime

import feedparser
import pytest

from connectors.feeds import FeedError, FeedRef, entry_doc_id, entry_document, html_to_text, \
    parse_feed, parse_opml, sniff_kind, write_opml
from schemas import Failure, RawDocument
from tests.connectors.pages import BILLION_LAUGHS_DTD

FEED_URL = "http://example.com/feeds/world.xml"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Example News</title><link>http://example.com/</link>
<item><guid isPermaLink="false">urn:newswatch:test:1</guid><link>/2017/08/sukhna</link>
<title>Army nears al-Sukhna</title>
<description>&lt;p&gt;Forces are &lt;b&gt;nearing&lt;/b&gt; the town.&lt;/p&gt;&lt;p&gt;More soon.&lt;/p&gt;</description>
<pubDate>Sat, 12 Aug 2017 10:30:00 +0300</pubDate><dc:creator>Jane Reporter</dc:creator></item>
<item><link>http://example.com/2017/08/full</link><title>Full text entry</title>
<description>Short.</description>
<content:encoded><![CDATA[<p>The whole article.</p><p>Second paragraph.</p>]]></content:encoded></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title><id>urn:feed</id>
<updated>2017-08-15T09:00:00Z</updated>
<entry><id>tag:example.com,2017:1</id><title>Troops enter Deir ez-Zor</title>
<link rel="alternate" href="http://example.com/a/1"/><updated>2017-08-15T09:00:00+02:00</updated>
<author><name>Rudaw staff</name></author><summary>Troops advanced.</summary></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://example.com/"><title>RDF News</title><link>http://example.com/</link>
<description>d</description></channel>
<item rdf:about="http://example.com/r/1"><title>RDF item</title><link>http://example.com/r/1</link>
<description>Item text.</description><dc:date>2017-08-14T08:00:00Z</dc:date></item>
</rdf:RDF>"""


def test_rss_entries_carry_links_text_dates_and_authors():
    summary_only, full = parse_feed(RSS, FEED_URL)
    assert summary_only.id == "urn:newswatch:test:1"
    assert summary_only.link == "http://example.com/2017/08/sukhna"  # resolved against the feed
    assert summary_only.title == "Army nears al-Sukhna"
    assert summary_only.summary == "Forces are nearing the town.\n\nMore soon."
    assert summary_only.content == ""
    assert summary_only.published == datetime(2017, 8, 12, 7, 30, tzinfo=UTC)
    assert summary_only.author == "Jane Reporter"
    assert summary_only.feed_title == "Example News" and summary_only.feed_url == FEED_URL
    assert full.content == "The whole article.\n\nSecond paragraph."
    assert full.text == full.content and full.published is None


def test_atom_and_rdf_feeds():
    [atom] = parse_feed(ATOM, "http://example.com/atom")
    assert (atom.id, atom.link, atom.summary, atom.author) == (
        "tag:example.com,2017:1", "http://example.com/a/1", "Troops advanced.", "Rudaw staff")
    assert atom.published == datetime(2017, 8, 15, 7, 0, tzinfo=UTC)
    [rdf] = parse_feed(RDF, "http://example.com/rdf")
    assert (rdf.link, rdf.title, rdf.summary) == ("http://example.com/r/1", "RDF item", "Item text.")
    assert rdf.published == datetime(2017, 8, 14, 8, 0, tzinfo=UTC)


def test_doc_id_is_a_stable_short_hash_of_the_guid():
    first, full = parse_feed(RSS, FEED_URL)
    assert entry_doc_id(first) == "44ca6f541005f09a"  # sha256, the same on every run
    assert entry_doc_id(parse_feed(RSS, "http://mirror.example/feed")[0]) == "44ca6f541005f09a"
    assert entry_doc_id(full) != entry_doc_id(first)  # no guid: the link is the key


def test_entry_document_keeps_the_url_when_only_a_summary_is_known():
    summary_only, _ = parse_feed(RSS, FEED_URL)
    doc = entry_document(summary_only, "feeds.xml")
    assert isinstance(doc, RawDocument)
    assert (doc.doc_id, doc.url, doc.text, doc.source, doc.origin) == (
        "44ca6f541005f09a", summary_only.link, summary_only.summary, "Example News", "feeds.xml")


def test_entry_without_text_is_a_failure():
    data = RSS.replace(b"<description>Short.</description>", b"").replace(
        b"<content:encoded><![CDATA[<p>The whole article.</p><p>Second paragraph.</p>]]></content:encoded>", b"")
    doc = entry_document(parse_feed(data, FEED_URL)[1], "feeds.xml")
    assert doc == Failure(input="http://example.com/2017/08/full", step="read",
                          reason="feed entry has no content or summary")


def test_recoverable_errors_still_yield_entries():
    truncated = b"<rss version='2.0'><channel><title>x</title><item><title>a</title><link>/1</link></item>"
    assert [(e.title, e.link) for e in parse_feed(truncated, FEED_URL)] == [("a", "http://example.com/1")]


@pytest.mark.parametrize(("data", "reason"), [
    (b"<rss version='2.0'><channel><title>x</title", "malformed feed: <unknown>:2:36: unclosed token"),
    (b"not xml at all", "not a feed: <unknown>:2:0: syntax error"),
    (b"<html><body><p>A page</p></body></html>", "not a feed"),
    (b"  \n", "empty document"),
])
def test_what_is_not_a_usable_feed(data, reason):
    with pytest.raises(FeedError) as info:
        parse_feed(data, FEED_URL)
    assert info.value.reason == reason


def _bomb_feed() -> bytes:
    return (b'<?xml version="1.0"?>\n' + BILLION_LAUGHS_DTD +
            b"<rss version='2.0'><channel><title>t</title><item><title>&lol9;</title>"
            b"<link>http://x/1</link><description>hi</description></item></channel></rss>")


def test_billion_laughs_feed_is_refused_quickly():
    started = time.monotonic()
    with pytest.raises(FeedError, match="refused: document declares XML entities"):
        parse_feed(_bomb_feed(), FEED_URL)
    with pytest.raises(FeedError, match="refused"):
        parse_feed(_bomb_feed().decode().encode("utf-16"), FEED_URL)
    assert time.monotonic() - started < 1


def test_feedparser_itself_does_not_expand_entities():
    """The behaviour our own guard backs up: if it ever changes, we want to know."""
    parsed = feedparser.parse(io.BytesIO(_bomb_feed()))
    assert all(len(e.get("title", "")) < 100 for e in parsed.entries)


OPML = b"""<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0"><head><title>Conflict feeds</title></head><body>
<outline text="Middle East">
  <outline type="rss" text="Middle East Eye" xmlUrl="https://www.middleeasteye.net/rss"/>
  <outline type="rss" title="Rudaw" text="R" xmlUrl="https://www.rudaw.net/rss"/>
</outline>
<outline type="rss" text="Duplicate" xmlUrl="https://www.rudaw.net/rss"/>
<outline text="no url"/>
</body></opml>"""


def test_opml_lists_every_feed_once_nested_included():
    assert parse_opml(OPML) == [FeedRef("https://www.middleeasteye.net/rss", "Middle East Eye"),
                                FeedRef("https://www.rudaw.net/rss", "Rudaw")]


def test_write_opml_round_trips():
    feeds = [FeedRef("https://a.example/rss", "A & B"), FeedRef("https://c.example/atom")]
    data = write_opml(feeds)
    assert data.startswith(b"<?xml")
    assert parse_opml(data) == [FeedRef("https://a.example/rss", "A & B"),
                                FeedRef("https://c.example/atom", "https://c.example/atom")]


@pytest.mark.parametrize(("data", "reason"), [
    (b'<?xml version="1.0"?>\n' + BILLION_LAUGHS_DTD + b"<opml><body><outline xmlUrl='&lol9;'/></body></opml>",
     "refused: document declares XML entities"),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
     b"<opml><body><outline xmlUrl='&xxe;'/></body></opml>", "refused: document declares XML entities"),
    (b"<rss><channel/></rss>", "not an OPML document: root element <rss>"),
    (b"<opml><body>", "not valid XML: no element found: line 1, column 12"),
])
def test_bad_opml(data, reason):
    with pytest.raises(FeedError) as info:
        parse_opml(data)
    assert info.value.reason == reason


@pytest.mark.parametrize(("data", "content_type", "kind"), [
    (RSS, "text/html", "feed"),  # the root element wins over a wrong label
    (ATOM, None, "feed"),
    (RDF, "application/xml", "feed"),
    (OPML, "text/xml", "opml"),
    (b"<!DOCTYPE html><!-- x --><html><body></body></html>", "text/xml", "html"),
    (b"<p>fragment</p>", "text/html", "html"),
    (b"\x89PNG", "image/png", None),
])
def test_sniff_kind(data, content_type, kind):
    assert sniff_kind(data, content_type) == kind


def test_html_to_text_keeps_paragraphs_and_drops_markup():
    assert html_to_text("<p>One <a href='#'>link</a></p><ul><li>a</li><li>b</li></ul>x<br>y") == \
        "One link\n\na\n\nb\n\nx\n\ny"
    assert html_to_text("plain &amp; simple") == "plain & simple"
    assert html_to_text("  ") == ""
