"""The Elasticsearch templates map exactly the records newswatch writes, and work on the test distribution."""

from __future__ import annotations

import fnmatch
import types
import typing
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import AwareDatetime, BaseModel

from schemas import Alert, SourceRef
from schemas import es_templates as t
from tests.conftest import SEEDS, seed_document
from tests.factories import event


# The modules each distribution ships (GET _nodes/plugins), as measured in docs/infra-local.md.
TEST_DISTRIBUTION = ["apm", "transport-netty4", "x-pack-core", "x-pack-security"]
FULL_DISTRIBUTION = [*TEST_DISTRIBUTION, "analysis-common", "x-pack-ilm", "data-streams"]

ES_TYPES = {
    str: {"keyword", "text"},
    bool: {"boolean"},
    int: {"integer", "long"},
    float: {"float", "double"},
    date: {"date"},
    datetime: {"date"},
    AwareDatetime: {"date"},
}


def nodes(*module_lists: list[str]) -> dict:
    return {"nodes": {f"n{i}": {"modules": [{"name": m} for m in mods], "plugins": []}
                      for i, mods in enumerate(module_lists)}}


def _leaf_type(annotation: typing.Any) -> typing.Any:
    """Strip Optional, list[...] and Annotated down to the Python type stored per value."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaf_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _leaf_type(inner)
    if origin is list:
        return _leaf_type(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return str
    return annotation


def model_fields(model: type[BaseModel], prefix: str = "") -> dict[str, typing.Any]:
    """Dotted path -> Python leaf type, for every field of the model and its nested models."""
    out: dict[str, typing.Any] = {}
    for name, field in model.model_fields.items():
        leaf = _leaf_type(field.annotation)
        if isinstance(leaf, type) and issubclass(leaf, BaseModel):
            out |= model_fields(leaf, f"{prefix}{name}.")
        else:
            out[prefix + name] = leaf
    return out


def mapped_fields(properties: dict, prefix: str = "") -> dict[str, str]:
    """Dotted path -> Elasticsearch type for every leaf field (multi-fields excluded)."""
    out: dict[str, str] = {}
    for name, spec in properties.items():
        if "properties" in spec:
            out |= mapped_fields(spec["properties"], f"{prefix}{name}.")
        else:
            out[prefix + name] = spec["type"]
    return out


@pytest.mark.parametrize("kind", t.KINDS)
def test_every_model_field_is_mapped_and_every_mapping_is_a_model_or_derived_field(kind):
    expected = set(model_fields(t.MODELS[kind])) | set(t.DERIVED_FIELDS[kind])
    mapped = set(mapped_fields(t.mappings(kind)["properties"]))
    assert mapped - expected == set(), "mapped but not in the model"
    assert expected - mapped == set(), "in the model but not mapped"


@pytest.mark.parametrize("kind", t.KINDS)
def test_each_field_is_mapped_with_a_type_that_can_hold_its_values(kind):
    mapped = mapped_fields(t.mappings(kind)["properties"])
    wrong = {path: (py.__name__, mapped[path]) for path, py in model_fields(t.MODELS[kind]).items()
             if mapped[path] not in ES_TYPES[py]}
    assert wrong == {}
    assert all(mapped[p] == "geo_point" for p in t.DERIVED_FIELDS[kind])


@pytest.mark.parametrize("kind", t.KINDS)
def test_unknown_fields_are_rejected_so_drift_cannot_pass_silently(kind):
    assert t.mappings(kind)["dynamic"] == "strict"


def test_an_alerts_event_is_mapped_exactly_like_an_event():
    assert t.mappings("alerts")["properties"]["event"]["properties"] == t.mappings("events")["properties"]


def test_entities_are_nested_so_type_and_name_match_within_one_entity():
    assert t.mappings("articles")["properties"]["entities"]["type"] == "nested"


def test_the_test_distribution_reports_no_optional_capability():
    assert t.capabilities(nodes(TEST_DISTRIBUTION)) == t.Capabilities()
    assert t.chosen_components(t.Capabilities()) == ()


def test_a_full_distribution_gets_english_subfields_and_ilm_but_never_data_streams():
    caps = t.capabilities(nodes(FULL_DISTRIBUTION))
    assert caps == t.Capabilities(english_analyzer=True, ilm=True, data_streams=True)
    assert t.chosen_components(caps) == ("english", "ilm")


def test_a_capability_counts_only_when_every_node_has_the_module():
    caps = t.capabilities(nodes(FULL_DISTRIBUTION, TEST_DISTRIBUTION + ["x-pack-ilm"]))
    assert caps == t.Capabilities(english_analyzer=False, ilm=True, data_streams=False)
    assert t.capabilities({"nodes": {}}) == t.Capabilities()


def _walk(value: typing.Any) -> Iterator[tuple[str, typing.Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


@pytest.mark.parametrize("kind", t.KINDS)
def test_without_capabilities_the_template_uses_nothing_the_test_distribution_lacks(kind):
    body = t.index_template(kind)
    keys = {k for k, _ in _walk(body)}
    assert {"analyzer", "lifecycle", "data_stream", "default_pipeline", "final_pipeline"} & keys == set()
    assert body["index_patterns"] == [f"newswatch-{kind}-*"]
    assert body["template"]["settings"]["index"]["number_of_shards"] == 1
    assert body["_meta"]["components"] == ["settings"]


@pytest.mark.parametrize("kind", t.KINDS)
def test_the_english_component_adds_subfields_to_existing_text_fields_only(kind):
    plain = t.mappings(kind)
    english = t.mappings(kind, t.Capabilities(english_analyzer=True))
    assert mapped_fields(english["properties"]) == mapped_fields(plain["properties"])
    subfields = {name: spec["fields"]["english"] for name, spec in _walk(english["properties"])
                 if isinstance(spec, dict) and "english" in spec.get("fields", {})}
    assert subfields, "no English sub-field added"
    assert all(s == {"type": "text", "analyzer": "english"} for s in subfields.values())
    assert all(spec["type"] == "text" for name, spec in _walk(english["properties"])
               if isinstance(spec, dict) and "english" in spec.get("fields", {}))


def test_the_ilm_component_names_the_policy_and_rollover_alias_after_the_write_alias():
    body = t.index_template("events", t.Capabilities(ilm=True), prefix="nwtest")
    assert body["template"]["settings"]["index"]["lifecycle"] == {
        "name": "nwtest-events", "rollover_alias": "nwtest-events"}
    assert body["template"]["settings"]["index"]["number_of_shards"] == 1


def test_the_ilm_policy_and_the_manual_rollover_share_one_retention():
    policy = t.ilm_policy("articles")["policy"]["phases"]
    assert policy["hot"]["actions"]["rollover"] == t.rollover_conditions("articles") == {
        "max_age": "7d", "max_primary_shard_size": "10gb"}
    assert policy["delete"]["min_age"] == "90d"


@pytest.mark.parametrize("kind", t.KINDS)
def test_the_first_index_matches_the_template_and_the_alias_does_not(kind):
    n = t.names(kind, "nwtest")
    index, body = t.bootstrap_index(kind, "nwtest")
    assert fnmatch.fnmatch(index, n.pattern)
    # An alias matching the pattern would make a stray write auto-create a templated index.
    assert not fnmatch.fnmatch(n.alias, n.pattern)
    assert body == {"aliases": {n.alias: {"is_write_index": True}}}


def _index(created: datetime, write: bool = False) -> dict:
    return {"aliases": {"newswatch-articles": {"is_write_index": write}},
            "settings": {"index": {"creation_date": str(int(created.timestamp() * 1000))}}}


def test_an_index_expires_retention_days_after_its_successor_was_created():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    indices = {
        "newswatch-articles-000001": _index(now - timedelta(days=120)),
        "newswatch-articles-000002": _index(now - timedelta(days=91)),   # 000001 rolled over 91 days ago
        "newswatch-articles-000003": _index(now - timedelta(days=89)),   # 000002 rolled over 89 days ago
        "newswatch-articles-000004": _index(now - timedelta(days=1), write=True),
    }
    assert t.expired_indices("articles", indices, now) == ["newswatch-articles-000001"]


def test_the_write_index_and_the_newest_index_never_expire():
    now = datetime(2026, 6, 1, tzinfo=UTC)
    old = now - timedelta(days=1000)
    assert t.expired_indices("articles", {"newswatch-articles-000001": _index(old, write=True)}, now) == []
    # Generations sort as numbers, and the write flag wins even on an old index.
    indices = {"newswatch-articles-999999": _index(old, write=True),
               "newswatch-articles-1000000": _index(old)}
    assert t.expired_indices("articles", indices, now) == []


def test_an_event_document_is_its_json_plus_a_geo_point_and_is_keyed_by_cluster():
    e = event("e1").model_copy(update={"cluster_id": "c1"})
    kind, doc_id, body = t.document(e)
    assert (kind, doc_id) == ("events", "c1")
    assert body == {**e.model_dump(mode="json"), "location_point": {"lat": 34.88, "lon": 38.87}}


def test_an_event_without_cluster_is_keyed_by_event_id_and_without_coordinates_has_no_point():
    e = event("e2").model_copy(update={"latitude": None})
    kind, doc_id, body = t.document(e)
    assert (doc_id, "location_point" in body) == ("e2", False)


def test_an_alert_document_carries_the_point_of_its_event():
    e = event("e1")
    a = Alert(alert_id="al1", rule_id="r", severity="high", title="T", summary="S",
              created_at=datetime(2017, 8, 12, tzinfo=UTC), reasons=["x"], claimed=False, event=e,
              doc_ids=["d1"], sources=[SourceRef(doc_id="d1")])
    kind, doc_id, body = t.document(a)
    assert (kind, doc_id) == ("alerts", "al1")
    assert body["event"]["location_point"] == {"lat": 34.88, "lon": 38.87}


def test_records_that_are_not_indexed_are_refused_with_their_type_named():
    with pytest.raises(ValueError, match="SourceRef: not indexed"):
        t.document(SourceRef(doc_id="d1"))


# --- against the real server from deploy/local -------------------------------------------------

@pytest.fixture(scope="module")
def es(stack):
    """A client of the session's real Elasticsearch (tests/fixtures/servers.py)."""
    from elasticsearch import Elasticsearch

    client = Elasticsearch(stack.es_url, request_timeout=30)
    yield client
    client.close()


