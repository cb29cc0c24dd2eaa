"""Local inputs: folders and files to ``RawDocument``, ``FeedRef`` or ``Failure``.

By extension:

- ``.txt``: one article, first non-blank line the headline, the rest the body;
  ``doc_id`` is the file stem. UTF-8 only.
- ``.jsonl``/``.ndjson``: one article per line (``id``, ``text`` required;
  ``url``, ``title``, ``published``, ``source``, ``author``, ``language``,
  ``feed_url`` optional). A bad line is its own failure, named ``file:line``.
- ``.html``/``.htm``/``.xhtml``: one article through ``connectors.extract``.
- ``.xml``/``.rss``/``.atom``/``.rdf``: a feed (one document per entry) or, if its
  root is ``<opml>``, a feed list; ``.opml``: a feed list (one ``FeedRef`` each).

Anything else is reported as a failure "unsupported file type", never silently
dropped; hidden files and folders (".git", ".DS_Store") are skipped. Folders are
walked recursively, in sorted path order, without following symlinked folders.
Nothing here raises for a bad file, and nothing touches the network: a feed
entry with only a summary becomes a document with that summary as text unless a
``read_page`` callable is given (``sources.read_inputs`` passes one).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from connectors.extract import ExtractionError, extract_page
from connectors.feeds import FeedEntry, FeedError, FeedRef, entry_document, parse_feed, \
    parse_opml, sniff_kind
from connectors.http import decode_text
from schemas import Failure, RawDocument

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024  # one article or feed; JSONL is streamed, not capped
TEXT_SUFFIXES = frozenset({".txt"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".rdf"})
OPML_SUFFIXES = frozenset({".opml"})

Item = RawDocument | FeedRef | Failure
PageReader = Callable[[FeedEntry, str], RawDocument | Failure]


def read_path(path: str | os.PathLike[str], *,
              read_page: PageReader | None = None) -> Iterator[Item]:
    """Every item under ``path`` (a file or a folder), failures included."""
    root = Path(path)
    try:
        is_dir = root.is_dir()
        exists = is_dir or root.exists()
    except OSError as exc:
        yield _failure(root, _os_reason(exc))
        return
    if not exists:
        yield _failure(root, "no such file or directory")
        return
    if not is_dir:
        yield from read_file(root, read_page=read_page)
        return
    for file in iter_files(root):
        yield from read_file(file, read_page=read_page)


def iter_files(root: Path) -> Iterator[Path]:
    """Non-hidden files under ``root``, sorted by path, symlinked folders not followed."""
    found: list[Path] = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found.extend(Path(folder, f) for f in filenames if not f.startswith("."))
    return iter(sorted(found, key=lambda p: p.relative_to(root).parts))


def read_file(path: Path, *, read_page: PageReader | None = None) -> Iterator[Item]:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from read_jsonl(path)
        return
    if suffix not in TEXT_SUFFIXES | HTML_SUFFIXES | FEED_SUFFIXES | OPML_SUFFIXES:
        yield _failure(path, f"unsupported file type: {suffix or '(no extension)'}")
        return
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            yield _failure(path, f"file larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
            return
        data = path.read_bytes()
    except OSError as exc:
        yield _failure(path, _os_reason(exc))
        return
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        yield _failure(path, "binary file")
        return
    if suffix in TEXT_SUFFIXES:
        yield read_text_article(data, path)
    elif suffix in HTML_SUFFIXES:
        yield read_html(data, path)
    elif suffix in OPML_SUFFIXES or sniff_kind(data) == "opml":
        yield from _read_opml(data, path)
    else:
        yield from _read_feed(data, path, read_page)


def read_text_article(data: bytes, path: Path) -> RawDocument | Failure:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _failure(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})")
    lines = text.strip().splitlines()
    if not lines:
        return _failure(path, "empty article")
    body = "\n".join(lines[1:]).strip()
    if not body:
        return _failure(path, "empty article (headline only)")
    return RawDocument(doc_id=path.stem, title=lines[0].strip(), text=body, origin=str(path))


def read_html(data: bytes, path: Path) -> RawDocument | Failure:
    try:
        page = extract_page(decode_text(data), None)
    except ExtractionError as exc:
        return Failure(input=str(path), step="extract", reason=exc.reason)
    return RawDocument(doc_id=path.stem, title=page.title, text=page.text, url=page.url,
                       published=page.published, source=page.site_name, author=page.author,
                       language=page.language, origin=str(path))


def _read_feed(data: bytes, path: Path, read_page: PageReader | None) -> Iterator[Item]:
    try:
        entries = parse_feed(data, path.resolve().as_uri())
    except FeedError as exc:
        yield Failure(input=str(path), step="parse", reason=exc.reason)
        return
    for entry in entries:
        if read_page is not None and entry.link and not entry.content:
            yield read_page(entry, str(path))
        else:
            yield entry_document(entry, str(path))


def _read_opml(data: bytes, path: Path) -> Iterator[Item]:
    try:
        refs = parse_opml(data)
    except FeedError as exc:
        yield Failure(input=str(path), step="parse", reason=exc.reason)
        return
    if not refs:
        yield _failure(path, "OPML file lists no feeds")
    yield from refs


# --- JSONL -------------------------------------------------------------------

_OPTIONAL = ("url", "title", "source", "author", "language", "feed_url")


def read_jsonl(path: Path) -> Iterator[RawDocument | Failure]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield _failure(path, _os_reason(exc))
        return
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                if raw.strip():
                    yield parse_jsonl_line(raw, f"{path}:{number}", str(path))
        except OSError as exc:
            yield _failure(path, _os_reason(exc))


def parse_jsonl_line(raw: bytes, where: str, origin: str) -> RawDocument | Failure:
    """One JSONL line to a document; ``where`` ("file.jsonl:17") names the failure."""
    def fail(reason: str) -> Failure:
        return Failure(input=where, step="read", reason=reason)

    try:
        record = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return fail("not UTF-8 text")
    except ValueError:
        return fail("invalid JSON")
    if not isinstance(record, dict):
        return fail("not a JSON object")
    doc_id = record.get("id")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        return fail("missing id")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        return fail("missing text")
    fields: dict[str, str | None] = {}
    for name in _OPTIONAL:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            return fail(f"{name} is not a string")
        fields[name] = value or None
    published = record.get("published")
    when = None
    if published is not None:
        when = parse_published(published)
        if when is None:
            return fail(f"invalid published date: {str(published)[:40]!r}")
    return RawDocument(doc_id=doc_id.strip(), text=text.strip(), title=(fields.pop("title") or ""),
                       published=when, origin=origin, **fields)


def parse_published(value: object) -> datetime | None:
    """ISO 8601 date or date-time; naive values are taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _failure(path: Path, reason: str) -> Failure:
    return Failure(input=str(path), step="read", reason=reason)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return f"cannot read: {exc.strerror or exc}"
