from datetime import date

from pipelines.cluster import cluster_events
from tests.factories import event


def test_two_outlets_reporting_one_capture_become_one_event_with_both_sources():
    [merged] = cluster_events([event("e1", doc="001", outlet="Middle East Eye"),
                               event("e2", doc="004", outlet="Rudaw", event_date=date(2017, 8, 13))])
    assert merged.doc_ids == ["001", "004"]
    assert merged.independent_sources == 2
    assert merged.source == "Middle East Eye; Rudaw"
    assert merged.event_date == date(2017, 8, 12)


def test_the_cluster_id_does_not_depend_on_arrival_order():
    a, b = event("e1", doc="001"), event("e2", doc="004")
    assert cluster_events([a, b])[0].cluster_id == cluster_events([b, a])[0].cluster_id


def test_captures_of_the_same_town_weeks_apart_are_two_events():
    merged = cluster_events([event("e1", doc="1", event_date=date(2017, 3, 2)),
                             event("e2", doc="2", event_date=date(2017, 8, 12))])
    assert len(merged) == 2
    assert merged[0].cluster_id != merged[1].cluster_id


def test_a_report_without_a_date_joins_the_event_it_names():
    merged = cluster_events([event("e1", doc="1"), event("e2", doc="2", event_date=None)])
    assert [m.doc_ids for m in merged] == [["1", "2"]]


def test_a_background_mention_never_joins_or_reopens_the_event():
    merged = cluster_events([event("e1", doc="001"), event("e2", doc="002", modality="background")])
    news = [m for m in merged if m.modality == "asserted"]
    assert [m.doc_ids for m in news] == [["001"]]
    assert len(merged) == 2


def test_different_places_or_types_stay_apart():
    merged = cluster_events([event("e1", doc="1"), event("e2", doc="2", geonames_id=1, location="X"),
                             event("e3", doc="3", sub_event_type="Armed clash")])
    assert len(merged) == 3


def test_the_strongest_statement_and_highest_fatality_count_stand_for_the_event():
    [merged] = cluster_events([event("e1", doc="1", modality="claimed", fatalities=3),
                               event("e2", doc="2", modality="asserted", fatalities=7)])
    assert merged.modality == "asserted"
    assert merged.fatalities == 7


def test_positions_taken_near_a_town_are_not_the_capture_of_the_town():
    merged = cluster_events([event("e1", doc="001"), event("e2", doc="000", populated_place=False)])
    assert sorted(m.doc_ids for m in merged) == [["000"], ["001"]]