@pytest.fixture
def prefix(es) -> Iterator[str]:
    """Templates and indices under a unique prefix, removed afterwards."""
    prefix = f"nwtest-{uuid.uuid4().hex[:8]}"
    yield prefix
    indices = list(es.indices.get(index=f"{prefix}-*", expand_wildcards="all").body)
    if indices:
        es.indices.delete(index=",".join(indices))
    for kind in t.KINDS:
        es.options(ignore_status=404).indices.delete_index_template(name=t.names(kind, prefix).template)


def install(es, prefix: str) -> t.Capabilities:
    """What the writer does at start-up (schemas/elasticsearch/README.md), twice to show it is idempotent."""
    caps = t.capabilities(es.nodes.info(metric="plugins").body)
    for _ in range(2):
        for kind in t.KINDS:
            n = t.names(kind, prefix)
            es.indices.put_index_template(name=n.template, **t.index_template(kind, caps, prefix))
            if not es.indices.exists_alias(name=n.alias):
                index, body = t.bootstrap_index(kind, prefix)
                es.indices.create(index=index, **body)
    return caps


def seed_records() -> list:
    from pipelines.entities import tag_entities
    from pipelines.normalize import normalize

    article = normalize(seed_document(sorted(SEEDS.glob("*.txt"))[0]))
    article = article.model_copy(update={"entities": tag_entities(article, use_spacy=False)})
    sukhna = event("sukhna").model_copy(update={"latitude": 34.885, "longitude": 38.871, "cluster_id": "c-sukhna"})
    aleppo = event("aleppo", location="Aleppo").model_copy(update={"latitude": 36.2, "longitude": 37.16})
    alert = Alert(alert_id="al-sukhna", rule_id="battles", severity="high", title="Battle near As Sukhnah",
                  summary="Government forces regain As Sukhnah", created_at=datetime(2017, 8, 12, tzinfo=UTC),
                  reasons=["event_type is Battles"], claimed=False, cluster_id="c-sukhna", event=sukhna,
                  doc_ids=["d1"], sources=[SourceRef(doc_id="d1", name="Outlet")])
    return [article, sukhna, aleppo, alert]


