"""Article text and metadata from an HTML page, with trafilatura. Pure: a string in.

trafilatura's own downloader is never used (it keeps a global pool and turns
TLS checks off as a fallback); pages come from ``connectors.http.Fetcher`` or
from files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import trafilatura
from trafilatura.utils import load_html

log = logging.getLogger(__name__)

# htmldate's default output is a bare day; asking for the time and offset keeps
# "10:30+03:00" when the page states it.
_DATE_PARAMS = {"original_date": True, "extensive_search": True,
                "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


class ExtractionError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ExtractedPage:
    title: str
    text: str
    author: str | None
    published: datetime | None  # timezone-aware; UTC when the page gives no offset
    language: str | None  # from <html lang> when trafilatura has no language detector
    site_name: str | None
    url: str | None  # the page's canonical URL when it states one, else the URL given


# trafilatura's fallback returns whatever text a page has, a menu included;
# less than this is not an article (a short news brief is still ~300 characters).
MIN_TEXT_CHARS = 100


def extract_page(html: str, url: str | None = None, min_chars: int = MIN_TEXT_CHARS) -> ExtractedPage:
    """Main text and metadata of an article page; ``ExtractionError`` if there is none."""
    if not html.strip():
        raise ExtractionError("empty page")
    tree = load_html(html)
    if tree is None:
        raise ExtractionError("not an HTML document")
    language = _lang(tree.get("lang") or tree.get("xml:lang"))
    doc = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, include_tables=False,
        date_extraction_params=_DATE_PARAMS)
    if doc is None or isinstance(doc, dict) or not (doc.text or "").strip():
        raise ExtractionError("no article text found")
    title = (doc.title or "").strip()
    text = _strip_title(doc.text.strip(), title)
    if len(text) < min_chars:
        raise ExtractionError("no article text found")
    return ExtractedPage(
        title=title, text=text, author=(doc.author or None), published=_date(doc.date),
        language=_lang(getattr(doc, "language", None)) or language,
        site_name=(doc.sitename or None), url=(doc.url or url))


def _strip_title(text: str, title: str) -> str:
    # trafilatura keeps the <h1> as the first line of the text; the title is
    # carried separately, and keeping it twice would skew downstream counts.
    first, _, rest = text.partition("\n")
    if title and first.strip() == title:
        return rest.strip()
    return text


def _lang(value: str | None) -> str | None:
    if not value:
        return None
    primary = value.strip().split("-")[0].split("_")[0].lower()
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        log.debug("unparseable page date %s", value)
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
