"""The business steps of newswatch as composite Beam PTransforms.

Each step wraps pure functions from its own module and reads or writes
nothing: the embedded pipeline (``pipelines.embedded``) and the streaming job
attach their own sources and sinks around ``AnalyzeNews``.

Errors are data: every step sends an element it cannot process to a
``failures`` output as a ``schemas.Failure`` (input, step, reason), which the
pipelines write to a dead-letter sink and count in the run summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.pvalue import PCollection
from apache_beam.transforms.window import WindowFn

from pipelines.cluster import cluster_events
from pipelines.dedup import deduplicate
from pipelines.entities import tag_entities
from pipelines.events import extract_events
from pipelines.normalize import normalize
from pipelines.rules import Rule, match_article, match_event
from schemas import Article, Event, Failure, RawDocument

# Deduplicate and ClusterEvents compare every element with every other one in
# the same window, so they gather a window's elements under one key.
_ALL = "all"


def _name_of(element: Any) -> str:
    if isinstance(element, RawDocument):
        return element.origin or element.doc_id
    if isinstance(element, Article):
        return ",".join(element.doc_ids)
    if isinstance(element, Event):
        return ",".join(element.doc_ids)
    return repr(element)[:80]


def _to_failure(step: str) -> Callable[[tuple[Any, tuple[Any, Any, Any]]], Failure]:
    def convert(bad: tuple[Any, tuple[Any, Any, Any]]) -> Failure:
        element, (exc_type, exc_value, _traceback) = bad
        reason = str(exc_value).splitlines()[0] if str(exc_value) else exc_type.__name__
        return Failure(input=_name_of(element), step=step, reason=reason)
    return convert


class _GuardedMap(beam.PTransform):
    """A Map or FlatMap whose exceptions become Failures on a second output."""

    def __init__(self, step: str, fn: Callable[..., Any], flat: bool = False) -> None:
        super().__init__()
        self.step, self.fn, self.flat = step, fn, flat

    def expand(self, pcoll: PCollection) -> dict[str, PCollection]:
        mapper = beam.FlatMap(self.fn) if self.flat else beam.Map(self.fn)
        good, bad = pcoll | self.step >> mapper.with_exception_handling()
        return {"main": good, "failures": bad | f"{self.step}Failures" >> beam.Map(_to_failure(self.step))}


def _with_entities(article: Article) -> Article:
    return article.model_copy(update={"entities": tag_entities(article)})


def _apply_to_values(keyed: tuple[str, Iterable[Any]], fn: Callable[[Iterable[Any]], Sequence[Any]]
                     ) -> Sequence[Any]:
    return fn(keyed[1])


def _match(element: Event | Article, rules: Sequence[Rule]) -> list[Any]:
    if isinstance(element, Article):
        return match_article(rules, element)
    return match_event(rules, element)


class _GatherWindow(beam.PTransform):
    """All elements of a window, as one list, to a pure function of the list."""

    def __init__(self, step: str, fn: Callable[[Iterable[Any]], Sequence[Any]],
                 window: WindowFn | None) -> None:
        super().__init__()
        self.step, self.fn, self.window = step, fn, window

    def expand(self, pcoll: PCollection) -> PCollection:
        if self.window is not None:
            pcoll = pcoll | "Window" >> beam.WindowInto(self.window)
        return (
            pcoll
            | "Key" >> beam.WithKeys(_ALL)
            | "Gather" >> beam.GroupByKey()
            | self.step >> beam.FlatMap(_apply_to_values, self.fn)
        )


class Normalize(beam.PTransform):
    """RawDocument → Article: boilerplate removed, canonical URL, stable id."""

    def expand(self, pcoll: PCollection) -> dict[str, PCollection]:
        return pcoll | _GuardedMap("Normalize", normalize)


class Deduplicate(beam.PTransform):
    """Article → Article: exact and near-duplicate copies become one story
    that lists every outlet (``copies``, ``doc_ids``)."""

    def __init__(self, window: WindowFn | None = None) -> None:
        super().__init__()
        self.window = window

    def expand(self, pcoll: PCollection) -> PCollection:
        return pcoll | _GatherWindow("Deduplicate", deduplicate, self.window)


class TagEntities(beam.PTransform):
    """Article → Article with places (GeoNames), armed actors, people, organisations."""

    def expand(self, pcoll: PCollection) -> dict[str, PCollection]:
        return pcoll | _GuardedMap("TagEntities", _with_entities)


class ExtractEvents(beam.PTransform):
    """Article → Events (ACLED types, actors, place, date, modality)."""

    def expand(self, pcoll: PCollection) -> dict[str, PCollection]:
        return pcoll | _GuardedMap("ExtractEvents", extract_events, flat=True)


class ClusterEvents(beam.PTransform):
    """Event → Event: reports of the same real-world event become one event
    with every source, and a stable ``cluster_id``."""

    def __init__(self, window: WindowFn | None = None) -> None:
        super().__init__()
        self.window = window

    def expand(self, pcoll: PCollection) -> PCollection:
        return pcoll | _GatherWindow("ClusterEvents", cluster_events, self.window)


class MatchRules(beam.PTransform):
    """Events (and articles, for keyword rules) → Alerts, one per matching rule."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        super().__init__()
        self.rules = list(rules)

    def expand(self, pcoll: PCollection) -> PCollection:
        return pcoll | "Match" >> beam.FlatMap(_match, self.rules)


