"""The composite transforms, run on Beam's TestPipeline."""

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.test_stream import TestStream as BeamTestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import FixedWindows, TimestampedValue

from pipelines.normalize import normalize
from pipelines.rules import default_rules
from pipelines.transforms import AnalyzeNews, ClusterEvents, Deduplicate, MatchRules, Normalize
from schemas import RawDocument
from tests.factories import event


def doc_ids(records):
    return sorted(tuple(r.doc_ids) for r in records)


def test_normalize_sends_an_empty_article_to_failures_and_goes_on(seed_documents):
    empty = RawDocument(doc_id="empty", title="Skip to main content", text="Post a comment", origin="empty.txt")
    with BeamTestPipeline() as p:
        out = p | beam.Create([seed_documents[0], empty]) | Normalize()
        assert_that(out["main"] | beam.Map(lambda a: a.doc_ids[0]), equal_to([seed_documents[0].doc_id]),
                    label="ok")
        assert_that(out["failures"] | beam.Map(lambda f: (f.input, f.step)),
                    equal_to([("empty.txt", "Normalize")]), label="failed")


def test_deduplicate_merges_the_wire_copies(seed_documents):
    with BeamTestPipeline() as p:
        stories = p | beam.Create([normalize(d) for d in seed_documents]) | Deduplicate()
        assert_that(stories | beam.combiners.ToList() | beam.Map(doc_ids), equal_to([[
            ("000_92cbca79a50a440a", "003_54d82472ffa95672"), ("001_e72dd448992d5374",),
            ("002_a38c816c79cc4183",), ("004_882908644c043aa1",)]]))


def test_in_a_stream_copies_merge_within_a_window_not_across_windows(seed_documents):
    wire, copy = normalize(seed_documents[0]), normalize(seed_documents[3])
    stream = (BeamTestStream()
              .advance_watermark_to(0)
              .add_elements([TimestampedValue(wire, 10), TimestampedValue(copy, 20)])
              .advance_watermark_to(61)
              .add_elements([TimestampedValue(copy, 70)])
              .advance_watermark_to_infinity())
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    with BeamTestPipeline(options=options) as p:
        stories = p | stream | Deduplicate(window=FixedWindows(60))
        assert_that(stories | beam.Map(lambda s: len(s.doc_ids)), equal_to([2, 1]))


def test_cluster_then_match_gives_one_alert_per_event():
    reports = [event("e1", doc="001", outlet="Middle East Eye"), event("e2", doc="004", outlet="Rudaw")]
    with BeamTestPipeline() as p:
        alerts = p | beam.Create(reports) | ClusterEvents() | MatchRules(default_rules())
        assert_that(alerts | beam.Map(lambda a: (a.rule_id, tuple(a.doc_ids))),
                    equal_to([("town-captured", ("001", "004"))]))


def test_analyze_news_on_the_seeds_raises_exactly_the_al_sukhna_alert(seed_documents):
    with BeamTestPipeline() as p:
        out = p | beam.Create(seed_documents) | AnalyzeNews(default_rules())
        assert_that(out["alerts"] | beam.Map(lambda a: (a.rule_id, a.event.location, tuple(a.doc_ids))),
                    equal_to([("town-captured", "As Sukhnah",
                               ("001_e72dd448992d5374", "004_882908644c043aa1"))]), label="alerts")
        assert_that(out["failures"], equal_to([]), label="no failures")


def test_tagging_before_deduplicate_gives_the_same_stories_events_and_alerts(seed_documents):
    """The streaming job tags as articles arrive (``tag_first``): the same results as tagging stories."""
    keys = {"articles": lambda a: (tuple(a.doc_ids), tuple(sorted(e.id for e in a.entities))),
            "events": lambda e: (e.sub_event_type, e.location, e.actor1, tuple(e.doc_ids)),
            "alerts": lambda a: (a.rule_id, a.event.location, tuple(a.doc_ids)),
            "failures": lambda f: (f.input, f.step)}
    with BeamTestPipeline() as p:
        docs = p | beam.Create(seed_documents)
        stories = docs | "Stories" >> AnalyzeNews(default_rules())
        first = docs | "TagFirst" >> AnalyzeNews(default_rules(), tag_first=True)
        for kind, key in keys.items():
            left = stories[kind] | f"{kind}L" >> beam.Map(key) | f"{kind}LL" >> beam.combiners.ToList()
            right = first[kind] | f"{kind}R" >> beam.Map(key) | f"{kind}RL" >> beam.combiners.ToList()
            same = left | f"{kind}Same" >> beam.Map(lambda a, b: sorted(a, key=repr) == sorted(b, key=repr),
                                                     b=beam.pvalue.AsSingleton(right))
            assert_that(same, equal_to([True]), label=f"same {kind}")
        assert_that(first["alerts"] | beam.Map(keys["alerts"]),
                    equal_to([("town-captured", "As Sukhnah", ("001_e72dd448992d5374", "004_882908644c043aa1"))]),
                    label="the alert")
