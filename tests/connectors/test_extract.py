"""connectors.extract: an article out of a realistic page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.extract import ExtractionError, extract_page
from tests.connectors.pages import article_page, longest_paragraph, seeds


@pytest.mark.parametrize("seed", seeds(), ids=lambda s: s.doc_id)
def test_seed_pages_give_the_article_without_site_furniture(seed):
    page = extract_page(article_page(seed), "https://example.com/news/1")
    assert page.title == seed.headline
    assert longest_paragraph(seed) in page.text
    assert not page.text.startswith(seed.headline)  # the title is not repeated in the text
    for furniture in ("Most read", "All rights reserved", "Privacy policy", "Opinion", "Celebrity chef"):
        assert furniture not in page.text
    assert page.published == datetime(2017, 8, 12, 10, 30, tzinfo=timezone(timedelta(hours=3)))
    assert (page.language, page.site_name, page.author) == ("en", "Example News", "Staff Reporter")


def test_a_date_without_offset_is_taken_as_utc():
    seed = seeds()[4]
    page = extract_page(article_page(seed, published="2017-08-15"), None)
    assert page.published == datetime(2017, 8, 15, tzinfo=UTC)
    assert page.published.tzinfo is not None


@pytest.mark.parametrize(("html", "reason"), [
    ("", "empty page"),
    ("<html><body><nav><a href='/'>Home</a><a href='/news'>News</a></nav>"
     "<footer>All rights reserved</footer></body></html>", "no article text found"),
])
def test_pages_without_an_article(html, reason):
    with pytest.raises(ExtractionError) as info:
        extract_page(html, "https://example.com/")
    assert info.value.reason == reason