@pytest.mark.integration
def test_templates_install_on_the_test_distribution_and_a_geo_query_finds_sukhna_near_palmyra(es, prefix):
    caps = install(es, prefix)
    assert caps == t.Capabilities()
    records = seed_records()
    assert records[0].entities, "the seed article should carry entities, to exercise the nested mapping"
    for record in records:
        kind, doc_id, body = t.document(record)
        es.index(index=t.names(kind, prefix).alias, id=doc_id, document=body)
    for kind in t.KINDS:
        es.indices.refresh(index=t.names(kind, prefix).alias)

    near_palmyra = {"geo_distance": {"distance": "100km", "location_point": {"lat": 34.56, "lon": 38.28}}}
    events = es.search(index=t.names("events", prefix).alias, query=near_palmyra)
    assert [h["_id"] for h in events["hits"]["hits"]] == ["c-sukhna"]
    alert_query = {"geo_distance": {"distance": "100km", "event.location_point": {"lat": 34.56, "lon": 38.28}}}
    alerts = es.search(index=t.names("alerts", prefix).alias, query=alert_query)
    assert [h["_id"] for h in alerts["hits"]["hits"]] == ["al-sukhna"]
    articles = es.search(index=t.names("articles", prefix).alias, query={"match": {"text": "Sukhna"}})
    assert [h["_id"] for h in articles["hits"]["hits"]] == [records[0].id]
    assert es.indices.get_alias(name=t.names("events", prefix).alias).body == {
        f"{prefix}-events-000001": {"aliases": {f"{prefix}-events": {"is_write_index": True}}}}


