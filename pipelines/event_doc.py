"""An article as the event rules read it: its sentences (photo captions and repeated
standfirsts set aside), where the tagged actors, places and persons occur in each, what
"the town" refers to, and the records the rules build before an Event (Mention, Target,
Draft)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.actors import Actor, default_actors
from pipelines.entities import REGION_SUFFIX, TOWN_AFTER, default_demonyms, full_text
from pipelines.gazetteer import CAPITAL, COUNTRY, REGION
from pipelines.text import split_sentences
from schemas.models import Article, Entity

DEMONYM_TOWN = re.compile(r"\b([A-Z][a-z]+)\s+(?:[a-z-]+\s+)?(?:town|city|village|township)\s+of\s+$")

POPULATED_NOUN = re.compile(r"\b(town|city|village|hamlet|settlement|township|barangay|"
                            r"(?:provincial|district|regional|state|administrative)\s+capital)(s)?\b", re.IGNORECASE)

CAPTION = re.compile(r"\((?:[A-Z][\w ./-]*)\)\s*$")

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    entity: Entity

    @property
    def populated(self) -> bool:
        return (self.entity.feature_code or "").startswith("PPL")


@dataclass(frozen=True)
class Target:
    place: Entity | None
    populated: bool
    named: bool  # False: "a number of villages around X" (place = the reference point)
    resolved_from: str  # "named", "anaphor", "description", "unnamed"


@dataclass(frozen=True)
class Draft:
    """An event before ids and provenance are attached."""

    sentence_index: int
    sentence: str
    event_type: str
    sub_event_type: str
    actor1: Actor | None
    actor2: Actor | None
    target: Target | None
    modality: str
    confidence: float
    fatalities: int | None = None
    # A capture told as taken back ("recaptured", "liberated", "regained control"): it
    # reverses an earlier capture of the place, and its unnamed captor is the government.
    retake: bool = False


def number(token: str) -> int | None:
    token = token.lower().replace(",", "")
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token)


def _find_mentions(sentence: str, entities: Iterable[Entity], types: set[str]) -> list[Mention]:
    """Where the tagged entities occur in a sentence. A surface two entities share
    ("Raqqa": the city and the province) goes to the region only before "province"."""
    candidates: list[Mention] = []
    for entity in entities:
        if entity.type not in types:
            continue
        for surface in entity.mentions:
            for m in re.finditer(r"(?<![\w-])" + re.escape(surface) + r"(?![\w])", sentence):
                candidates.append(Mention(m.start(), m.end(), entity))

    def preference(c: Mention) -> tuple[int, int]:
        region_word = bool(REGION_SUFFIX.match(sentence[c.end:c.end + 20]))
        fits = (c.entity.feature_code == REGION) == region_word
        return (-(c.end - c.start), 0 if fits else 1)

    found: list[Mention] = []
    for c in sorted(candidates, key=preference):
        if all(c.end <= f.start or c.start >= f.end for f in found):
            found.append(c)
    return sorted(found, key=lambda f: f.start)


def is_caption(sentence: str) -> bool:
    return bool(CAPTION.search(sentence))


def _usable_sentences(sentences: list[str]) -> set[int]:
    """Indexes worth reading: not photo captions, not a standfirst repeating the lead."""
    usable = set()
    keys = [" ".join(s.lower().split())[:80] for s in sentences]
    for i, s in enumerate(sentences):
        if is_caption(s) or len(s.split()) < 4:
            continue
        if any(keys[i] == keys[j] for j in range(i + 1, len(sentences))):
            continue
        usable.add(i)
    return usable


class EventDoc:
    """Per-article state the rules share: sentences, their mentions, the actors."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.sentences = split_sentences(full_text(article))
        self.usable = _usable_sentences(self.sentences)
        self.dictionary = default_actors()
        self.actors = [_find_mentions(s, article.entities, {"ARMED_ACTOR"}) for s in self.sentences]
        self._persons: dict[int, list[Mention]] = {}
        # "captured John Williams": a place's name inside a longer person's name, where the
        # tagger let the place stand because another sentence says "Williams" alone.
        # ("Barangays Upper Labas", a person's to the model, is the town noun and the town.)
        self.places = [[m for m in _find_mentions(s, article.entities, {"PLACE"})
                        if not any(p.start <= m.start and m.end <= p.end and p.end - p.start > m.end - m.start
                                   and not POPULATED_NOUN.match(s, p.start)
                                   for p in self.persons(i))] for i, s in enumerate(self.sentences)]
        counts: dict[str, int] = {}
        for e in article.entities:
            if e.country and e.type in ("PLACE", "ARMED_ACTOR"):
                counts[e.country] = counts.get(e.country, 0) + e.count
        self.main_country = max(sorted(counts), key=lambda c: counts[c]) if counts else None
        self.country_counts = counts
        # Places GeoNames lacks but the article calls a town ("the village of X", "X town").
        self.cued = {m.entity.id for i, s in enumerate(self.sentences) for m in self.places[i]
                     if m.entity.feature_code is None and _town_cue(s, m)}

    def populated(self, mention: Mention) -> bool:
        return mention.populated or mention.entity.id in self.cued

    def country_near(self, index: int, pos: int = 0) -> str | None:
        """The country a place GeoNames lacks is in: that of the regions, countries or
        towns named in its sentence ("located in the Donetsk region", "in eastern
        Ukraine"), else in the sentences before, else the article's main place country."""
        about = {e.country for e in self.article.entities
                 if e.country and (e.feature_code in (COUNTRY, REGION) or e.type == "ARMED_ACTOR")}
        for i in range(index, max(-1, index - 3), -1):
            for code in (REGION, COUNTRY, None):
                # The nearest in its own sentence ("the village of X, north-west of Donetsk"); in
                # a sentence before, the one the article names most ("a force formed by Nigeria,
                # Chad, Cameroon and Niger" in a Nigerian story), not the first in the alphabet.
                # A country locates only as a place ("in eastern Ukraine", "Mali's"), not as an
                # actor ("where Turkey maintains an observation post", "Russia said").
                found = [(abs(m.start - pos) if i == index else 0, -self.country_counts.get(m.entity.country, 0),
                          m.entity.country) for m in self.places[i]
                         if m.entity.country and (m.entity.feature_code == code or (code is None and m.populated))
                         and (not about or m.entity.country in about)
                         and not (code == COUNTRY and not LOCATIVE_BEFORE.search(self.sentences[i], 0, m.start)
                                  and not re.match(r"['’]s\s", self.sentences[i][m.end:m.end + 3]))]
                if found:
                    return min(found)[2]
        return self.main_country

    def place_country(self, place: Entity | None, index: int) -> str | None:
        if place is not None and place.country:
            return place.country
        if place is None:
            return self.main_country
        # A place GeoNames lacks is where the article first names it, with its locator ("the
        # town of Farabougou in central Mali"), wherever a later sentence refers to it ("It is
        # now controlled by the militants") or names it beside a neighbour ("Bunagana town …
        # from the Congo-Uganda border crossing"): one place, one country.
        index, at = next(((i, m.start) for i in range(len(self.sentences)) for m in self.places[i]
                          if m.entity.id == place.id), (index, 0))
        # "the Ukrainian town of Vuhledar": the adjective says where.
        demonym = DEMONYM_TOWN.search(self.sentences[index][max(0, at - 40):at])
        if demonym and demonym.group(1) in default_demonyms():
            return default_demonyms()[demonym.group(1)]
        return self.country_near(index, at)

    def actor(self, mention: Mention | None) -> Actor | None:
        return self.dictionary.get(mention.entity.id) if mention else None

    def persons(self, index: int) -> list[Mention]:
        if index not in self._persons:
            self._persons[index] = _find_mentions(self.sentences[index], self.article.entities, {"PERSON"})
        return self._persons[index]

    def person_at(self, index: int, pos: int) -> bool:
        """A person's name (spaCy) opens the text at ``pos``, after an optional article
        (not an adjective spaCy took for a name: "the Burkinabe town of Djibo")."""
        sentence = self.sentences[index]
        lead = re.match(r"\s*(?:the\s+)?", sentence[pos:])
        start = pos + (lead.end() if lead else 0)
        # (nor a name the model took for a person's that opens with a town noun: "Barangays Upper Labas")
        return any(m.start == start and not POPULATED_NOUN.match(sentence[m.end:m.end + 20].lstrip())
                   and not POPULATED_NOUN.match(sentence, m.start) for m in self.persons(index))

    def state_subject(self, index: int, end: int) -> Actor | None:
        """The forces of a country that speaks for itself before ``end``: "Ukraine says it
        has recaptured", "Russia's forces took", "the country's forces have recaptured"."""
        sentence = self.sentences[index]
        for m in self.places[index]:
            if m.entity.feature_code in (COUNTRY, CAPITAL) and m.end <= end and STATE_SUBJECT.match(sentence[m.end:end]):
                return self.dictionary.state_forces(m.entity.country)
        if re.search(r"\bthe\s+country['’]s\s+(?:own\s+)?(?:forces|army|troops|military)\b", sentence[:end], re.I):
            return self.dictionary.state_forces(self.main_country)
        return None

    def specific(self, actor: Actor | None, other: Actor | None) -> Actor | None:
        """"The rebels" in an article about M23 are M23: a generic description stands for
        the named non-state group the article mentions most, unless that group is the
        other side of the same event."""
        if actor is None or not actor.generic:
            return actor
        named = [(e.count, e.id) for e in self.article.entities if e.type == "ARMED_ACTOR"]
        for _, entity_id in sorted(named, reverse=True):
            candidate = self.dictionary.get(entity_id)
            if candidate is not None and not candidate.generic and candidate.kind == "non_state" \
                    and candidate != other:
                return candidate
        return actor

    def last_populated_before(self, index: int, pos: int, noun: str | None = None) -> Entity | None:
        """What "the town" refers to: the last place called a town ("the town of
        X", "X town") in the last few sentences, else the last populated place; never a
        landmark ("the town, 180 km north of Bangui")."""
        fallback: Entity | None = None
        for i in range(index, max(-1, index - 4), -1):
            sentence = self.sentences[i]
            for m in reversed(self.places[i]):
                if (i == index and m.end > pos) or not self.populated(m) or speaker(sentence, m) \
                        or sentence[m.start:m.end].isupper() \
                        or LANDMARK_BEFORE.search(sentence, max(0, m.start - 30), m.start):
                    continue  # (upper case: a dateline, "MOGADISHU –")
                fallback = fallback or m.entity
                if noun and (re.search(rf"\b{noun}\s+of\s+$", sentence[max(0, m.start - 20):m.start], re.I)
                             or re.match(rf"^\s+{noun}\b", sentence[m.end:m.end + 10], re.I)):
                    return m.entity
        return fallback


