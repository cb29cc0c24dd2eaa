"""Alert rules: loaded from YAML, validated once, matched against events.

A rule is data (``data/rules/*.yaml``); matching is a pure function from an
event to the reasons it matched, so ``rules test`` can show analysts why.
The alert id is derived from the rule and the event's cluster, so one
real-world event gives one alert per rule however many times it is seen.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator,
                      model_validator)

from pipelines.query import Query, QueryError, article_document, event_document, parse_query
from pipelines.taxonomy import NEWS_MODALITIES
from schemas import Alert, Article, Event
from schemas.models import Modality, Severity



class RuleError(ValueError):
    """A rule file or rule is invalid; the message names file, rule and field."""


def parse_duration(text: str) -> timedelta:
    """'30m', '1h', '2d', '1w' (or a number of seconds)."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30m, 1h or 1d")
    unit = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    return timedelta(**{unit[match.group(2)]: int(match.group(1))})


class Near(BaseModel):
    """Within ``km`` kilometres of a point (great-circle distance)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    km: float = Field(gt=0)

    def distance_km(self, lat: float, lon: float) -> float:
        p1, p2 = math.radians(self.lat), math.radians(lat)
        dp, dl = p2 - p1, math.radians(lon - self.lon)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


class Throttle(BaseModel):
    """At most ``max`` alerts of a rule per channel in any span of ``per``;
    the rest wait (they are delayed, never dropped)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max: int = Field(ge=1)
    per: timedelta

    @field_validator("per", mode="before")
    @classmethod
    def duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, (str, int)) else value


# Conditions an article (keyword) rule can use: articles have places and actors
# as entities, but no event type, modality, fatalities or clustered sources.
ARTICLE_CONDITIONS = frozenset({"country", "actor", "place", "region", "near", "language"})


class Conditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: tuple[str, ...] = ()
    sub_event_type: tuple[str, ...] = ()
    populated_place: bool | None = None
    geocoded: bool | None = Field(default=None, description="The place is resolved to GeoNames")
    named_place: bool | None = Field(
        default=None, description="The place has a name and a known country (geocoded or not)")
    modality: tuple[Modality, ...] = NEWS_MODALITIES
    min_sources: int = Field(default=1, ge=1)
    min_fatalities: int | None = Field(default=None, ge=0)
    country: tuple[str, ...] = Field(default=(), description="ISO 3166-1 alpha-2 codes")
    actor: tuple[str, ...] = Field(default=(), description="Actor ids or names, either side")
    place: tuple[str, ...] = Field(default=(), description="Place names or 'geonames:<id>'")
    region: tuple[str, ...] = Field(default=(), description="First-level region (admin1) names")
    near: Near | None = None
    language: tuple[str, ...] = Field(default=(), description="Article language codes (article rules)")

    @field_validator("event_type", "sub_event_type", "country", "actor", "modality", "place",
                     "region", "language", mode="before")
    @classmethod
    def one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    severity: Severity = "medium"
    channels: tuple[str, ...] = Field(
        default=(), description="Channel names from the notify config; none listed: every channel")
    when: Conditions = Conditions()
    query: str | None = Field(default=None, description="Lucene syntax, as in Kibana's query bar")
    kind: Literal["event", "article"] = Field(
        default="event", description="Match clustered events, or single articles (keyword rules)")
    throttle: Throttle | None = None
    _query: Query | None = PrivateAttr(default=None)

    @field_validator("channels", mode="before")
    @classmethod
    def one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def parse_query_and_check_conditions(self) -> Rule:
        if self.query is not None:
            try:
                self._query = parse_query(self.query, self.kind)
            except QueryError as exc:
                raise ValueError(f"query: {exc}") from exc
        if self.kind == "article":
            wrong = sorted(self.when.model_fields_set - ARTICLE_CONDITIONS)
            if wrong:
                raise ValueError(f"when.{wrong[0]}: not a condition for article rules "
                                 f"(they take {', '.join(sorted(ARTICLE_CONDITIONS))})")
        elif self.when.language:
            raise ValueError("when.language: only for article rules (events carry no language)")
        if self.query is None and not self.when.model_fields_set:
            raise ValueError("a rule needs a query or at least one condition under 'when'")
        return self

    def query_reasons(self, document: dict) -> list[str] | None:
        if self._query is None:
            return []
        ok, hits = self._query.match(document)
        return [f"query {h}" for h in hits] if ok else None

    def reasons(self, event: Event) -> list[str] | None:
        """The conditions that held, or None when one failed."""
        if self.kind != "event":
            return None
        c, why = self.when, []
        checks: list[tuple[bool, str]] = []
        if c.event_type:
            checks.append((event.event_type in c.event_type, f"event_type={event.event_type}"))
        if c.sub_event_type:
            checks.append((event.sub_event_type in c.sub_event_type,
                           f"sub_event_type={event.sub_event_type}"))
        if c.populated_place is not None:
            checks.append((event.populated_place == c.populated_place,
                           f"populated_place={event.populated_place}"))
        if c.geocoded is not None:
            checks.append(((event.geonames_id is not None) == c.geocoded,
                           f"geocoded={event.geonames_id is not None}"))
        if c.named_place is not None:
            named = bool(event.location) and event.country_code is not None
            checks.append((named == c.named_place, f"named_place={named}"))
        checks.append((event.modality in c.modality, f"modality={event.modality}"))
        if c.min_sources > 1:
            checks.append((event.independent_sources >= c.min_sources,
                           f"independent_sources={event.independent_sources}>={c.min_sources}"))
        if c.min_fatalities is not None:
            checks.append(((event.fatalities or 0) >= c.min_fatalities,
                           f"fatalities={event.fatalities}>={c.min_fatalities}"))
        if c.country:
            checks.append((event.country_code in c.country, f"country={event.country_code}"))
        if c.actor:
            sides = {event.actor1, event.actor2, event.actor1_id, event.actor2_id} - {None}
            hit = sorted(sides & set(c.actor))
            checks.append((bool(hit), f"actor={','.join(hit)}"))
        if c.place:
            names = {event.location, f"geonames:{event.geonames_id}"} - {None}
            hit = sorted(_casefolded(names) & _casefolded(c.place))
            checks.append((bool(hit), f"place={event.location}"))
        if c.region:
            checks.append((event.admin1 is not None and event.admin1.casefold()
                           in _casefolded(c.region), f"region={event.admin1}"))
        if c.near:
            km = (c.near.distance_km(event.latitude, event.longitude)
                  if event.latitude is not None and event.longitude is not None else None)
            checks.append((km is not None and km <= c.near.km,
                           f"distance={km:.0f}km<={c.near.km:g}km" if km is not None else "distance"))
        for ok, reason in checks:
            if not ok:
                return None
            why.append(reason)
        more = self.query_reasons(event_document(event))
        return None if more is None else why + more

    def article_reasons(self, article: Article) -> list[str] | None:
        """For article rules: the conditions and query terms that held, or None."""
        if self.kind != "article":
            return None
        c, why = self.when, []
        places = [e for e in article.entities if e.type == "PLACE"]
        checks: list[tuple[bool, str]] = []
        if c.language:
            checks.append((article.language in c.language, f"language={article.language}"))
        if c.country:
            hit = sorted({e.country for e in places if e.country in c.country} - {None})
            checks.append((bool(hit), f"country={','.join(hit)}"))
        if c.place:
            names = {n for e in places for n in (e.name, f"geonames:{e.geonames_id}")}
            hit = sorted(_casefolded(names) & _casefolded(c.place))
            checks.append((bool(hit), f"place={','.join(hit)}"))
        if c.region:
            hit = sorted({e.admin1 for e in places if e.admin1
                          and e.admin1.casefold() in _casefolded(c.region)})
            checks.append((bool(hit), f"region={','.join(hit)}"))
        if c.actor:
            sides = {v for e in article.entities if e.type == "ARMED_ACTOR" for v in (e.id, e.name)}
            hit = sorted(sides & set(c.actor))
            checks.append((bool(hit), f"actor={','.join(hit)}"))
        if c.near:
            near = c.near
            dists = [near.distance_km(e.latitude, e.longitude) for e in places
                     if e.latitude is not None and e.longitude is not None]
            km = min(dists, default=None)
            checks.append((km is not None and km <= near.km,
                           f"distance={km:.0f}km<={near.km:g}km" if km is not None else "distance"))
        for ok, reason in checks:
            if not ok:
                return None
            why.append(reason)
        more = self.query_reasons(article_document(article))
        return None if more is None else why + more

    def elasticsearch_query(self) -> dict:
        """The rule's query (conditions not included) as Elasticsearch DSL, for backfill."""
        return self._query.to_elasticsearch() if self._query else {"match_all": {}}


