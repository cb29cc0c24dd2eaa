"""OffsetLedger: which offsets the streaming job may commit, from reads,
expectations and writers' acknowledgements, in whatever order they arrive."""

from connectors.kafka_sinks import OffsetLedger

TP = ("articles", 0)


def ledger_with_two_records() -> OffsetLedger:
    ledger = OffsetLedger()
    ledger.read("articles", 0, 10, ("rec-10", "d1", "https://a.example/1"))
    ledger.read("articles", 0, 11, ("rec-11", "d2", "https://a.example/2"))
    return ledger


def test_nothing_is_committed_before_the_analysis_of_a_record_is_known():
    ledger = ledger_with_two_records()
    ledger.ack("articles", ["a1"])  # an acknowledgement that arrives before its window's list

    assert ledger.advance() == {}


def test_a_record_is_committed_once_its_article_events_and_alerts_are_all_acknowledged():
    ledger = ledger_with_two_records()
    ledger.expect([("d1", "articles", "a1"), ("d1", "events", "c1"), ("d1", "alerts", "x1"),
                   ("d2", "articles", "a2")])  # d2's article produced no event: its article suffices
    ledger.ack("articles", ["a1", "a2"])
    ledger.ack("events", ["c1"])
    assert ledger.advance() == {}, "d1's alert is not acknowledged yet, and d2 comes after d1"

    ledger.ack("alerts", ["x1"])
    assert ledger.advance() == {TP: 12}


def test_a_partition_is_committed_up_to_the_first_record_not_done():
    ledger = ledger_with_two_records()
    ledger.expect([("d1", "articles", "a1"), ("d2", "articles", "a2")])
    ledger.ack("articles", ["a2"])
    assert ledger.advance() == {}

    ledger.ack("articles", ["a1"])
    assert ledger.advance() == {TP: 12}
    assert ledger.pending[TP] == {} and ledger.expected == {} and ledger.acked == set(), "forgotten once committed"


def test_copies_merged_into_one_story_share_its_acknowledgement():
    ledger = ledger_with_two_records()
    ledger.expect([("d1", "articles", "a1"), ("d2", "articles", "a1")])
    ledger.ack("articles", ["a1"])

    assert ledger.advance() == {TP: 12}


def test_failures_and_documents_rejected_by_elasticsearch_are_settled_by_the_dead_letter_topic():
    ledger = ledger_with_two_records()
    ledger.expect([("https://a.example/1", "dead-letter", "https://a.example/1"),  # Normalize failed
                   ("d2", "articles", "a2")])
    ledger.ack("dead-letter", ["https://a.example/1", "a2"])  # a2: rejected by the mapping

    assert ledger.advance() == {TP: 12}


def test_a_record_not_seen_yet_stops_the_commit_after_the_last_one():
    ledger = OffsetLedger({TP: 10})
    ledger.read("articles", 0, 11, ("rec-11", "d2"))  # offset 10 has not reached the ledger
    ledger.expect([("d2", "articles", "a2")])
    ledger.ack("articles", ["a2"])

    assert ledger.advance() == {}
