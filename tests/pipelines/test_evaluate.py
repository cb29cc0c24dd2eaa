"""Scoring against gold labels: alerts per article, the captured place, type and actor."""

import json

import pytest

from pipelines.actors import default_actors
from pipelines.evaluate import GoldArticle, Prediction, agreement, parse_gold, score
from tests.factories import event

GOLD = [
    {"id": "pos", "capture": True, "split": "dev", "category": "positive",
     "captures": [{"place": "al-Sukhna", "place_alt": [], "country": "SY", "captor": "Syrian army",
                   "sub_event_type": "Government regains territory"}]},
    {"id": "neg", "capture": False, "split": "heldout", "category": "hard_negative", "captures": []},
]


def gold():
    return parse_gold(json.dumps(g) for g in GOLD)


def test_a_right_alert_place_type_and_actor_score_one():
    syrian_army = default_actors().find("Syrian army", "SY")[0].actor
    found = event(location="As Sukhnah", actor1=syrian_army.name).model_copy(
        update={"actor1_id": syrian_army.entity_id})
    report = score(gold(), {"pos": Prediction((found,), alerted=True)})
    assert (report.alert.tp, report.alert.fp, report.alert.fn) == (1, 0, 0)
    assert report.place.recall == 1.0 and report.type.precision == 1.0 and report.actor.recall == 1.0
    assert report.errors == []


def test_an_alert_on_a_hard_negative_is_a_false_positive_and_listed():
    report = score(gold(), {"pos": Prediction((), alerted=False), "neg": Prediction((event(),), alerted=True)})
    assert (report.alert.tp, report.alert.fp, report.alert.fn) == (0, 1, 1)
    assert report.alert.precision == 0.0 and report.alert.recall == 0.0
    assert any(e.startswith("neg: alert FP") for e in report.errors)
    assert any(e.startswith("pos: alert FN") for e in report.errors)


def test_a_gold_captor_named_as_a_countrys_forces_is_that_states_forces():
    syrian_army = default_actors().find("Syrian army", "SY")[0].actor
    found = event(location="As Sukhnah", actor1=syrian_army.name).model_copy(
        update={"actor1_id": syrian_army.entity_id})
    labels = [dict(GOLD[0], captures=[dict(GOLD[0]["captures"][0], captor=captor)])
              for captor in ("Syria's army", "Iraq's army")]
    right, wrong = (score(parse_gold([json.dumps(g)]), {"pos": Prediction((found,), alerted=True)}) for g in labels)
    assert right.actor.tp == 1 and wrong.actor.tp == 0


def test_a_gold_article_whose_text_was_not_read_is_listed_not_scored_as_a_miss():
    # Read, but nothing found: a miss. Not read at all (its text missing from the inputs): a gap.
    report = score(gold(), {"neg": Prediction((), alerted=False)}, read={"neg"})
    assert report.articles == 1 and report.unread == ["pos"]
    assert (report.alert.tp, report.alert.fp, report.alert.fn) == (0, 0, 0)
    assert report.lines()[1] == "not scored: 1 gold article(s) with no text in the inputs: pos"
    missed = score(gold(), {"neg": Prediction((), alerted=False)}, read={"pos", "neg"})
    assert missed.alert.fn == 1 and missed.unread == []


def test_a_capture_in_another_country_is_not_the_gold_place():
    report = score(gold(), {"pos": Prediction((event(location="As Sukhnah", country_code="IQ"),), alerted=True)})
    assert report.place.tp == 0 and report.place.fn == 1 and report.place.fp == 1


def test_a_gazetteer_name_with_a_generic_town_word_is_the_gold_town():
    # GeoNames: "Sukhnah Town"; the annotator: "al-Sukhna". Not a different town of the same root.
    report = score(gold(), {"pos": Prediction((event(location="Sukhnah Town", country_code="SY"),), alerted=True)})
    assert report.place.tp == 1
    report = score(gold(), {"pos": Prediction((event(location="Sukhnah Towns", country_code="SY"),), alerted=True)})
    assert report.place.tp == 0


def test_background_or_hypothetical_events_are_not_counted_as_captured_places():
    report = score(gold(), {"neg": Prediction((event(modality="background"), event("e2", modality="hypothetical")),
                                              alerted=False)})
    assert report.place.fp == 0


def test_a_malformed_gold_line_names_the_file_and_line():
    with pytest.raises(ValueError, match=r"g.jsonl:2: not a gold record"):
        parse_gold(['{"id": "a", "capture": false}', '{"capture": true}'], "g.jsonl")


def _labels(*rows: tuple[str, bool, list[tuple[str, str, str]]]) -> list[GoldArticle]:
    return parse_gold([json.dumps({"id": i, "capture": c, "captures": [
        {"place": p, "country": cc, "captor": None, "sub_event_type": t} for p, cc, t in caps]}) for i, c, caps in rows])


def test_two_annotators_agree_on_articles_places_and_types_by_spelling_not_by_letter():
    first = _labels(("a", True, [("Deir ez-Zor", "SY", "Government regains territory")]), ("b", False, []))
    second = _labels(("a", True, [("Deir Ezzor", "SY", "Government regains territory")]), ("b", False, []))
    assert agreement(first, second)[1:] == [
        "capture  agree=2/2 (1.000) kappa=1.000", "places   first=1 second=1 same=1", "type     same=1/1"]


def test_annotators_who_disagree_no_better_than_chance_have_kappa_zero_and_other_countries_differ():
    first = _labels(("a", True, [("Palmyra", "SY", "x")]), ("b", True, []), ("c", False, []), ("d", False, []))
    second = _labels(("a", True, [("Palmyra", "IQ", "x")]), ("b", False, []), ("c", True, []), ("d", False, []))
    lines = agreement(first, second)
    assert lines[1] == "capture  agree=2/4 (0.500) kappa=0.000"
    assert lines[2] == "places   first=1 second=1 same=0"
