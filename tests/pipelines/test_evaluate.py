"""Scoring against gold labels: alerts per article, the captured place, type and actor."""

import json

import pytest

from pipelines.actors import default_actors
from pipelines.evaluate import Prediction, parse_gold, score
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


def test_a_capture_in_another_country_is_not_the_gold_place():
    report = score(gold(), {"pos": Prediction((event(location="As Sukhnah", country_code="IQ"),), alerted=True)})
    assert report.place.tp == 0 and report.place.fn == 1 and report.place.fp == 1


def test_background_or_hypothetical_events_are_not_counted_as_captured_places():
    report = score(gold(), {"neg": Prediction((event(modality="background"), event("e2", modality="hypothetical")),
                                              alerted=False)})
    assert report.place.fp == 0


def test_a_malformed_gold_line_names_the_file_and_line():
    with pytest.raises(ValueError, match=r"g.jsonl:2: not a gold record"):
        parse_gold(['{"id": "a", "capture": false}', '{"capture": true}'], "g.jsonl")
