from datetime import UTC, datetime

import pytest

from pipelines.normalize import NormalizeError, article_id, canonical_url, normalize
from schemas import RawDocument


def raw(title: str, text: str, **kw) -> RawDocument:
    return RawDocument(doc_id=kw.pop("doc_id", "d1"), title=title, text=text, origin="test", **kw)


def test_site_furniture_is_removed_from_the_seeds(seed_documents):
    for doc in seed_documents:
        article = normalize(doc)
        for furniture in ("Skip to main content", "To learn more about republishing",
                          "Sign up to get the latest", "moderates all comments", "Post a comment",
                          "Last updated", "A+ A-"):
            assert furniture not in article.text, (doc.doc_id, furniture)
            assert furniture not in article.title


def test_a_boilerplate_first_line_gives_way_to_the_headline(seed_documents):
    article = normalize(next(d for d in seed_documents if d.doc_id.startswith("000")))
    assert article.title == "Syrian army advances in Homs with eyes on IS-held Deir Ezzor"
    assert article.text.startswith("Deir Ezzor and the encircled Raqqa")


def test_a_comment_section_at_the_end_is_cut_with_everything_after_it(seed_documents):
    article = normalize(next(d for d in seed_documents if d.doc_id.startswith("004")))
    assert article.text.endswith("east of Deir ez-Zor.")


def test_the_word_comments_early_in_an_article_does_not_truncate_it():
    text = "Comments\n" + "\n".join(f"Paragraph {i} of the story." for i in range(10))
    assert normalize(raw("Headline", text)).text.endswith("Paragraph 9 of the story.")


def test_a_bare_date_line_under_the_headline_becomes_the_publication_date(seed_documents):
    article = normalize(next(d for d in seed_documents if d.doc_id.startswith("004")))
    assert article.published == datetime(2017, 8, 15, tzinfo=UTC)


def test_an_ambiguous_date_line_is_not_guessed():
    assert normalize(raw("Headline", "03-04-2017\nBody text here.")).published is None


def test_an_article_with_only_boilerplate_is_an_error():
    with pytest.raises(NormalizeError, match="no article text"):
        normalize(raw("Skip to main content", "Post a comment\n\nRequired\n"))


def test_without_a_title_the_first_line_is_the_headline():
    article = normalize(raw("", "Rebels take a town\n\nRebels took the town on Monday, officials said."))
    assert (article.title, article.text) == ("Rebels take a town", "Rebels took the town on Monday, officials said.")


def test_a_one_paragraph_brief_without_a_title_keeps_its_paragraph_as_text():
    article = normalize(raw("Skip to main content", "Troops retook the town of Example on Tuesday, commanders said.\n"))
    assert article.text == "Troops retook the town of Example on Tuesday, commanders said."
    assert article.title == ""


def test_tracking_parameters_and_fragments_do_not_change_the_id():
    a = normalize(raw("T", "Body.", url="https://www.example.com/news/1?utm_source=rss#top"))
    b = normalize(raw("T", "Body.", url="https://www.example.com/news/1", doc_id="d2"))
    assert a.canonical_url == canonical_url("https://www.example.com/news/1") == b.canonical_url
    assert a.id == b.id


def test_without_a_url_the_id_comes_from_the_content():
    assert article_id(None, "T", "Some  text") == article_id(None, "t", "some text")
    assert article_id(None, "T", "Some text") != article_id(None, "T", "Other text")


def test_every_article_keeps_its_input_id_and_outlet(seed_documents):
    article = normalize(seed_documents[3])
    assert article.doc_ids == [seed_documents[3].doc_id]
    assert article.copies[0].name == "Arab News"
