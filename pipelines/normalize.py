"""Normalise a raw input item into a clean Article: pure, no I/O.

What happens here and why:
- boilerplate lines that survive extraction (navigation, newsletter boxes,
  syndication notices, comment policies) are removed, using the patterns in
  ``data/boilerplate.yaml``; a title that is itself boilerplate ("Skip to main
  content" as line 1 of a saved page) gives way to the first real line;
- text is NFC-normalised and whitespace folded, paragraphs kept;
- a missing publication date is taken from a bare date line near the top
  (Rudaw prints "15-08-2017" under the headline);
- the URL is canonicalised with courlan (tracking parameters, case, fragments)
  and the article id derived from it, so the same page fetched twice or through
  a feed and a file gets the same id.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources

import yaml
from courlan import normalize_url

from schemas import Article, RawDocument, SourceRef

# Dates are only taken from the first lines, where sites print them; a date
# deeper in the text is usually the date of something the article reports.
DATE_LINE_WINDOW = 6
TAIL_FRACTION = 2 / 3


class NormalizeError(ValueError):
    """The item cannot become an article (no text left, unusable fields)."""


@dataclass(frozen=True)
class Boilerplate:
    line: tuple[re.Pattern[str], ...]
    tail: tuple[re.Pattern[str], ...]

    def is_line(self, text: str) -> bool:
        return any(p.fullmatch(text) for p in self.line)

    def starts_tail(self, text: str) -> bool:
        return any(p.fullmatch(text) for p in self.tail)


@cache
def default_boilerplate() -> Boilerplate:
    source = resources.files("pipelines") / "data" / "boilerplate.yaml"
    return load_boilerplate(source.read_text(encoding="utf-8"), str(source))


def load_boilerplate(text: str, name: str) -> Boilerplate:
    """Parse a boilerplate pattern file; errors name the file and entry."""
    data = yaml.safe_load(text) or {}
    compiled: dict[str, tuple[re.Pattern[str], ...]] = {}
    for section in ("line", "tail"):
        patterns = []
        for index, entry in enumerate(data.get(section) or []):
            try:
                patterns.append(re.compile(entry["pattern"], re.IGNORECASE))
            except (KeyError, TypeError, re.error) as exc:
                raise ValueError(f"{name}: {section}[{index}]: bad pattern: {exc}") from exc
        compiled[section] = tuple(patterns)
    return Boilerplate(line=compiled["line"], tail=compiled["tail"])


_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_DATE_LINE = [
    (re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})"), ("day", "month", "year")),
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), ("year", "month", "day")),
]


def clean_lines(text: str) -> list[str]:
    """NFC, folded spaces, stripped lines; blank lines kept as paragraph marks."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return [_SPACE.sub(" ", line).strip() for line in text.split("\n")]


def strip_boilerplate(lines: list[str], rules: Boilerplate) -> list[str]:
    """Drop boilerplate lines, and a trailing boilerplate block in the last third."""
    content = [i for i, line in enumerate(lines) if line]
    cut = len(lines)
    if content:
        tail_from = content[int(len(content) * (1 - TAIL_FRACTION))] if len(content) > 3 else len(lines)
        for i in content:
            if i >= tail_from and rules.starts_tail(lines[i]):
                cut = i
                break
    return [line for line in lines[:cut] if not (line and rules.is_line(line))]


def date_from_lines(lines: list[str]) -> datetime | None:
    """A bare, unambiguous date line among the first lines (e.g. '15-08-2017')."""
    for line in [line for line in lines if line][:DATE_LINE_WINDOW]:
        for pattern, order in _DATE_LINE:
            match = pattern.fullmatch(line)
            if not match:
                continue
            parts = dict(zip(order, map(int, match.groups()), strict=True))
            # 03-04-2017 could be March or April: no guess.
            if order[0] == "day" and parts["day"] <= 12 and parts["day"] != parts["month"]:
                continue
            try:
                return datetime(parts["year"], parts["month"], parts["day"], tzinfo=UTC)
            except ValueError:
                continue
    return None


def paragraphs(lines: list[str]) -> str:
    """Join lines into paragraphs separated by one blank line."""
    out: list[str] = []
    for line in lines:
        if line:
            out.append(line)
        elif out and out[-1]:
            out.append("")
    return "\n".join(out).strip()


def canonical_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return normalize_url(url, strict=True)
    except ValueError:
        return None


def stable_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def article_id(canonical: str | None, title: str, text: str) -> str:
    """From the canonical URL when there is one, else from the content."""
    if canonical:
        return "a" + stable_id("url", canonical)
    return "a" + stable_id("text", title.casefold(), " ".join(text.split()).casefold())


def normalize(raw: RawDocument, rules: Boilerplate | None = None) -> Article:
    """One raw item to one clean Article; NormalizeError if nothing is left."""
    rules = rules or default_boilerplate()
    title_lines = [line for line in clean_lines(raw.title) if line]
    body = clean_lines(raw.text)
    published = raw.published or date_from_lines(body)
    kept = strip_boilerplate(body, rules)
    title = " ".join(line for line in title_lines if not rules.is_line(line))
    content = [i for i, line in enumerate(kept) if line]
    if not title and len(content) > 1:
        # The saved title was site furniture: the headline is the first real line. A
        # one-paragraph brief keeps its paragraph as the text (and no title).
        title, kept = kept[content[0]], kept[content[0] + 1:]
    text = paragraphs(kept)
    if not text:
        raise NormalizeError("no article text after removing boilerplate")
    canonical = canonical_url(raw.url)
    copy = SourceRef(doc_id=raw.doc_id, name=raw.source, url=raw.url, published=published)
    return Article(
        id=article_id(canonical, title, text),
        doc_ids=[raw.doc_id],
        title=title,
        text=text,
        url=raw.url,
        canonical_url=canonical,
        published=published,
        source=raw.source,
        author=raw.author,
        language=raw.language,
        feed_url=raw.feed_url,
        fetched_at=raw.fetched_at,
        copies=[copy],
    )
