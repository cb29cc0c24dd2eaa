"""Alert rules: loaded from YAML, validated once, matched against events.

A rule is data (``data/rules/*.yaml``); matching is a pure function from an
event to the reasons it matched, so ``rules test`` can show analysts why.
The alert id is derived from the rule and the event's cluster, so one
real-world event gives one alert per rule however many times it is seen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas import Alert, Event
from schemas.models import Modality, Severity

NEWS_MODALITIES: tuple[Modality, ...] = ("asserted", "claimed")


class RuleError(ValueError):
    """A rule file or rule is invalid; the message names file, rule and field."""


class Conditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: tuple[str, ...] = ()
    sub_event_type: tuple[str, ...] = ()
    populated_place: bool | None = None
    geocoded: bool | None = Field(default=None, description="The place is resolved to GeoNames")
    modality: tuple[Modality, ...] = NEWS_MODALITIES
    min_sources: int = Field(default=1, ge=1)
    min_fatalities: int | None = Field(default=None, ge=0)
    country: tuple[str, ...] = Field(default=(), description="ISO 3166-1 alpha-2 codes")
    actor: tuple[str, ...] = Field(default=(), description="Actor ids or names, either side")

    @field_validator("event_type", "sub_event_type", "country", "actor", "modality", mode="before")
    @classmethod
    def one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    severity: Severity = "medium"
    channels: tuple[str, ...] = ("console",)
    when: Conditions
    kind: Literal["event"] = "event"

    def reasons(self, event: Event) -> list[str] | None:
        """The conditions that held, or None when one failed."""
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
        for ok, reason in checks:
            if not ok:
                return None
            why.append(reason)
        return why


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
            field = ".".join(map(str, first["loc"])) or "<rule>"
            raise RuleError(f"{name}: rule {rule_id}: {field}: {first['msg']}") from exc
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


def build_alert(rule: Rule, event: Event, reasons: list[str], now: datetime | None = None) -> Alert:
    place = describe_place(event)
    actors = " from ".join(a for a in (event.actor1, event.actor2) if a)
    title = f"{rule.id}: {event.sub_event_type} at {place}" + (f" ({actors})" if actors else "")
    outlets = ", ".join(sorted({s.name or s.doc_id for s in event.sources}))
    claimed = event.modality == "claimed"
    summary = (f"{event.notes} [{event.independent_sources} independent source(s): {outlets}]"
               + (" Rests on one side's claim." if claimed else ""))
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
