"""RSS, Atom, RDF and OPML: bytes in, frozen records out. No network here.

feedparser is only ever given a stream of bytes we fetched ourselves (it has no
timeouts of its own, and given a URL-looking string it would fetch it). OPML is
parsed with defusedxml. XML entity declarations are refused outright in both:
legitimate feeds do not declare entities, and an entity-expansion bomb
("billion laughs") is exactly that. feedparser's fallback parser does not
expand them either (checked in tests/connectors/test_feeds.py), so this is
defence in depth, with a clear reason instead of a half-parsed feed.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import defusedxml
import defusedxml.ElementTree
import feedparser
import lxml.etree
import lxml.html

from schemas import Failure, RawDocument

log = logging.getLogger(__name__)


class FeedError(Exception):
    """A feed or OPML document that cannot be used; ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FeedEntry:
    id: str | None  # guid / atom:id as the feed gives it
    link: str | None  # absolute: relative links are resolved against the feed URL
    title: str
    summary: str  # plain text
    content: str  # plain text of the full content element; "" if the feed has only a summary
    published: datetime | None  # timezone-aware, UTC
    author: str | None
    feed_url: str
    feed_title: str | None

    @property
    def doc_id(self) -> str:
        return entry_doc_id(self)

    @property
    def text(self) -> str:
        return self.content or self.summary


@dataclass(frozen=True)
class FeedRef:
    url: str  # the outline's xmlUrl
    title: str | None = None


_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


def _refuse_entities(data: bytes) -> None:
    # Dropping NULs lets the same check see UTF-16 documents.
    if _ENTITY_DECL.search(data) or _ENTITY_DECL.search(data.replace(b"\x00", b"")):
        raise FeedError("refused: document declares XML entities")


def parse_feed(data: bytes, feed_url: str, content_type: str | None = None) -> list[FeedEntry]:
    """Entries of an RSS 0.9x/1.0(RDF)/2.0 or Atom feed, in document order.

    A feed with recoverable errors still yields its entries (feedparser's
    ``bozo`` flag is logged); one with errors and no entries, or a document
    that is not a feed, raises ``FeedError``.
    """
    if not data.strip():
        raise FeedError("empty document")
    _refuse_entities(data)
    # Without a content type feedparser flags every document as bozo.
    headers = {"content-location": feed_url, "content-type": content_type or "application/xml"}
    try:
        parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    except (UnicodeError, ValueError) as exc:
        # feedparser's loose parser can raise on what it decoded, e.g. "&#xD800;"
        # (a lone surrogate): found by tests/connectors/test_fuzz.py.
        raise FeedError(_one_line(f"malformed feed: {type(exc).__name__}: {exc}")) from exc
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    if parsed.get("bozo") and not entries:
        if not version:
            raise FeedError(_one_line(f"not a feed: {parsed.get('bozo_exception')}"))
        raise FeedError(_one_line(f"malformed feed: {parsed.get('bozo_exception')}"))
    if not version and not entries:
        raise FeedError("not a feed")
    if parsed.get("bozo"):
        log.warning("feed %s has errors, read anyway: %s", feed_url, parsed.get("bozo_exception"))
    feed_title = _clean(parsed.get("feed", {}).get("title")) or None
    return [_entry(raw, feed_url, feed_title) for raw in entries]


def _entry(raw: Any, feed_url: str, feed_title: str | None) -> FeedEntry:
    contents = raw.get("content") or []
    content = "\n\n".join(t for t in (html_to_text(c.get("value", "")) for c in contents) if t)
    summary = html_to_text(raw.get("summary") or "")
    return FeedEntry(
        id=_clean(raw.get("id")) or None,
        link=_clean(raw.get("link")) or None,
        title=_clean(html_to_text(raw.get("title") or "")),
        summary=summary,
        content=content,
        published=_when(raw),
        author=_clean(raw.get("author")) or None,
        feed_url=feed_url,
        feed_title=feed_title,
    )