@pytest.mark.integration
def test_a_field_the_template_does_not_know_is_rejected(es, prefix):
    from elasticsearch import BadRequestError

    install(es, prefix)
    _, doc_id, body = t.document(event("e1"))
    with pytest.raises(BadRequestError, match="strict_dynamic_mapping_exception"):
        es.index(index=t.names("events", prefix).alias, id=doc_id, document={**body, "unexpected": 1})


@pytest.mark.integration
def test_rollover_moves_writes_to_a_new_templated_index_and_only_old_generations_expire(es, prefix):
    install(es, prefix)
    n = t.names("events", prefix)
    es.index(index=n.alias, id="c-old", document=t.document(event("old"))[2], refresh=True)
    rolled = es.indices.rollover(alias=n.alias, conditions={"max_docs": 1})
    assert (rolled["rolled_over"], rolled["new_index"]) == (True, f"{prefix}-events-000002")
    assert es.indices.get_mapping(index=rolled["new_index"])[rolled["new_index"]]["mappings"]["dynamic"] == "strict"
    es.index(index=n.alias, id="c-new", document=t.document(event("new"))[2], refresh=True)
    assert es.count(index=n.alias)["count"] == 2   # the alias still reads both generations

    indices = es.indices.get(index=n.alias).body
    just_now = datetime.now(UTC)
    assert t.expired_indices("events", indices, just_now, prefix) == []
    later = just_now + timedelta(days=t.retention("events")["delete_after_days"] + 1)
    assert t.expired_indices("events", indices, later, prefix) == [f"{prefix}-events-000001"]
