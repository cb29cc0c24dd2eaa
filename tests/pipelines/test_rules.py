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
