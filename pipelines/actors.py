"""The armed-actor dictionary (``data/actors.yaml``): loading, validation, matching.

The file is validated once at load; every problem names the file and the entry.
Matching is one compiled regex per case mode, longest alias first, on word
boundaries. ALL-CAPS aliases ("IS", "SDF") match only as written, and short ones
not inside an all-caps run ("WHAT IS"), since headlines and boilerplate shout.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

ACTORS_FILE = Path(__file__).parent / "data" / "actors.yaml"
KINDS = frozenset({"state_force", "non_state", "militia", "private_military"})
_ID = re.compile(r"^[a-z0-9_]+$")


class ActorDictionaryError(ValueError):
    """The actor file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    kind: str
    country: str | None
    aliases: tuple[str, ...]
    context_aliases: tuple[str, ...]
    source: str
    # A description ("the rebels", "jihadists"), not a named group: it may stand for the
    # group an article names (EventDoc.specific, pipelines/event_doc.py).
    generic: bool = False

    @property
    def entity_id(self) -> str:
        return f"actor:{self.id}"

    @property
    def is_state(self) -> bool:
        return self.kind == "state_force"


@dataclass(frozen=True)
class ActorMention:
    actor: Actor
    start: int
    end: int
    surface: str


def _fail(path: Path, where: str, problem: str) -> ActorDictionaryError:
    return ActorDictionaryError(f"{path}: {where}: {problem}")


