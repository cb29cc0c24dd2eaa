from datetime import UTC, datetime

import pytest

from pipelines.cluster import cluster_events
from pipelines.rules import RuleError, default_rules, load_rules, match_event
from tests.factories import event

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def rule_ids(ev):
    return [a.rule_id for a in match_event(default_rules(), ev, NOW)]


def test_the_default_pack_has_the_town_capture_rule():
    assert "town-captured" in {r.id for r in default_rules()}


def test_a_reported_capture_of_a_town_raises_town_captured_with_reasons():
    [ev] = cluster_events([event("e1")])
    [alert] = match_event(default_rules(), ev, NOW)
    assert alert.rule_id == "town-captured"
    assert "populated_place=True" in alert.reasons
    assert alert.doc_ids == ev.doc_ids
    assert alert.cluster_id == ev.cluster_id


@pytest.mark.parametrize("change", [
    {"modality": "hypothetical"}, {"modality": "background"}, {"modality": "denied"},
    {"populated_place": False}, {"sub_event_type": "Armed clash"},
])
def test_no_town_alert_for_what_is_not_a_reported_town_capture(change):
    assert "town-captured" not in rule_ids(event("e1", **change))


def test_a_claimed_capture_alerts_and_says_so():
    [alert] = match_event(default_rules(), event("e1", modality="claimed"), NOW)
    assert alert.claimed
    assert "claim" in alert.summary


def test_one_alert_id_per_rule_and_event_however_often_it_is_seen():
    [ev] = cluster_events([event("e1")])
    assert match_event(default_rules(), ev, NOW)[0].alert_id == match_event(default_rules(), ev)[0].alert_id


def test_major_attack_needs_the_fatality_threshold():
    attack = dict(event_type="Explosions/Remote violence", sub_event_type="Suicide bomb",
                  populated_place=False)
    assert "major-attack" not in rule_ids(event("e1", fatalities=23, **attack))
    assert "major-attack" in rule_ids(event("e1", fatalities=40, **attack))


def test_a_rule_error_names_the_file_the_rule_and_the_field():
    text = "rules:\n  - id: bad-rule\n    description: x\n    severity: huge\n    when: {}\n"
    with pytest.raises(RuleError, match=r"my\.yaml: rule bad-rule: severity"):
        load_rules(text, "my.yaml")


def test_an_unknown_condition_is_an_error_not_ignored():
    text = "rules:\n  - id: r\n    description: x\n    when: {min_source: 2}\n"
    with pytest.raises(RuleError, match=r"rule r: when\.min_source"):
        load_rules(text, "r.yaml")


def test_a_capture_of_unnamed_villages_is_an_event_but_not_a_town_alert():
    assert "town-captured" not in rule_ids(event("e1", geonames_id=None, location=None))


def test_a_rule_query_adds_the_matching_terms_to_the_reasons():
    [rule] = load_rules('rules:\n  - id: q\n    description: x\n    query: \'place:"As Sukhnah" AND report\'\n',
                        "q.yaml")
    [alert] = match_event([rule], event("e1"), NOW)
    assert alert.reasons == ["modality=asserted", 'query place:"As Sukhnah"', "query text:report"]
    assert match_event([rule], event("e1", location="Palmyra"), NOW) == []


def test_a_bad_query_names_the_file_the_rule_and_the_query():
    with pytest.raises(RuleError, match=r"q\.yaml: rule q: query: unknown field 'headline'"):
        load_rules("rules:\n  - id: q\n    description: x\n    query: 'headline:x'\n", "q.yaml")


def test_an_article_rule_refuses_event_conditions():
    text = "rules:\n  - id: k\n    description: x\n    kind: article\n    query: sarin\n    when: {min_fatalities: 3}\n"
    with pytest.raises(RuleError, match=r"rule k: when\.min_fatalities: not a condition for article rules"):
        load_rules(text, "k.yaml")


def test_distance_region_and_place_conditions():
    def fires(when: str) -> bool:
        [rule] = load_rules(f"rules:\n  - id: r\n    description: x\n    when: {when}\n", "r.yaml")
        return bool(match_event([rule], event("e1"), NOW))
    assert fires("{near: {lat: 34.73, lon: 36.71, km: 250}}")      # Homs city to As Sukhnah: ~200 km
    assert not fires("{near: {lat: 34.73, lon: 36.71, km: 100}}")
    assert fires("{region: homs, place: 'as sukhnah'}")
    assert not fires("{region: Aleppo}")


def test_the_keyword_rule_of_the_default_pack_matches_articles(seed_documents):
    from pipelines.normalize import normalize
    from pipelines.rules import match_article
    article = normalize(seed_documents[0])
    gassed = article.model_copy(update={"text": article.text + " Witnesses described a chemical attack."})
    assert [a.rule_id for a in match_article(default_rules(), gassed, NOW)] == ["chemical-weapons"]
    assert match_article(default_rules(), article, NOW) == []


def test_backfill_query_is_the_rule_query_plus_indexed_conditions():
    from datetime import date

    from pipelines.rules import backfill_query
    [rule] = load_rules("rules:\n  - id: b\n    description: x\n    query: 'actor:\"Islamic State\"'\n"
                        "    when: {event_type: Battles, min_fatalities: 25}\n", "b.yaml")
    since = {"gte": "2017-08-01"}
    assert backfill_query(rule, date(2017, 8, 1)) == {"bool": {
        "must": [{"bool": {"should": [{"term": {"actor1": {"value": "Islamic State"}}},
                                      {"term": {"actor2": {"value": "Islamic State"}}}]}}],
        "filter": [
            {"bool": {"minimum_should_match": 1, "should": [
                {"range": {"event_date": since}},
                {"bool": {"must_not": {"exists": {"field": "event_date"}},
                          "filter": {"range": {"published": since}}}}]}},
            {"terms": {"event_type": ["Battles"]}},
            {"terms": {"modality": ["asserted", "claimed"]}},
            {"range": {"fatalities": {"gte": 25}}},
        ]}}


def test_a_named_village_missing_from_geonames_still_raises_town_captured():
    assert "town-captured" in rule_ids(event("e1", geonames_id=None, location="Farabougou"))


def test_a_named_place_in_an_unknown_country_does_not():
    assert "town-captured" not in rule_ids(event("e1", geonames_id=None, location="X", country_code=None))
