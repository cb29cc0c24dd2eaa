"""Rule queries in Lucene syntax (as in Kibana's query bar), parsed by luqum.

One parsed query serves twice: ``Query.match`` evaluates it in-stream against
an event or an article (and says which terms matched, for ``rules test``), and
``Query.to_elasticsearch`` translates it with luqum's query builder for a
backfill over the Elasticsearch indices. Field names are ours (``actor``,
``place``, ``fatalities`` …), checked when the rule loads, and mapped to the
stored fields of each index (``FIELDS``).

Semantics, chosen to agree with Elasticsearch's standard analyzer: text is
matched word by word, case-insensitively (``al-Sukhna`` is the phrase
``al sukhna``); ``*`` and ``?`` are wildcards within a word; keyword fields
(``event_type``, ``modality`` …) match the whole value, case as stored, as
Elasticsearch keyword fields do; number fields take
ranges (``fatalities:[25 TO *]``, ``sources:>=2``). Terms side by side are
joined by AND (Kibana joins them by OR; for an alert the narrower reading is
the safer one), and fuzzy and proximity operators are refused.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from luqum.elasticsearch import ElasticsearchQueryBuilder
from luqum.exceptions import InconsistentQueryException, ParseError
from luqum.parser import parser
from luqum.tree import (AndOperation, BaseGroup, Boost, From, Fuzzy, Group, Item, Not, OrOperation,
                        Phrase, Plus, Prohibit, Proximity, Range, Regex, SearchField, Term, To,
                        UnknownOperation, Word)
from luqum.utils import UnknownOperationResolver

from schemas import Article, Event

Kind = Literal["event", "article"]
FieldType = Literal["text", "keyword", "number"]
Document = dict[str, list[Any]]


class QueryError(ValueError):
    """A query that cannot be parsed, names an unknown field, or uses an unsupported operator."""


@dataclass(frozen=True)
class QueryField:
    """A field rules may query: its type and the stored field(s) it reads in each index."""

    type: FieldType
    events: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()


FIELDS: dict[str, QueryField] = {
    "title": QueryField("text", articles=("title",)),
    "text": QueryField("text", events=("notes",), articles=("text",)),
    "source": QueryField("keyword", events=("sources.name",), articles=("source", "copies.name")),
    "language": QueryField("keyword", articles=("language",)),
    "place": QueryField("keyword", events=("location",), articles=("entities.name", "entities.mentions")),
    "region": QueryField("keyword", events=("admin1",), articles=("entities.admin1",)),
    "country": QueryField("keyword", events=("country", "country_code"),
                          articles=("entities.country",)),
    "actor": QueryField("keyword", events=("actor1", "actor2"),
                        articles=("entities.name", "entities.mentions")),
    "entity": QueryField("keyword", articles=("entities.name", "entities.mentions")),
    "event_type": QueryField("keyword", events=("event_type",)),
    "sub_event_type": QueryField("keyword", events=("sub_event_type",)),
    "modality": QueryField("keyword", events=("modality",)),
    "fatalities": QueryField("number", events=("fatalities",)),
    "sources": QueryField("number", events=("independent_sources",)),
}
# Terms without a field search these.
DEFAULT_FIELDS: dict[Kind, tuple[str, ...]] = {
    "event": ("text",),
    "article": ("title", "text"),
}


def fields_for(kind: Kind) -> list[str]:
    return [name for name, f in FIELDS.items() if (f.events if kind == "event" else f.articles)]


@functools.lru_cache(maxsize=1024)
def _words(text: str) -> tuple[str, ...]:
    # Cached: every term of every rule asks for the words of the same article text.
    return tuple(re.findall(r"\w+", text.casefold()))


def event_document(event: Event) -> Document:
    """The values each query field has for an event."""
    return {
        "text": [event.notes],
        "source": [s.name for s in event.sources if s.name],
        "place": [event.location] if event.location else [],
        "region": [event.admin1] if event.admin1 else [],
        "country": [c for c in (event.country, event.country_code) if c],
        "actor": [a for a in (event.actor1, event.actor2, event.actor1_id, event.actor2_id) if a],
        "event_type": [event.event_type],
        "sub_event_type": [event.sub_event_type],
        "modality": [event.modality],
        "fatalities": [event.fatalities] if event.fatalities is not None else [],
        "sources": [event.independent_sources],
    }


def article_document(article: Article) -> Document:
    """The values each query field has for an article (entities included)."""
    def names(kinds: Iterable[str]) -> list[str]:
        return [n for e in article.entities if e.type in kinds for n in (e.name, *e.mentions)]
    places = [e for e in article.entities if e.type == "PLACE"]
    return {
        "title": [article.title],
        "text": [article.text],
        "source": [s for s in (article.source, *(c.name for c in article.copies)) if s],
        "language": [article.language] if article.language else [],
        "place": names(["PLACE"]),
        "region": [e.admin1 for e in places if e.admin1],
        "country": [e.country for e in places if e.country],
        "actor": names(["ARMED_ACTOR"]),
        "entity": names(["PLACE", "ARMED_ACTOR", "PERSON", "ORG"]),
    }


# -- in-stream evaluation ------------------------------------------------------

Result = tuple[bool, list[str]]


def _number(term: Item, field: str) -> float | None:
    text = term.value if isinstance(term, Term) else str(term)
    if text == "*":
        return None
    try:
        return float(text)
    except ValueError:
        raise QueryError(f"{field}: {text!r} is not a number") from None


def _term_matches(term: Term, field: str, values: list[Any]) -> bool:
    ftype = FIELDS[field].type
    if ftype == "number":
        wanted = _number(term, field)
        return any(v == wanted for v in values)
    raw = term.value[1:-1] if isinstance(term, Phrase) else term.value
    if isinstance(term, Regex):
        pattern = re.compile(raw[1:-1] if raw.startswith("/") else raw, re.IGNORECASE)
        return any(pattern.fullmatch(w) for v in values for w in _words(str(v)))
    wildcard = isinstance(term, Word) and term.has_wildcard()
    if ftype == "keyword":
        if wildcard:
            return any(fnmatch.fnmatchcase(str(v), raw) for v in values)
        return any(str(v) == raw for v in values)
    if wildcard:
        return any(fnmatch.fnmatchcase(w, raw.casefold()) for v in values for w in _words(str(v)))
    wanted = _words(raw)
    if not wanted:
        return False
    for value in values:
        words, n = _words(str(value)), len(wanted)
        if any(words[i:i + n] == wanted for i in range(len(words) - n + 1)):
            return True
    return False


def _in_range(node: Range | From | To, field: str, values: list[Any]) -> bool:
    if FIELDS[field].type != "number":
        raise QueryError(f"{field}: ranges need a number field (fatalities, sources)")
    if isinstance(node, Range):
        low, high = _number(node.low, field), _number(node.high, field)
        inc_low, inc_high = node.include_low, node.include_high
    elif isinstance(node, From):
        low, high, inc_low, inc_high = _number(node.a, field), None, node.include, True
    else:
        low, high, inc_low, inc_high = None, _number(node.a, field), True, node.include
    def ok(v: float) -> bool:
        above = low is None or (v >= low if inc_low else v > low)
        below = high is None or (v <= high if inc_high else v < high)
        return above and below
    return any(ok(v) for v in values)


def _evaluate(node: Item, field: str | None, kind: Kind, doc: Document) -> Result:
    if isinstance(node, SearchField):
        return _evaluate(node.expr, node.name, kind, doc)
    if isinstance(node, (BaseGroup, Plus, Boost)):
        return _evaluate(node.expr if not isinstance(node, Plus) else node.a, field, kind, doc)
    if isinstance(node, (Not, Prohibit)):
        ok, _ = _evaluate(node.a, field, kind, doc)
        return not ok, []
    if isinstance(node, AndOperation):
        hits: list[str] = []
        for operand in node.children:
            ok, more = _evaluate(operand, field, kind, doc)
            if not ok:
                return False, []
            hits += more
        return True, hits
    if isinstance(node, OrOperation):
        results = [_evaluate(operand, field, kind, doc) for operand in node.children]
        return any(ok for ok, _ in results), [h for ok, more in results if ok for h in more]
    targets = (field,) if field else DEFAULT_FIELDS[kind]
    for name in targets:
        values = doc.get(name, [])
        ok = (_in_range(node, name, values) if isinstance(node, (Range, From, To))
              else _term_matches(node, name, values))
        if ok:
            return True, [f"{name}:{node}"]
    return False, []


# -- parsing and validation ----------------------------------------------------

def _check(node: Item, field: str | None, kind: Kind) -> None:
    if isinstance(node, (Fuzzy, Proximity)):
        raise QueryError(f"{node}: fuzzy and proximity operators (~) are not supported")
    if isinstance(node, SearchField):
        if field is not None:
            raise QueryError(f"{node}: a field inside field {field!r}")
        allowed = fields_for(kind)
        if node.name not in allowed:
            raise QueryError(f"unknown field {node.name!r} for {kind} rules "
                             f"(known: {', '.join(allowed)})")
        field = node.name
    if isinstance(node, (Range, From, To)):
        for name in (field,) if field else DEFAULT_FIELDS[kind]:
            if FIELDS[name].type != "number":
                raise QueryError(f"{node}: ranges need a number field (fatalities, sources), "
                                 f"not {name!r}")
        for bound in (node.low, node.high) if isinstance(node, Range) else (node.a,):
            _number(bound, field or "?")
    elif isinstance(node, Term) and field and FIELDS[field].type == "number":
        _number(node, field)
    for child in node.children:
        _check(child, field, kind)


@dataclass(frozen=True)
class Query:
    """A parsed, checked rule query."""

    text: str
    kind: Kind
    tree: Item

    def match(self, doc: Document) -> Result:
        """Whether the document matches, and the terms that made it match."""
        return _evaluate(self.tree, None, self.kind, doc)

    def to_elasticsearch(self) -> dict[str, Any]:
        """The Elasticsearch query DSL for the same query over the events or
        articles index (documents stored as the ``schemas`` records)."""
        index_fields: Callable[[QueryField], tuple[str, ...]] = (
            (lambda f: f.events) if self.kind == "event" else (lambda f: f.articles))
        exact = sorted({es for f in FIELDS.values() if f.type != "text" for es in index_fields(f)})
        builder = ElasticsearchQueryBuilder(
            default_operator=ElasticsearchQueryBuilder.MUST, not_analyzed_fields=exact,
            nested_fields={"entities": ["name", "mentions", "admin1", "country"]},
            object_fields=["sources.name", "copies.name"])
        try:
            return builder(_for_es(self.tree, None, self.kind, index_fields))
        except InconsistentQueryException as exc:
            raise QueryError(f"{self.text}: cannot translate for Elasticsearch: {exc}") from exc


def _for_es(node: Item, field: str | None, kind: Kind,
            index_fields: Callable[[QueryField], tuple[str, ...]]) -> Item:
    """Our field names → stored field names; several stored fields become an OR."""
    def again(child: Item) -> Item:
        return _for_es(child, field, kind, index_fields)
    if isinstance(node, SearchField):
        return _for_es(node.expr, node.name, kind, index_fields)
    if isinstance(node, (BaseGroup, Boost)):
        return Group(again(node.expr))
    if isinstance(node, Plus):
        return again(node.a)
    if isinstance(node, (Not, Prohibit)):
        return Not(again(node.a))
    if isinstance(node, (AndOperation, OrOperation)):
        return type(node)(*(again(child) for child in node.children))
    if isinstance(node, From):
        node = Range(node.a.clone_item(), Word("*"), include_low=node.include, include_high=True)
    elif isinstance(node, To):
        node = Range(Word("*"), node.a.clone_item(), include_low=True, include_high=node.include)
    stored = [es for name in ((field,) if field else DEFAULT_FIELDS[kind])
              for es in index_fields(FIELDS[name])]
    leaves = [SearchField(es, _clone(node)) for es in stored]
    return leaves[0] if len(leaves) == 1 else Group(OrOperation(*leaves))


def _clone(node: Item) -> Item:
    if isinstance(node, Range):
        return Range(_clone(node.low), _clone(node.high), include_low=node.include_low,
                     include_high=node.include_high)
    return type(node)(node.value) if isinstance(node, Term) else node.clone_item()


def parse_query(text: str, kind: Kind = "event") -> Query:
    """Parse and check a query; QueryError names what is wrong."""
    try:
        tree = parser.parse(text)
    except ParseError as exc:
        raise QueryError(f"not valid Lucene syntax: {exc}") from exc
    if isinstance(tree, UnknownOperation) or any(
            isinstance(n, UnknownOperation) for n in _walk(tree)):
        tree = UnknownOperationResolver(resolve_to=AndOperation)(tree)
    _check(tree, None, kind)
    return Query(text=text, kind=kind, tree=tree)


def _walk(node: Item) -> Iterable[Item]:
    for child in node.children:
        yield child
        yield from _walk(child)
