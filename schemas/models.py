"""The data contracts of newswatch as typed, frozen records.

Every record the pipeline writes is one of these models. The JSON Schema files
beside this module (``article.schema.json`` …) are generated from them by
``python -m schemas.generate``; ``tests/schemas/test_json_schemas.py`` fails when
the two drift apart, so the Python types and the published contract are one thing.

Event fields use ACLED's names where ACLED has the concept (event_date,
event_type, sub_event_type, actor1, actor2, country, admin1, location, latitude,
longitude, fatalities, source, notes) so analysts can compare with ACLED exports.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"

EntityType = Literal["PERSON", "ORG", "ARMED_ACTOR", "PLACE"]
Modality = Literal["asserted", "claimed", "hypothetical", "planned", "denied", "background"]
Severity = Literal["low", "medium", "high", "critical"]


class Record(BaseModel):
    """Base of every contract: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RawDocument(Record):
    """What a connector read, before normalisation: one input item.

    ``doc_id`` is the input's own id (a JSONL ``id``, a file's stem, a feed
    entry's guid) and is carried into every record derived from it.
    """

    doc_id: str = Field(min_length=1)
    title: str = ""
    text: str = ""
    url: str | None = None
    published: AwareDatetime | None = None
    source: str | None = None
    author: str | None = None
    language: str | None = None
    feed_url: str | None = None
    fetched_at: AwareDatetime | None = None
    origin: str = Field(description="Where the item was read from: a path or URL, for error messages")


class SourceRef(Record):
    """One outlet's copy of a story: who published it, where, under which input id."""

    doc_id: str
    name: str | None = None
    url: str | None = None
    published: AwareDatetime | None = None


class Entity(Record):
    """A named thing an article mentions, resolved to a canonical id where possible."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    id: str = Field(description="Canonical id: 'geonames:<id>' for places, 'actor:<slug>' for armed actors, "
                    "'<type>:<normalised name>' otherwise")
    type: EntityType
    name: str = Field(description="Canonical name")
    mentions: list[str] = Field(description="Surface forms as written in the article")
    count: int = Field(ge=1)
    geonames_id: int | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code")
    admin1: str | None = Field(default=None, description="First-level region name, e.g. 'Homs'")
    feature_code: str | None = Field(default=None, description="GeoNames feature code, e.g. PPL, PPLA")


class Article(Record):
    """A clean article. After deduplication one Article stands for one story and
    lists every outlet that carried it in ``copies``."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    id: str = Field(description="Stable id derived from the canonical URL, or from the text when there is no URL")
    doc_ids: list[str] = Field(min_length=1, description="Input ids of every copy of this story")
    title: str
    text: str = Field(min_length=1)
    url: str | None = None
    canonical_url: str | None = None
    published: AwareDatetime | None = None
    source: str | None = None
    author: str | None = None
    language: str | None = None
    feed_url: str | None = None
    fetched_at: AwareDatetime | None = None
    copies: list[SourceRef] = Field(min_length=1)
    entities: list[Entity] = Field(default_factory=list)


class Event(Record):
    """A conflict event in ACLED's taxonomy, plus what ACLED lacks (modality,
    confidence, provenance, cluster)."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    event_id: str
    event_date: date | None = None
    event_type: str
    sub_event_type: str
    actor1: str | None = None
    actor2: str | None = None
    actor1_id: str | None = None
    actor2_id: str | None = None
    country: str | None = Field(default=None, description="Country name, as ACLED writes it")
    country_code: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code")
    admin1: str | None = None
    location: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    geonames_id: int | None = None
    populated_place: bool = Field(
        default=False, description="The target is a town, city or village (not a position, base or enclave)")
    fatalities: int | None = Field(default=None, ge=0)
    source: str = Field(description="Outlets, ';'-separated as in ACLED")
    notes: str = Field(description="The sentence the event was read from")
    modality: Modality
    confidence: float = Field(ge=0, le=1)
    cameo_code: str | None = None
    article_ids: list[str] = Field(min_length=1)
    doc_ids: list[str] = Field(min_length=1)
    sources: list[SourceRef] = Field(min_length=1)
    independent_sources: int = Field(ge=1, description="Distinct stories reporting it; wire copies count once")
    cluster_id: str | None = None
    published: AwareDatetime | None = None


class Alert(Record):
    """A rule fired on an event (or on an article, for keyword rules)."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    alert_id: str = Field(description="Deterministic: one id per rule and real-world event")
    rule_id: str
    severity: Severity
    title: str
    summary: str
    created_at: AwareDatetime
    reasons: list[str] = Field(description="Why the rule matched: the conditions and terms that held")
    claimed: bool = Field(description="The event rests on one side's claim")
    cluster_id: str | None = None
    event: Event | None = None
    article_id: str | None = None
    doc_ids: list[str] = Field(min_length=1)
    sources: list[SourceRef] = Field(min_length=1)
    revision: int = Field(default=1, ge=1)


class Failure(Record):
    """A record that could not be processed: the dead-letter output of every step."""

    input: str = Field(description="The input's name: a path, URL or doc id")
    step: str
    reason: str

    def line(self) -> str:
        return f"{self.input}: {self.step}: {self.reason}"


CONTRACTS: dict[str, type[Record]] = {
    "article": Article,
    "entity": Entity,
    "event": Event,
    "alert": Alert,
    # The Kafka topics' values: articles topic (RawDocument), dead-letter topic (Failure).
    "raw_document": RawDocument,
    "failure": Failure,
}