def _when(raw: Any) -> datetime | None:
    # feedparser normalises every date format it knows to a UTC struct_time.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def short_id(key: str) -> str:
    """Stable 16-hex-digit id (sha256), the same on every run and machine."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def entry_doc_id(entry: FeedEntry) -> str:
    """A short id, stable across runs and machines, from the entry's guid or link."""
    return short_id(entry.id or entry.link or f"{entry.feed_url}\n{entry.title}\n{entry.published}")


def entry_document(entry: FeedEntry, origin: str,
                   fetched_at: datetime | None = None) -> RawDocument | Failure:
    """The document a feed entry stands for, from the feed alone.

    When the feed has only a summary, that summary is the text and ``url`` is
    set so a caller with a fetcher can read the page instead (sources.py).
    """
    if not entry.text:
        return Failure(input=entry.link or origin, step="read",
                       reason="feed entry has no content or summary")
    return RawDocument(
        doc_id=entry_doc_id(entry), title=entry.title, text=entry.text, url=entry.link,
        published=entry.published, source=entry.feed_title, author=entry.author,
        feed_url=entry.feed_url, fetched_at=fetched_at, origin=origin)


# --- OPML --------------------------------------------------------------------

def parse_opml(data: bytes) -> list[FeedRef]:
    """Every ``outline`` with an ``xmlUrl``, nested categories included, in order."""
    _refuse_entities(data)
    try:
        root = defusedxml.ElementTree.fromstring(data, forbid_dtd=False, forbid_entities=True,
                                                 forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise FeedError(f"refused: {type(exc).__name__}") from exc
    except ET.ParseError as exc:
        raise FeedError(f"not valid XML: {exc}") from exc
    if root.tag.lower() != "opml":
        raise FeedError(f"not an OPML document: root element <{root.tag}>")
    refs: list[FeedRef] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url and url not in seen:
            seen.add(url)
            title = outline.get("title") or outline.get("text")
            refs.append(FeedRef(url=url, title=title.strip() if title else None))
    return refs


def write_opml(feeds: Iterable[FeedRef], title: str = "newswatch feeds") -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.title or feed.url, "xmlUrl": feed.url}
        if feed.title:
            attrs["title"] = feed.title
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# --- HTML fragments to text ----------------------------------------------------

_BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
                     "blockquote", "pre", "table", "tr", "section", "article", "figure",
                     "figcaption", "header", "footer", "hr", "dd", "dt"})


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed summary), one blank line between blocks."""
    if not fragment or not fragment.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return _clean(re.sub(r"<[^>]*>", " ", fragment))
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCKS:
            el.text = "\n\n" + (el.text or "")
            el.tail = "\n\n" + (el.tail or "")
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", root.text_content()))
    return "\n\n".join(p for p in paragraphs if p)


def _clean(value: object) -> str:
    return " ".join(str(value).split()) if value else ""


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- what is this document? -----------------------------------------------------

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml",
                        "application/x-rss+xml", "application/x-atom+xml"})
OPML_TYPES = frozenset({"text/x-opml", "application/x-opml", "text/x-opml+xml"})
_PROLOG = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", re.DOTALL | re.IGNORECASE)
_FIRST_TAG = re.compile(rb"<([A-Za-z][\w:.-]*)")


def sniff_kind(data: bytes, content_type: str | None = None) -> str | None:
    """"feed", "opml" or "html" from the root element, else from the media type.

    The root element wins: servers label feeds text/html and pages text/xml.
    """
    head = data[:4096].replace(b"\x00", b"")  # UTF-16 to something regexable
    match = _FIRST_TAG.search(_PROLOG.sub(b"", head))
    root = match.group(1).lower().decode("ascii") if match else ""
    if root in ("rss", "feed", "rdf:rdf", "rdf"):
        return "feed"
    if root == "opml":
        return "opml"
    if root in ("html", "head", "body"):
        return "html"
    if content_type in FEED_TYPES:
        return "feed"
    if content_type in OPML_TYPES:
        return "opml"
    if content_type in ("text/html", "application/xhtml+xml"):
        return "html"
    return None
