from pipelines.dedup import deduplicate, signature
from pipelines.normalize import normalize


def test_a_wire_story_republished_with_other_spellings_becomes_one_story(seed_documents):
    stories = deduplicate(normalize(d) for d in seed_documents)
    by_docs = {tuple(s.doc_ids) for s in stories}
    assert ("000_92cbca79a50a440a", "003_54d82472ffa95672") in by_docs
    assert len(stories) == 4
    wire = next(s for s in stories if len(s.doc_ids) == 2)
    assert {c.name for c in wire.copies} == {"Middle East Eye", "Arab News"}


def test_different_stories_of_the_same_outlet_stay_apart(seed_documents):
    stories = deduplicate(normalize(d) for d in seed_documents)
    assert all(len(s.doc_ids) == 1 for s in stories if "000_92cbca79a50a440a" not in s.doc_ids)


def test_the_result_does_not_depend_on_arrival_order(seed_documents):
    articles = [normalize(d) for d in seed_documents]
    assert deduplicate(articles) == deduplicate(reversed(articles))


def test_the_same_page_read_twice_is_one_story(seed_documents):
    article = normalize(seed_documents[1])
    again = article.model_copy(update={"doc_ids": ["other"], "copies": [
        article.copies[0].model_copy(update={"doc_id": "other"})]})
    [story] = deduplicate([article, again])
    assert story.doc_ids == sorted([seed_documents[1].doc_id, "other"])


def test_a_text_seen_before_keeps_its_signature(seed_documents):
    # The embedded service computes signatures while pages are read; Deduplicate finds them.
    first, again = normalize(seed_documents[0]), normalize(seed_documents[0])
    assert signature(first) is signature(again)
    assert signature(first) is not signature(normalize(seed_documents[1]))
