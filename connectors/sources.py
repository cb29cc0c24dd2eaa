"""Inputs to documents: folders, files and http(s) URLs, and feed polling.

``read_inputs`` is what the embedded pipeline reads from; ``poll_feed`` and
``read_entry`` are what the always-on service calls for each feed on its list.
Both use the same parsing functions, so a feed reads the same either way.

Errors are data: every input that goes wrong becomes a ``Failure`` naming the
input (a path, ``file.jsonl:17``, a feed URL or an entry's page URL) and the
step ("read", "fetch", "parse", "extract"); the other inputs go on.

Delivery: each call reads its inputs once, in order, and keeps no state; the
caller decides what was already seen (``poll_feed(..., seen=...)``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.extract import ExtractedPage, ExtractionError, extract_page
from connectors.feeds import FEED_TYPES, OPML_TYPES, FeedEntry, FeedError, FeedRef, \
    entry_document, parse_feed, parse_opml, short_id, sniff_kind
from connectors.files import read_path
from connectors.http import HTML_PAGE, Expect, FetchError, Fetcher, FetchResult
from schemas import Failure, RawDocument

log = logging.getLogger(__name__)

# What a URL given as an input may be. text/plain and generic XML are sniffed.
WEB_DOCUMENT = Expect("a feed or HTML page", HTML_PAGE.media_types | FEED_TYPES | OPML_TYPES
                      | frozenset({"application/xml", "text/xml", "text/plain"}))

Output = RawDocument | Failure


@dataclass(frozen=True)
class PollResult:
    feed_url: str
    not_modified: bool
    entries: tuple[FeedEntry, ...]  # entries not in ``seen``, in feed order
    etag: str | None  # validators for the next poll (the old ones kept on failure)
    last_modified: str | None
    failure: Failure | None = None


def read_inputs(inputs: Iterable[str], fetcher: Fetcher | None = None) -> Iterator[Output]:
    """Documents and failures from each input in turn.

    Without a fetcher nothing goes to the network: URL inputs and feeds listed
    in OPML files become failures, and feed entries keep their summary as text.
    """
    read_page = functools.partial(read_entry, fetcher) if fetcher is not None else None
    for item in inputs:
        if "://" in item:
            yield from read_url(item, fetcher)
            continue
        for found in read_path(item, read_page=read_page):
            if isinstance(found, FeedRef):
                yield from _read_listed_feed(found.url, fetcher, item)
            else:
                yield found


def read_url(url: str, fetcher: Fetcher | None) -> Iterator[Output]:
    """A feed (its entries), an OPML list (its feeds' entries) or an article page."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        yield Failure(input=url, step="read", reason=f"unsupported scheme: {scheme or '(none)'}")
        return
    result = _fetch_document(url, fetcher)
    if isinstance(result, Failure):
        yield result
        return
    kind = sniff_kind(result.body, result.content_type)
    if kind == "feed":
        yield from _entries(result, fetcher, origin=url)
    elif kind == "opml":
        try:
            refs = parse_opml(result.body)
        except FeedError as exc:
            yield Failure(input=url, step="parse", reason=exc.reason)
            return
        for ref in refs:
            yield from _read_listed_feed(ref.url, fetcher, url)
    elif kind == "html":
        yield _page_document(result, doc_id=short_id(url), origin=url)
    else:
        what = result.content_type or "no content type"
        yield Failure(input=url, step="parse", reason=f"not a feed, OPML list or HTML page: {what}")


def _read_listed_feed(feed_url: str, fetcher: Fetcher | None, origin: str) -> Iterator[Output]:
    # A feed named in an OPML list must be a feed: lists do not nest.
    result = _fetch_document(feed_url, fetcher)
    if isinstance(result, Failure):
        yield result
        return
    yield from _entries(result, fetcher, origin=feed_url)


def _fetch_document(url: str, fetcher: Fetcher | None) -> FetchResult | Failure:
    """A feed, OPML list or page fetched, or the fetch's failure (also without a fetcher)."""
    if fetcher is None:
        return Failure(input=url, step="fetch", reason="no fetcher: network access is off")
    try:
        return fetcher.fetch(url, expect=WEB_DOCUMENT)
    except FetchError as exc:
        return Failure(input=url, step="fetch", reason=exc.reason)


def _entries(result: FetchResult, fetcher: Fetcher, origin: str) -> Iterator[Output]:
    try:
        entries = parse_feed(result.body, result.final_url, result.content_type)
    except FeedError as exc:
        yield Failure(input=origin, step="parse", reason=exc.reason)
        return
    for entry in entries:
        yield read_entry(fetcher, entry, origin)


# The page-to-text step, which the service may run in a helper process.
Extract = Callable[[str, str | None], ExtractedPage]


def read_entry(fetcher: Fetcher, entry: FeedEntry, origin: str, extract: Extract = extract_page) -> Output:
    """The document for one feed entry.

    The feed's own text is used when it carries the full content (a content
    element) or has no link; otherwise the linked page is fetched and its
    extracted text replaces the summary. A page that cannot be fetched or
    extracted is that entry's failure: a summary alone is not an article.
    ``extract`` turns the page's HTML into text (default: ``extract_page`` here).
    """
    if entry.content or not entry.link:
        return entry_document(entry, origin)
    try:
        page = fetcher.fetch(entry.link, expect=HTML_PAGE)
    except FetchError as exc:
        return Failure(input=entry.link, step="fetch", reason=exc.reason)
    # The page names its outlet better than a feed title ("X - World news").
    document = _page_document(page, doc_id=entry.doc_id, origin=origin,
                              fallback_source=entry.feed_title, extract=extract)
    if isinstance(document, Failure):
        return document
    return document.model_copy(update={
        "title": entry.title or document.title,
        "published": entry.published or document.published,
        "author": entry.author or document.author,
        "feed_url": entry.feed_url,
    })


def _page_document(page: FetchResult, doc_id: str, origin: str,
                   fallback_source: str | None = None, extract: Extract = extract_page) -> Output:
    try:
        extracted = extract(page.text, page.final_url)
    except ExtractionError as exc:
        return Failure(input=page.url, step="extract", reason=exc.reason)
    return RawDocument(
        doc_id=doc_id, title=extracted.title, text=extracted.text, url=page.final_url,
        published=extracted.published,
        source=extracted.site_name or fallback_source or urlsplit(page.final_url).hostname,
        author=extracted.author, language=extracted.language, fetched_at=page.fetched_at,
        origin=origin)


def poll_feed(fetcher: Fetcher, feed_url: str, etag: str | None = None,
              last_modified: str | None = None, seen: Container[str] = frozenset(),
              ) -> PollResult:
    """One conditional GET of a feed; entries whose ``doc_id`` is in ``seen`` are left out.

    Turn the new entries into documents with ``read_entry``. Never raises for a
    bad feed or server: the failure is in ``PollResult.failure``.
    """
    def failed(step: str, reason: str) -> PollResult:
        return PollResult(feed_url, False, (), etag, last_modified,
                          Failure(input=feed_url, step=step, reason=reason))

    try:
        result = fetcher.fetch(feed_url, if_none_match=etag, if_modified_since=last_modified,
                               expect=WEB_DOCUMENT)
    except FetchError as exc:
        return failed("fetch", exc.reason)
    if result.not_modified:
        return PollResult(feed_url, True, (), result.etag or etag,
                          result.last_modified or last_modified)
    try:
        entries = parse_feed(result.body, result.final_url, result.content_type)
    except FeedError as exc:
        return failed("parse", exc.reason)
    new = tuple(e for e in entries if e.doc_id not in seen)
    log.debug("polled %s: %s entries, %s new", feed_url, len(entries), len(new))
    return PollResult(feed_url, False, new, result.etag, result.last_modified)