class AnalyzeNews(beam.PTransform):
    """The whole analysis, RawDocument in; articles, events, alerts and failures out
    (and the alerts split by what matched: ``event_alerts``, ``article_alerts``).

    ``cluster_window`` (default: ``window``) is ClusterEvents' own window. Its
    input is a Deduplicate firing, all stamped at the end of that window, so a
    streaming job can close it at once with a tiny gap instead of a second
    ``window`` gap; the events are then put back into ``window``.

    ``tag_first`` tags every article before Deduplicate rather than each story
    after it. The stories are the same (Deduplicate compares title and text
    only, and a story keeps its representative's fields, entities included),
    but a stream tags each article while its window is still open, so the
    tagging is not added to the time after the window closes; the price is
    tagging the wire copies too.
    """

    def __init__(self, rules: Sequence[Rule], window: WindowFn | None = None,
                 cluster_window: WindowFn | None = None, tag_first: bool = False) -> None:
        super().__init__()
        self.rules, self.window = list(rules), window
        self.cluster_window = cluster_window or window
        self.tag_first = tag_first

    def expand(self, raw: PCollection) -> dict[str, PCollection]:
        normalized = raw | "Normalize" >> Normalize()
        if self.tag_first:
            tagged = normalized["main"] | "TagEntities" >> TagEntities()
            stories = tagged["main"] | "Deduplicate" >> Deduplicate(self.window)
        else:
            tagged = normalized["main"] | "Deduplicate" >> Deduplicate(self.window) | "TagEntities" >> TagEntities()
            stories = tagged["main"]
        extracted = stories | "ExtractEvents" >> ExtractEvents()
        events = extracted["main"] | "ClusterEvents" >> ClusterEvents(self.cluster_window)
        if self.cluster_window != self.window and self.window is not None:
            events = events | "EventWindow" >> beam.WindowInto(self.window)  # Flatten below needs one windowing
        # Matched apart, then flattened: a stream can then write the events' alerts
        # in the bundle that clustered them (on Prism a Flatten is a stage boundary).
        event_alerts = events | "MatchEvents" >> MatchRules(self.rules)
        article_alerts = stories | "MatchArticles" >> MatchRules(self.rules)
        alerts = (event_alerts, article_alerts) | "Alerts" >> beam.Flatten()
        failures = (
            (normalized["failures"], tagged["failures"], extracted["failures"])
            | "Failures" >> beam.Flatten()
        )
        return {"articles": stories, "events": events, "alerts": alerts, "event_alerts": event_alerts,
                "article_alerts": article_alerts, "failures": failures}
