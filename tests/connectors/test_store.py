from datetime import date

import pytest

from connectors.store import Store, StoreError
from pipelines.dedup import deduplicate
from pipelines.normalize import normalize
from pipelines.rules import default_rules, match_event
from tests.factories import event


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "nw.db")


@pytest.fixture
def seed_articles(seed_documents):
    return deduplicate(normalize(d) for d in seed_documents)


def test_search_finds_articles_by_words_in_their_text(store, seed_articles):
    store.put_articles(seed_articles)
    hits = store.search("Jaish al-Islam")
    assert [h.article.doc_ids for h in hits] == [["001_e72dd448992d5374"]]
    assert "[" in hits[0].snippet


def test_search_folds_diacritics_and_stems(store, seed_articles):
    store.put_articles(seed_articles)
    assert store.search("capturing")  # stems to 'captur', as in 'captured'
    assert store.search("Deir Ezzor") == store.search("deir ezzor")


def test_writing_the_same_records_twice_keeps_one_copy(store, seed_articles):
    store.put_articles(seed_articles)
    store.put_articles(seed_articles)
    ev = event("e1").model_copy(update={"cluster_id": "c1"})
    store.put_events([ev, ev])
    assert store.counts()["articles"] == len(seed_articles)
    assert store.counts()["events"] == 1
    assert len(store.search("Sukhna", limit=100)) == len({a.id for a in seed_articles if "Sukhna" in a.text})


def test_an_alert_is_new_only_once(store):
    [alert] = match_event(default_rules(), event("e1").model_copy(update={"cluster_id": "c1"}))
    assert store.put_alerts([alert]) == [alert]
    assert store.put_alerts([alert]) == []
    assert store.alerts() == [alert]


def test_events_filter_by_type_and_date(store):
    store.put_events([
        event("e1").model_copy(update={"cluster_id": "c1"}),
        event("e2", event_date=date(2017, 1, 1), sub_event_type="Armed clash").model_copy(
            update={"cluster_id": "c2"}),
    ])
    assert [e.event_id for e in store.events(kind="regains")] == ["e1"]
    assert [e.event_id for e in store.events(since=date(2017, 6, 1))] == ["e1"]
    assert len(store.events()) == 2


def test_an_unwritable_store_path_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot open store"):
        Store(tmp_path / "file" / "nw.db")


def test_a_cluster_seen_again_later_keeps_its_first_sources_and_gains_new_ones(store):
    first = event("e1", doc="001", outlet="Middle East Eye").model_copy(update={"cluster_id": "c1"})
    later = event("e2", doc="004", outlet="Rudaw").model_copy(update={"cluster_id": "c1"})
    store.put_events([first])
    store.put_events([later])
    [stored] = store.events()
    assert stored.doc_ids == ["001", "004"]
    assert stored.independent_sources == 2
    assert stored.cluster_id == "c1"