def _strings(value: object, path: Path, where: str, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, where, f"'{field}' must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def parse_actors(raw: object, path: Path) -> tuple[Actor, ...]:
    """Validate the YAML document and build the actors (pure: no file access)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("actors"), list):
        raise _fail(path, "top level", "expected a mapping with an 'actors' list")
    actors: list[Actor] = []
    ids: set[str] = set()
    alias_owner: dict[str, str] = {}
    context_owner: dict[tuple[str | None, str], str] = {}
    for n, entry in enumerate(raw["actors"], 1):
        where = f"entry {n}"
        if not isinstance(entry, dict):
            raise _fail(path, where, "expected a mapping")
        where = f"entry {n} ({entry.get('id', '?')})"
        unknown = set(entry) - {"id", "name", "kind", "country", "aliases", "context_aliases", "source", "generic"}
        if unknown:
            raise _fail(path, where, f"unknown fields {sorted(unknown)}")
        for field in ("id", "name", "kind", "source"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise _fail(path, where, f"'{field}' is required and must be a non-empty string")
        actor_id = entry["id"]
        if not _ID.match(actor_id):
            raise _fail(path, where, "'id' must be lower-case letters, digits and underscores")
        if actor_id in ids:
            raise _fail(path, where, f"duplicate id '{actor_id}'")
        ids.add(actor_id)
        if entry["kind"] not in KINDS:
            raise _fail(path, where, f"'kind' must be one of {sorted(KINDS)}, not '{entry['kind']}'")
        country = entry.get("country")
        if country is not None and not (isinstance(country, str) and re.fullmatch(r"[A-Z]{2}", country)):
            raise _fail(path, where, "'country' must be an ISO 3166-1 alpha-2 code or null")
        aliases = _strings(entry.get("aliases"), path, where, "aliases")
        if not aliases:
            raise _fail(path, where, "'aliases' must list at least one alias")
        context_aliases = _strings(entry.get("context_aliases"), path, where, "context_aliases")
        if context_aliases and country is None:
            raise _fail(path, where, "'context_aliases' need a 'country'")
        for alias in aliases:
            key = alias if alias.isupper() else alias.lower()
            if key in alias_owner and alias_owner[key] != actor_id:
                raise _fail(path, where, f"alias '{alias}' already belongs to '{alias_owner[key]}'")
            alias_owner[key] = actor_id
        for alias in context_aliases:
            ckey = (country, alias.lower())
            if ckey in context_owner:
                raise _fail(path, where, f"context alias '{alias}' for {country} already belongs to "
                                         f"'{context_owner[ckey]}'")
            context_owner[ckey] = actor_id
        generic = entry.get("generic", False)
        if not isinstance(generic, bool):
            raise _fail(path, where, "'generic' must be true or false")
        if generic and country is not None:
            raise _fail(path, where, "a generic description has no 'country'")
        actors.append(Actor(actor_id, entry["name"].strip(), entry["kind"], country, aliases,
                            context_aliases, entry["source"].strip(), generic))
    return _with_state_phrases(tuple(_with_force_phrases(a, alias_owner) for a in actors), context_owner)


# The ways a country's forces are named: an entry listing "Ukrainian forces" is also named
# by "Ukrainian armed forces", "Ukrainian government troops" and the rest, so the file need
# not repeat the list for every state. An alias the file gives another actor is left to it.
FORCE_NOUNS = ("forces", "troops", "army", "military", "soldiers", "armed forces", "government forces",
               "government troops", "security forces", "defence forces", "defense forces", "federal forces",
               "federal troops")
# (a nationality: "Ukrainian", "Myanmar"; not "junta")
_FORCE_ALIAS = re.compile(r"^([A-Z]\w+)\s+(?i:" + "|".join(FORCE_NOUNS) + r")$")


def _with_force_phrases(actor: Actor, alias_owner: dict[str, str]) -> Actor:
    if not actor.is_state:
        return actor
    demonyms = {m.group(1) for a in actor.aliases if (m := _FORCE_ALIAS.match(a))}
    derived = [f"{d} {noun}" for d in sorted(demonyms) for noun in FORCE_NOUNS
               if alias_owner.setdefault(f"{d} {noun}".lower(), actor.id) == actor.id]
    new = [a for a in derived if a.lower() not in {b.lower() for b in actor.aliases}]
    return replace(actor, aliases=actor.aliases + tuple(new)) if new else actor


# How an article names the forces of the state it is about without naming the state: each
# country's first state force is also named so where the file gives that phrase, for that
# country, to no one else ("the joint federal forces took control of Dessie" in Ethiopia,
# "Government security forces had taken full control" in the Philippines).
STATE_PHRASES = ("government forces", "government troops", "government soldiers", "government security forces",
                 "pro-government forces", "the army", "the military", "army troops", "federal forces",
                 "federal troops", "the federal army", "the national army", "national defense force",
                 "national defence force", "the defense forces", "the defence forces", "the defense force",
                 "the defence force")


def _with_state_phrases(actors: tuple[Actor, ...], context_owner: dict[tuple[str | None, str], str]) -> tuple[Actor, ...]:
    first = {}
    for a in actors:
        if a.is_state and not a.generic and a.country:
            first.setdefault(a.country, a.id)
    out = []
    for a in actors:
        if first.get(a.country or "") == a.id:
            new = tuple(p for p in STATE_PHRASES if context_owner.setdefault((a.country, p), a.id) == a.id
                        and p not in a.context_aliases)
            a = replace(a, context_aliases=a.context_aliases + new) if new else a
        out.append(a)
    return tuple(out)


def _pattern(aliases: Iterable[str], fold: bool = False) -> str:
    """One regex for all ``aliases``, longest first at each position. The alternation is a
    trie (one branch per next character): Python's engine tries a flat alternation's
    hundreds of branches at every position of every article, the trie one or two.
    ``fold``: the regex will be case-insensitive, so branches merge case-insensitively."""
    trie: dict = {}
    for alias in set(aliases):
        node = trie
        for ch in alias.lower() if fold else alias:
            node = node.setdefault(ch, {})
        node[""] = {}  # an alias ends here
    # Letters or digits may not touch an alias; hyphens and apostrophes may ("IS-held", "SDF's").
    return r"(?<![\w])" + _trie_regex(trie) + r"(?![\w])"


def _trie_regex(node: dict) -> str:
    branches = [(r"\s+" if ch == " " else re.escape(ch)) + _trie_regex(child)
                for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # Greedy: the longer alias first, this one when the longer does not match.
    return ("(?:" + body + ")?") if "" in node else body


_SHOUTING = re.compile(r"^[A-Z]{2,}$")


class ActorDictionary:
    def __init__(self, actors: tuple[Actor, ...]) -> None:
        self.actors = actors
        self.by_id = {a.id: a for a in actors}
        self._by_alias: dict[str, Actor] = {}
        exact: list[str] = []
        folded: list[str] = []
        for actor in actors:
            for alias in actor.aliases:
                if alias.isupper():
                    exact.append(alias)
                    self._by_alias[alias] = actor
                else:
                    folded.append(alias)
                    self._by_alias[alias.lower()] = actor
        self._acronyms = frozenset(exact)
        self._exact = re.compile(_pattern(exact)) if exact else None
        self._folded = re.compile(_pattern(folded, fold=True), re.IGNORECASE) if folded else None
        self._context: dict[str, tuple[re.Pattern[str], dict[str, Actor]]] = {}
        by_country: dict[str, dict[str, Actor]] = {}
        for actor in actors:
            for alias in actor.context_aliases:
                by_country.setdefault(actor.country or "", {})[alias.lower()] = actor
        for country, table in by_country.items():
            self._context[country] = (re.compile(_pattern(table, fold=True), re.IGNORECASE), table)

    def state_forces(self, country: str | None) -> Actor | None:
        """A country's own armed forces (the first state force the file lists for it)."""
        return next((a for a in self.actors if a.is_state and a.country == country and not a.generic), None)

    def get(self, actor_id: str) -> Actor | None:
        return self.by_id.get(actor_id.removeprefix("actor:"))

    def _shouted(self, text: str, start: int, end: int) -> bool:
        """An acronym inside an all-caps run is an English word: 'WHAT IS NEW'."""
        before = text[:start].split()
        after = text[end:].split()
        neighbours = [w.strip(".,:;!?\"'()") for w in (before[-1:] + after[:1])]
        return any(_SHOUTING.match(w) and w not in self._acronyms for w in neighbours)

    def find(self, text: str, country: str | None = None) -> list[ActorMention]:
        """Non-overlapping actor mentions in order; generic phrases ("government
        forces") count only when ``country`` is the article's main country."""
        found: list[ActorMention] = []
        if self._exact is not None:
            for m in self._exact.finditer(text):
                if len(m.group()) <= 3 and self._shouted(text, m.start(), m.end()):
                    continue
                found.append(ActorMention(self._by_alias[m.group()], m.start(), m.end(), m.group()))
        if self._folded is not None:
            for m in self._folded.finditer(text):
                key = " ".join(m.group().split()).lower()
                found.append(ActorMention(self._by_alias[key], m.start(), m.end(), m.group()))
        if country and country in self._context:
            pattern, table = self._context[country]
            for m in pattern.finditer(text):
                found.append(ActorMention(table[" ".join(m.group().split()).lower()],
                                          m.start(), m.end(), m.group()))
        # Longest first, then leftmost; drop anything overlapping a kept mention.
        found.sort(key=lambda f: (-(f.end - f.start), f.start))
        kept: list[ActorMention] = []
        for mention in found:
            if all(mention.end <= k.start or mention.start >= k.end for k in kept):
                kept.append(mention)
        kept.sort(key=lambda k: k.start)
        # "the rebel group Jaish al-Islam", "jihadist group JNIM": the description
        # introduces the name that follows it; only the name is an actor mention.
        return [k for k, nxt in zip(kept, kept[1:] + [None])
                if not (k.actor.generic and nxt is not None and not nxt.actor.generic
                        and text[k.end:nxt.start].isspace())]


def load_actors(path: Path = ACTORS_FILE) -> ActorDictionary:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ActorDictionaryError(f"{path}: not valid YAML: {exc}") from exc
    return ActorDictionary(parse_actors(raw, path))


@functools.cache
def default_actors() -> ActorDictionary:
    """The process-wide actor dictionary (call it in a DoFn's ``setup()``)."""
    return load_actors()
