"""connectors.files: local folders and files, every problem a Failure."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

from connectors.feeds import FeedRef, write_opml
from connectors.files import read_path
from schemas import Failure, RawDocument
from tests.connectors.pages import SEEDS, article_page, rss_feed, seeds


def test_seed_articles_are_read_with_their_stem_as_id():
    docs = list(read_path(SEEDS))
    assert [d.doc_id for d in docs] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert all(isinstance(d, RawDocument) for d in docs)
    rudaw = docs[4]
    assert rudaw.title == "Syrian army and backers fight into Deir ez-Zor from the south"
    assert rudaw.text.startswith("15-08-2017\nRudaw") and rudaw.origin.endswith(".txt")


def test_folders_are_walked_recursively_in_sorted_order_skipping_hidden(tmp_path):
    for name in ("b/2.txt", "a/z/1.txt", "a/0.txt", "c.txt", ".hidden/x.txt", ".DS_Store"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("Headline\n\nBody text.", encoding="utf-8")
    origins = [d.origin for d in read_path(tmp_path)]
    assert origins == [str(tmp_path / p) for p in ("a/0.txt", "a/z/1.txt", "b/2.txt", "c.txt")]


def test_jsonl_bad_lines_are_failures_and_the_others_go_on(tmp_path):
    path = tmp_path / "batch.jsonl"
    good = {"id": "r1", "url": "https://example.com/1", "title": "T", "text": "Body.",
            "published": "2017-08-15T09:00:00+02:00", "source": "Rudaw"}
    lines = [json.dumps(good), "{not json", json.dumps({"id": "r3", "title": "no text"}), "",
             json.dumps([1, 2]), json.dumps({"id": "r6", "text": "x", "published": "yesterday"}),
             json.dumps({"text": "no id"}), json.dumps({"id": 8, "text": "Naive date", "published": "2017-08-15"})]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(read_path(path))
    assert items[0] == RawDocument(doc_id="r1", title="T", text="Body.", url="https://example.com/1",
                                   published=datetime(2017, 8, 15, 7, tzinfo=UTC), source="Rudaw",
                                   origin=str(path))
    assert [f.line() for f in items[1:-1]] == [
        f"{path}:2: read: invalid JSON",
        f"{path}:3: read: missing text",
        f"{path}:5: read: not a JSON object",
        f"{path}:6: read: invalid published date: 'yesterday'",
        f"{path}:7: read: missing id",
    ]
    assert items[-1].doc_id == "8" and items[-1].published == datetime(2017, 8, 15, tzinfo=UTC)


def test_unreadable_inputs_are_failures_not_exceptions(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n\n", encoding="utf-8")
    (tmp_path / "headline.txt").write_text("Only a headline\n", encoding="utf-8")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "latin1.txt").write_bytes("Headline\nCafé".encode("latin-1"))
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "fine.txt").write_text("Headline\nBody.", encoding="utf-8")
    items = list(read_path(tmp_path)) + list(read_path(tmp_path / "missing"))
    assert [i.line() if isinstance(i, Failure) else i.doc_id for i in items] == [
        f"{tmp_path / 'empty.txt'}: read: empty article",
        "fine",
        f"{tmp_path / 'headline.txt'}: read: empty article (headline only)",
        f"{tmp_path / 'image.txt'}: read: binary file",
        f"{tmp_path / 'latin1.txt'}: read: not UTF-8 text (byte 0xe9 at offset 12)",
        f"{tmp_path / 'report.pdf'}: read: unsupported file type: .pdf",
        f"{tmp_path / 'missing'}: read: no such file or directory",
    ]


def test_html_file_goes_through_extraction(tmp_path):
    seed = seeds()[1]
    (tmp_path / "page.html").write_text(article_page(seed, site="Middle East Eye"), encoding="utf-8")
    (tmp_path / "menu.htm").write_text("<html><body><nav>Home</nav></body></html>", encoding="utf-8")
    menu, page = read_path(tmp_path)
    assert menu == Failure(input=str(tmp_path / "menu.htm"), step="extract", reason="no article text found")
    assert page.doc_id == "page" and page.title == seed.headline
    assert page.source == "Middle East Eye" and seed.paragraphs[0] in page.text


def test_feed_file_entries_keep_their_summary_and_url_unless_a_page_reader_is_given(tmp_path):
    path = tmp_path / "world.rss"
    path.write_bytes(rss_feed([("g1", "https://example.com/1", "One", "Summary one."),
                               ("g2", "https://example.com/2", "Two", "Summary two.")]))
    one, two = read_path(path)
    assert (one.url, one.text, one.title, one.source) == (
        "https://example.com/1", "Summary one.", "One", "Example News")
    assert one.published == datetime(2017, 8, 12, 7, 30, tzinfo=UTC) and one.doc_id != two.doc_id
    calls = []

    def read_page(entry, origin):
        calls.append((entry.link, origin))
        return Failure(input=entry.link, step="fetch", reason="HTTP 404")

    assert [i.reason for i in read_path(path, read_page=read_page)] == ["HTTP 404", "HTTP 404"]
    assert calls == [("https://example.com/1", str(path)), ("https://example.com/2", str(path))]


def test_bad_feed_and_opml_files(tmp_path):
    (tmp_path / "a.xml").write_bytes(b"<rss version='2.0'><channel><title>x</title")
    (tmp_path / "b.opml").write_bytes(write_opml([FeedRef("https://example.com/rss", "Ex")]))
    (tmp_path / "c.xml").write_bytes(write_opml([]))  # an OPML list under .xml, empty
    bad, ref, empty = read_path(tmp_path)
    assert bad.step == "parse" and bad.reason.startswith("malformed feed")
    assert ref == FeedRef("https://example.com/rss", "Ex")
    assert empty.line() == f"{tmp_path / 'c.xml'}: read: OPML file lists no feeds"


def test_a_single_seed_file(tmp_path):
    path = shutil.copy(SEEDS / "001_e72dd448992d5374.txt", tmp_path)
    [doc] = read_path(path)
    assert doc.doc_id == "001_e72dd448992d5374" and "al-Sukhna" in doc.text
