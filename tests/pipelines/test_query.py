import pytest

from pipelines.query import QueryError, event_document, parse_query
from tests.factories import event

DOC = event_document(event("e1", fatalities=30))  # notes "Report e1.", As Sukhnah, Syria


@pytest.mark.parametrize("query, terms", [
    ("report", ["text:report"]),
    ('place:"As Sukhnah" AND fatalities:>=25', ['place:"As Sukhnah"', "fatalities:>=25"]),
    ('actor:("Islamic State" OR ISIS)', ['actor:"Islamic State"']),
    ("place:As*", ["place:As*"]),
    ("country:SY AND NOT modality:claimed", ["country:SY"]),
    ("fatalities:[25 TO 30]", ["fatalities:[25 TO 30]"]),
    ("report e1", ["text:report", "text:e1"]),  # side by side means AND
])
def test_a_matching_query_says_which_terms_matched(query, terms):
    assert parse_query(query).match(DOC) == (True, terms)


@pytest.mark.parametrize("query", [
    "sukhna", "report AND -e1", "fatalities:[31 TO *]", "sources:>=2", "event_type:battles",
    "report missing",
])
def test_a_query_that_does_not_hold_does_not_match(query):
    assert parse_query(query).match(DOC) == (False, [])


@pytest.mark.parametrize("query, message", [
    ("foo:bar", "unknown field 'foo' for event rules"),
    ("title:x", "unknown field 'title' for event rules"),
    ("text:[1 TO 2]", "ranges need a number field"),
    ("fatalities:many", "'many' is not a number"),
    ("sarin~2", "fuzzy and proximity"),
    ("(a", "not valid Lucene syntax"),
])
def test_a_bad_query_is_refused_with_the_reason(query, message):
    with pytest.raises(QueryError, match=message):
        parse_query(query)


def test_the_elasticsearch_query_maps_our_fields_to_the_stored_ones():
    query = parse_query('place:"As Sukhnah" AND fatalities:>=25 AND town AND -modality:denied')
    assert query.to_elasticsearch() == {"bool": {"must": [
        {"term": {"location": {"value": "As Sukhnah"}}},
        {"range": {"fatalities": {"gte": "25"}}},
        {"match": {"notes": {"query": "town", "zero_terms_query": "all"}}},
        {"bool": {"must_not": [{"term": {"modality": {"value": "denied"}}}]}},
    ]}}


def test_an_article_query_searches_title_and_text_and_nested_entities():
    query = parse_query('sarin AND actor:"Islamic State"', "article")
    assert query.to_elasticsearch() == {"bool": {"must": [
        {"bool": {"should": [
            {"match": {"title": {"query": "sarin", "zero_terms_query": "none"}}},
            {"match": {"text": {"query": "sarin", "zero_terms_query": "none"}}}]}},
        {"bool": {"should": [
            {"nested": {"path": "entities", "query": {"term": {"entities.name": {"value": "Islamic State"}}}}},
            {"nested": {"path": "entities",
                        "query": {"term": {"entities.mentions": {"value": "Islamic State"}}}}}]}},
    ]}}
