"""Elasticsearch index templates for newswatch records: loading, choosing, naming.

Pure functions over the JSON files in ``schemas/elasticsearch/``; the writer
(``connectors/elasticsearch.py``) does the HTTP calls. The contract it follows
is written in ``schemas/elasticsearch/README.md``:

- one composable index template per kind (articles, events, alerts), matching
  ``<prefix>-<kind>-*``; documents are written to the write alias
  ``<prefix>-<kind>`` which points at ``<prefix>-<kind>-000001``, then at the
  index each ``_rollover`` creates;
- optional components (English sub-fields, ILM) are merged in only when the
  cluster reports the module that makes them work (``capabilities``); the
  test distribution in ``deploy/local`` has neither;
- without ILM the writer rolls over with ``rollover_conditions`` and deletes
  what ``expired_indices`` names.
"""

from __future__ import annotations

import copy
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

from schemas.models import Alert, Article, Event, Record

TEMPLATES_DIR = Path(__file__).parent / "elasticsearch"
DEFAULT_PREFIX = "newswatch"

Kind = Literal["articles", "events", "alerts"]
KINDS: tuple[Kind, ...] = ("articles", "events", "alerts")
MODELS: dict[Kind, type[Record]] = {"articles": Article, "events": Event, "alerts": Alert}

# Fields the writer adds to model_dump(mode="json"); dotted paths from the document root.
DERIVED_FIELDS: dict[Kind, tuple[str, ...]] = {
    "articles": (),
    "events": ("location_point",),
    "alerts": ("event.location_point",),
}

# Optional components, in the order they are merged, and the capability each needs.
# Data streams are deliberately absent: they are append-only (op_type create) and
# newswatch overwrites events and alerts by id as clusters grow and alerts are revised.
OPTIONAL_COMPONENTS: tuple[tuple[str, str], ...] = (("english", "english_analyzer"), ("ilm", "ilm"))

# Elasticsearch module that provides each capability (GET _nodes/plugins lists modules).
MODULE_FOR = {"english_analyzer": "analysis-common", "ilm": "x-pack-ilm", "data_streams": "data-streams"}

_GENERATION = re.compile(r"-(\d{6,})$")


@dataclass(frozen=True)
class Capabilities:
    """What the cluster can do beyond the core that the test distribution has."""

    english_analyzer: bool = False
    ilm: bool = False
    data_streams: bool = False


@dataclass(frozen=True)
class Names:
    """The names the writer uses for one kind of record."""

    template: str
    alias: str
    pattern: str
    first_index: str


def names(kind: Kind, prefix: str = DEFAULT_PREFIX) -> Names:
    base = f"{prefix}-{kind}"
    return Names(template=base, alias=base, pattern=f"{base}-*", first_index=f"{base}-000001")


def capabilities(nodes_plugins: Mapping[str, Any]) -> Capabilities:
    """Read ``GET _nodes/plugins``: a capability counts only if every node has its module."""
    nodes = nodes_plugins.get("nodes") or {}
    if not nodes:
        return Capabilities()
    per_node = [{m["name"] for m in n.get("modules", []) + n.get("plugins", [])} for n in nodes.values()]
    common = set.intersection(*per_node)
    return Capabilities(**{cap: module in common for cap, module in MODULE_FOR.items()})


def chosen_components(caps: Capabilities) -> tuple[str, ...]:
    """The optional component names to merge, given what the cluster supports."""
    return tuple(name for name, needs in OPTIONAL_COMPONENTS if getattr(caps, needs))


@cache
def _load(relative: str) -> dict[str, Any]:
    path = TEMPLATES_DIR / relative
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot load Elasticsearch template: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def load(relative: str) -> dict[str, Any]:
    """A fresh copy of one JSON file under ``schemas/elasticsearch/`` (callers may mutate it)."""
    return copy.deepcopy(_load(relative))


def component_file(name: str, kind: Kind) -> str:
    """Components that touch mappings are per kind; settings-only ones are shared."""
    per_kind = f"components/{name}-{kind}.json"
    return per_kind if (TEMPLATES_DIR / per_kind).exists() else f"components/{name}.json"


def deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` merged into a copy of ``base``: objects recursively, other values replaced."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _substitute(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return string.Template(value).substitute(mapping)
    if isinstance(value, dict):
        return {k: _substitute(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, mapping) for v in value]
    return value


def index_template(kind: Kind, caps: Capabilities = Capabilities(),
                   prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """The body for ``PUT _index_template/<names(kind).template>``.

    Components are merged here rather than stored as Elasticsearch component
    templates: the result is one self-contained template, the same on every
    cluster with the same capabilities, and testable without a server.
    """
    n = names(kind, prefix)
    body = load(f"{kind}.json")
    template: dict[str, Any] = {}
    for name in ("settings", *chosen_components(caps)):
        component = _substitute(load(component_file(name, kind))["template"], {"alias": n.alias})
        template = deep_merge(template, component)
    body["template"] = deep_merge(template, body.get("template", {}))
    body["index_patterns"] = [n.pattern]
    body.setdefault("_meta", {})["components"] = ["settings", *chosen_components(caps)]
    return body


def mappings(kind: Kind, caps: Capabilities = Capabilities()) -> dict[str, Any]:
    return index_template(kind, caps)["template"]["mappings"]


def bootstrap_index(kind: Kind, prefix: str = DEFAULT_PREFIX) -> tuple[str, dict[str, Any]]:
    """The first index and the body that makes it the write index of the alias.

    Create it only when the alias does not exist; ``resource_already_exists_exception``
    means another writer won the race and is not an error.
    """
    n = names(kind, prefix)
    return n.first_index, {"aliases": {n.alias: {"is_write_index": True}}}


def retention(kind: Kind) -> dict[str, Any]:
    return load("retention.json")[kind]


def rollover_conditions(kind: Kind) -> dict[str, Any]:
    """``conditions`` for ``POST <alias>/_rollover`` when the cluster has no ILM."""
    return retention(kind)["rollover"]


def ilm_policy(kind: Kind) -> dict[str, Any]:
    """The body for ``PUT _ilm/policy/<alias>``, from the same retention as the manual path."""
    r = retention(kind)
    return {"policy": {
        "_meta": {"managed_by": "newswatch"},
        "phases": {
            "hot": {"actions": {"rollover": r["rollover"]}},
            "delete": {"min_age": f"{r['delete_after_days']}d", "actions": {"delete": {}}},
        },
    }}


def _generation(index: str) -> int:
    m = _GENERATION.search(index)
    return int(m.group(1)) if m else -1


def expired_indices(kind: Kind, indices: Mapping[str, Any], now: datetime,
                    prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Rolled-over indices whose newest document is older than the retention.

    ``indices`` is the answer of ``GET <alias>`` (``indices.get``): per index its
    ``aliases`` and ``settings.index.creation_date`` (epoch ms). An index stopped
    receiving writes when the next generation was created, so it expires
    ``delete_after_days`` after its successor's creation. The write index and the
    newest generation are never returned.
    """
    alias = names(kind, prefix).alias
    keep = timedelta(days=retention(kind)["delete_after_days"])
    ordered = sorted((i for i in indices if _generation(i) >= 0), key=_generation)
    expired = []
    for index, successor in zip(ordered, ordered[1:]):
        if indices[index].get("aliases", {}).get(alias, {}).get("is_write_index"):
            continue
        created = int(indices[successor]["settings"]["index"]["creation_date"])
        rolled_over = datetime.fromtimestamp(created / 1000, tz=now.tzinfo)
        if rolled_over + keep < now:
            expired.append(index)
    return expired


def kind_of(record: Record) -> Kind:
    for kind, model in MODELS.items():
        if isinstance(record, model):
            return kind
    raise ValueError(f"{type(record).__name__}: not indexed in Elasticsearch")


def document_id(record: Record) -> str:
    """Articles by id, events by cluster (one document per real-world event), alerts by alert id."""
    if isinstance(record, Article):
        return record.id
    if isinstance(record, Event):
        return record.cluster_id or record.event_id
    if isinstance(record, Alert):
        return record.alert_id
    raise ValueError(f"{type(record).__name__}: not indexed in Elasticsearch")


def location_point(latitude: float | None, longitude: float | None) -> dict[str, float] | None:
    if latitude is None or longitude is None:
        return None
    return {"lat": latitude, "lon": longitude}


def _with_point(event: dict[str, Any]) -> dict[str, Any]:
    point = location_point(event.get("latitude"), event.get("longitude"))
    return {**event, "location_point": point} if point else event


def document(record: Record) -> tuple[Kind, str, dict[str, Any]]:
    """(kind, _id, _source) for one record: its JSON plus the derived fields."""
    kind = kind_of(record)
    body = record.model_dump(mode="json")
    if kind == "events":
        body = _with_point(body)
    elif kind == "alerts" and body.get("event"):
        body["event"] = _with_point(body["event"])
    return kind, document_id(record), body