def _casefolded(values: Iterable[str]) -> set[str]:
    return {v.casefold() for v in values}


def load_rules(text: str, name: str) -> list[Rule]:
    """Parse one rule file; every error names the file, the rule and the field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"{name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RuleError(f"{name}: expected a mapping with a 'rules' list")
    rules: list[Rule] = []
    for index, entry in enumerate(data["rules"]):
        rule_id = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            rules.append(Rule.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            message = first["msg"].removeprefix("Value error, ")
            if first["loc"]:
                message = ".".join(map(str, first["loc"])) + ": " + message
            raise RuleError(f"{name}: rule {rule_id}: {message}") from exc
    return rules


def check_unique(rules: Iterable[Rule]) -> list[Rule]:
    seen: set[str] = set()
    out = []
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"rule {rule.id}: defined twice")
        seen.add(rule.id)
        out.append(rule)
    return out


def load_rule_dir(path: Path) -> list[Rule]:
    files = sorted(path.glob("*.y*ml")) if path.is_dir() else [path]
    if not files:
        raise RuleError(f"{path}: no rule files (*.yaml)")
    return check_unique(r for f in files for r in load_rules(f.read_text(encoding="utf-8"), str(f)))


def default_rules() -> list[Rule]:
    folder = resources.files("pipelines") / "data" / "rules"
    return check_unique(
        r for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(".yaml")
        for r in load_rules(f.read_text(encoding="utf-8"), f"default rules/{f.name}")
    )


def alert_id(rule_id: str, cluster_id: str) -> str:
    return "al" + hashlib.sha256(f"{rule_id}\x1f{cluster_id}".encode()).hexdigest()[:20]


def describe_place(event: Event) -> str:
    parts = [p for p in (event.location, event.admin1, event.country) if p]
    return ", ".join(parts) if parts else "unknown place"


def _title_and_summary(rule_id: str, event: Event) -> tuple[str, str]:
    place = describe_place(event)
    actors = " from ".join(a for a in (event.actor1, event.actor2) if a)
    title = f"{rule_id}: {event.sub_event_type} at {place}" + (f" ({actors})" if actors else "")
    outlets = ", ".join(sorted({s.name or s.doc_id for s in event.sources}))
    summary = (f"{event.notes} [{event.independent_sources} independent source(s): {outlets}]"
               + (" Rests on one side's claim." if event.modality == "claimed" else ""))
    return title, summary


def build_alert(rule: Rule, event: Event, reasons: list[str], now: datetime | None = None) -> Alert:
    title, summary = _title_and_summary(rule.id, event)
    claimed = event.modality == "claimed"
    return Alert(
        alert_id=alert_id(rule.id, event.cluster_id or event.event_id),
        rule_id=rule.id,
        severity=rule.severity,
        title=title,
        summary=summary,
        created_at=now or datetime.now(UTC),
        reasons=reasons,
        claimed=claimed,
        cluster_id=event.cluster_id,
        event=event,
        doc_ids=event.doc_ids,
        sources=event.sources,
    )


def match_event(rules: Iterable[Rule], event: Event, now: datetime | None = None) -> list[Alert]:
    """Every alert the event raises, one per matching rule."""
    alerts = []
    for rule in rules:
        reasons = rule.reasons(event)
        if reasons is not None:
            alerts.append(build_alert(rule, event, reasons, now))
    return alerts


def build_article_alert(rule: Rule, article: Article, reasons: list[str],
                        now: datetime | None = None) -> Alert:
    outlets = ", ".join(sorted({s.name or s.doc_id for s in article.copies}))
    excerpt = " ".join(article.text.split())[:280]
    return Alert(
        alert_id=alert_id(rule.id, article.id),
        rule_id=rule.id,
        severity=rule.severity,
        title=f"{rule.id}: {article.title}",
        summary=f"{excerpt} [{len(article.copies)} copy(ies): {outlets}]",
        created_at=now or datetime.now(UTC),
        reasons=reasons,
        claimed=False,
        article_id=article.id,
        doc_ids=article.doc_ids,
        sources=article.copies,
    )


def match_article(rules: Iterable[Rule], article: Article, now: datetime | None = None) -> list[Alert]:
    """Every alert an article (story) raises under the article (keyword) rules."""
    alerts = []
    for rule in rules:
        reasons = rule.article_reasons(article)
        if reasons is not None:
            alerts.append(build_article_alert(rule, article, reasons, now))
    return alerts


def with_event(alert: Alert, event: Event) -> Alert:
    """The alert restated for the event as it now stands (all sources so far),
    e.g. after later rounds merged more reports into its cluster."""
    title, summary = _title_and_summary(alert.rule_id, event)
    return alert.model_copy(update={"title": title, "summary": summary, "event": event,
                                    "doc_ids": event.doc_ids, "sources": event.sources})


def backfill_query(rule: Rule, since: date) -> dict:
    """The Elasticsearch query for a rule over stored events (or articles, for
    article rules) since ``since``: the rule's query plus the conditions that
    map onto indexed fields. Hits are checked again with the rule itself, so
    this may match more than the rule, never less."""
    filters: list[dict] = []
    if rule.kind == "article":
        filters.append({"range": {"published": {"gte": since.isoformat()}}})
        return {"bool": {"must": [rule.elasticsearch_query()], "filter": filters}}
    c = rule.when
    filters.append({"bool": {"minimum_should_match": 1, "should": [
        {"range": {"event_date": {"gte": since.isoformat()}}},
        {"bool": {"must_not": {"exists": {"field": "event_date"}},
                  "filter": {"range": {"published": {"gte": since.isoformat()}}}}}]}})
    for field, values in (("event_type", c.event_type), ("sub_event_type", c.sub_event_type),
                          ("modality", c.modality), ("country_code", c.country)):
        if values:
            filters.append({"terms": {field: list(values)}})
    if c.populated_place is not None:
        filters.append({"term": {"populated_place": c.populated_place}})
    if c.geocoded is not None:
        exists = {"exists": {"field": "geonames_id"}}
        filters.append(exists if c.geocoded else {"bool": {"must_not": exists}})
    if c.named_place is not None:
        named = {"bool": {"filter": [{"exists": {"field": "location"}},
                                     {"exists": {"field": "country_code"}}]}}
        filters.append(named if c.named_place else {"bool": {"must_not": named}})
    if c.min_sources > 1:
        filters.append({"range": {"independent_sources": {"gte": c.min_sources}}})
    if c.min_fatalities is not None:
        filters.append({"range": {"fatalities": {"gte": c.min_fatalities}}})
    if c.near is not None:
        filters.append({"geo_distance": {"distance": f"{c.near.km:g}km",
                                         "location_point": {"lat": c.near.lat, "lon": c.near.lon}}})
    return {"bool": {"must": [rule.elasticsearch_query()], "filter": filters}}
