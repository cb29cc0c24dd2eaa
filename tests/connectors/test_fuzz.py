"""Fuzz tests: whatever bytes a server sends, parsing and cleaning either give
records or raise their own one-line error, never anything else.

Settings come from the ``newswatch-fuzz`` profile: a fixed number of examples,
derandomised so CI is reproducible, no example database in the work tree. Set
HYPOTHESIS_PROFILE=newswatch-fuzz-long for a longer local run.
"""

import os
from datetime import UTC

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.extract import ExtractedPage, ExtractionError, extract_page
from connectors.feeds import FeedError, FeedRef, parse_feed, parse_opml, write_opml
from pipelines.normalize import NormalizeError, normalize
from schemas import RawDocument

settings.register_profile("newswatch-fuzz", max_examples=60, deadline=None, derandomize=True,
                          database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("newswatch-fuzz-long", max_examples=2000, deadline=None, database=None)
FUZZ = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "newswatch-fuzz"))

FEED_URL = "https://news.example.org/feed.xml"
# Text that XML can carry (no control characters, no surrogates).
xml_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=60)
words = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=12)
# ASCII only where a value must come back unchanged: feedparser "repairs" text that
# reads as double-encoded UTF-8 ("Âª" comes back as "ª"), which fuzzing found.
ascii_words = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
# Fragments that make feeds and pages hard: markup, entities, CDATA, encodings, junk.
fragments = st.sampled_from([
    b"<?xml version='1.0' encoding='utf-8'?>", b"<?xml version='1.0' encoding='latin-1'?>",
    b"<rss version='2.0'>", b"<channel>", b"<item>", b"</item>", b"<title>", b"</title>",
    b"<link>https://x.example/a</link>", b"<guid>g1</guid>", b"<description>", b"</description>",
    b"<feed xmlns='http://www.w3.org/2005/Atom'>", b"<entry>", b"</entry>",
    b"<![CDATA[<p>x</p>]]>", b"&amp;", b"&bogus;", b"&#0;", b"&#xD800;", b"<!DOCTYPE rss>",
    b"<!ENTITY a 'b'>", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00", b"<", b">", b"]]>", b"\xe9",
    b"<html><body><p>", b"</p></body></html>", b"<opml version='2.0'><body>",
    b"<outline xmlUrl='https://x.example/f' text='x'/>", b"</body></opml>"])
soup = st.lists(st.one_of(fragments, st.binary(max_size=20)), max_size=30).map(b"".join)


@FUZZ
@given(soup)
@example(b"<item>&#xD800;")  # found by fuzzing: feedparser raised UnicodeEncodeError
def test_parse_feed_gives_entries_or_a_feed_error(data):
    try:
        entries = parse_feed(data, FEED_URL)
    except FeedError as exc:
        assert exc.reason and "\n" not in exc.reason
        return
    for entry in entries:
        assert entry.feed_url == FEED_URL
        assert entry.published is None or entry.published.tzinfo == UTC
        assert len(entry.doc_id) == 16


@FUZZ
@given(st.lists(st.tuples(ascii_words, xml_text, xml_text), min_size=1, max_size=8,
                unique_by=lambda t: t[0]))
def test_every_item_of_a_well_formed_feed_becomes_one_entry(items):
    from xml.sax.saxutils import escape
    body = "".join(f"<item><guid>urn:{guid}</guid><title>{escape(title)}</title>"
                   f"<description>{escape(text)}</description></item>"
                   for guid, title, text in items)
    data = (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>F</title>"
            f"{body}</channel></rss>").encode()
    entries = parse_feed(data, FEED_URL)
    assert [e.id for e in entries] == [f"urn:{guid}" for guid, _, _ in items]
    assert len({e.doc_id for e in entries}) == len(items)


@FUZZ
@given(soup)
def test_parse_opml_gives_feed_refs_or_a_feed_error(data):
    try:
        refs = parse_opml(data)
    except FeedError as exc:
        assert exc.reason and "\n" not in exc.reason
        return
    assert len({r.url for r in refs}) == len(refs)


@FUZZ
@given(st.lists(st.tuples(words, xml_text.map(str.strip).filter(bool)), max_size=10,
                unique_by=lambda t: t[0]))
def test_opml_export_then_import_gives_the_same_list(feeds):
    refs = [FeedRef(url=f"https://{host}.example/feed", title=title) for host, title in feeds]
    assert parse_opml(write_opml(refs)) == refs


@FUZZ
@given(st.one_of(soup.map(lambda b: b.decode("utf-8", "replace")), xml_text,
                 st.lists(xml_text, max_size=8).map(
                     lambda ps: "<html><body>" + "".join(f"<p>{p}</p>" for p in ps) + "</body></html>")))
def test_extract_page_gives_a_page_or_an_extraction_error(html):
    try:
        page = extract_page(html, "https://news.example.org/a.html")
    except ExtractionError as exc:
        assert exc.reason and "\n" not in exc.reason
        return
    assert isinstance(page, ExtractedPage)
    assert page.text.strip()
    assert page.published is None or page.published.tzinfo is not None


@FUZZ
@given(title=xml_text, text=st.text(max_size=400),
       url=st.one_of(st.none(), st.just("https://news.example.org/a?utm_source=x"), xml_text))
def test_normalize_gives_an_article_with_a_stable_id_or_a_normalize_error(title, text, url):
    raw = RawDocument(doc_id="d1", title=title, text=text, url=url, origin="fuzz")
    try:
        article = normalize(raw)
    except NormalizeError:
        return
    assert article.text.strip()
    assert normalize(raw).id == article.id  # deterministic: the same input, the same id