LOCATIVE_BEFORE = re.compile(r"\b(?:in|of|across|inside|within|throughout)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?$",
                             re.IGNORECASE)
# A place named as a landmark, not the place meant: "north-west of X", "km south of the X".
LANDMARK_BEFORE = re.compile(r"\b(?:north|south|east|west)[\w-]*\s+of\s+(?:the\s+)?$", re.IGNORECASE)


# What follows a country that is the subject of a capture: its forces, or it speaking of
# itself ("Ukraine says it has", "Russia claimed its troops").
# A country's own forces after its name: "Russia's forces", "Mozambique's army".
COUNTRY_FORCES = r"['’]s\s+(?:own\s+)?(?:forces|army|troops|military|soldiers)\b"
STATE_SUBJECT = re.compile(r"^(?:" + COUNTRY_FORCES + r"|"
                           # "Russia on Sunday said it had", "Russia's defence ministry said its forces"
                           r"(?:['’]s\s+(?:defen[cs]e\s+ministry|military|government))?\s+(?:(?:on\s+)?\w+day\s+)?"
                           r"(?:says|said|claims|claimed|announced)\s+(?:(?:on\s+)?\w+day\s+)?(?:that\s+)?"
                           r"(?:it|its\s+(?:forces|troops|army)))\b|"
                           # "Russia claimed the capture of the town" (the text up to the noun "capture")
                           r"^\s+(?:(?:on\s+)?\w+day\s+)?(?:claimed|claims|announced|announces|hailed|hails)\s+"
                           r"(?:the\s+)?$",
                           re.IGNORECASE)


def speaker(sentence: str, m: Mention) -> bool:
    """A place standing for its government or people ("Kyiv said", "Moscow's troops")."""
    return bool(re.match(r"^\s*(?:['’]s\b|said|says|announced|claimed|denied)", sentence[m.end:m.end + 12]))


def _town_cue(sentence: str, m: Mention) -> bool:
    return bool(re.search(r"\b(?:town|city|village|township)s?\s+of\s+(?:the\s+)?$", sentence[max(0, m.start - 25):m.start], re.I)
                or re.match(r"^\s+(?:town|city|village|township)\b", sentence[m.end:m.end + 12], re.I)
                or TOWN_AFTER.match(sentence[m.end:m.end + 60]))
