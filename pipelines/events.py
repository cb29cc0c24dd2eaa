"""Conflict events from tagged articles, in ACLED's taxonomy, by sentence-level rules.

Town captures are the priority. For each capture verb the rules decide:

* voice: active ("X captured T"), passive ("T was taken by X", "T fell to X");
* the target: a named place, "the town of T", a list ("the towns of A, B and C"),
  an anaphor ("the town": the last place named), or a definite description ("the
  last major town in Homs province held by IS") resolved from the next sentences;
  whether it is populated (GeoNames P class, "town/village of"), or positions,
  hills, a base, an enclave, "half of the city" (partial: not populated);
  objects that are not territory at all (weapons, a suspect, a title, a company)
  give no event;
* actors: actor1 who acted, actor2 from "from X", "X-held", "held by X";
* modality: hypothetical / planned / denied / background / claimed / asserted.

Typing follows ACLED: a capture by the state forces of the country the place is
in is "Battles / Government regains territory"; by anyone else (non-state, or a
foreign state's forces) "Battles / Non-state actor overtakes territory". CAMEO
192 "Occupy territory" for captures, 190 "Use conventional military force" for
clashes, 195 "Employ aerial weapons" for air/drone strikes, 1831 "Carry out
suicide bombing", 183 "Conduct suicide, car, or other non-military bombing" for
other explosions, 181 "Abduct, hijack, or take hostage", 180 "Use unconventional
violence" for killings of civilians (CAMEO 1.1b3 manual).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from pipelines.actors import Actor, default_actors
from pipelines.dates import resolve_date
from pipelines.entities import (
    CAPTURE_BEFORE,
    CONFLICT_KEYWORDS,
    FELL_AFTER,
    IN_REGION_AFTER,
    LOCATED_AFTER,
    PASSIVE_AFTER,
    REGION_SUFFIX,
    TOWN_AFTER,
    default_demonyms,
    full_text,
)
from pipelines.gazetteer import CAPITAL, COUNTRY, POPULATED, REGION, default_gazetteer
from pipelines.text import skeleton, split_sentences
from schemas.models import Article, Entity, Event

log = logging.getLogger(__name__)

BATTLES = "Battles"
EXPLOSIONS = "Explosions/Remote violence"
VAC = "Violence against civilians"
GOV_REGAINS = "Government regains territory"
NSA_OVERTAKES = "Non-state actor overtakes territory"
ARMED_CLASH = "Armed clash"
CAPTURE_SUBTYPES = frozenset({GOV_REGAINS, NSA_OVERTAKES})

CAMEO = {GOV_REGAINS: "192", NSA_OVERTAKES: "192", ARMED_CLASH: "190", "Air/drone strike": "195",
         "Suicide bomb": "1831", "Remote explosive/landmine/IED": "183",
         "Abduction/forced disappearance": "181", "Attack": "180"}

# Strongest first: when one sentence shows several cues, the first wins.
MODALITY_RANK = {"denied": 0, "hypothetical": 1, "planned": 2, "background": 3, "claimed": 4, "asserted": 5}

CAPTURE_VERB = re.compile(
    # "The town is now under the control of M23", "fell under rebel control" (passive).
    r"\b(?:(?:(?:is|are|was|were)\s+now|fell|has\s+fallen|came|comes|come)\s+under(?=\s+(?:the\s+)?"
    r"(?:full\s+|complete\s+|total\s+)?(?:control|[\w-]+(?:\s+[\w-]+)?\s+control)\b)|"
    r"(?:re)?captur(?:e|es|ed|ing)|seiz(?:e|es|ed|ing)|(?:re)?t(?:ook|ake|akes|aken|aking)|"
    r"overr(?:an|un|uns|unning)|secur(?:e|es|ed|ing)|liberat(?:e|es|ed|ing)|"
    r"wrest(?:s|ed|ing)?|(?:re)?gain(?:s|ed|ing)?|restor(?:e|es|ed|ing)|fell|falls|fallen|"
    # A change of hands told as a state: "the rebels are now in control of the town of X",
    # "It is now controlled by the militants" (not "still in control": no change).
    r"(?<!still\s)(?:is|are|was|were|now|(?:has|have|had)\s+been)\s+(?:now\s+)?in\s+(?:full\s+|complete\s+|total\s+)?control|"
    # "Russia said it had full control of the town": only full control tells a change.
    r"(?:has|have|had)\s+(?:now\s+)?(?:full|complete|total)\s+control|"
    # "Boko Haram hoisted its flag in Baga", "raised the Ukrainian flag over the village":
    # the way a taken town is shown.
    r"(?:hoist|rais)(?:ed|es|ing)?\s+(?:(?:its|their|the|a)\s+)?(?:[\w-]+\s+)?flags?\s+(?:in|over|above)|"
    # "X is back in Ukrainian hands" (passive: the town is the subject).
    r"(?:is|are|was|were)\s+(?:now\s+)?back\s+in\s+(?:[\w-]+\s+){1,2}?hands|"
    # "the first township reported to fall to the Arakan Army": only after such a verb
    # (bare "fall to" is mostly a forecast).
    r"(?<=reported\sto\s)fall|(?<=said\sto\s)fall|(?<=confirmed\sto\s)fall|"
    # "became the first provincial capital to fall to the militants"
    r"(?<=town\sto\s)fall|(?<=city\sto\s)fall|(?<=capital\sto\s)fall|(?<=village\sto\s)fall|"
    r"(?<=township\sto\s)fall|"
    # "insurgents on Saturday claimed control of Sheberghan" (a claim: told by the side).
    r"claim(?:ed|s)?\s+(?:full\s+|complete\s+|total\s+)?control\s+(?:of|over)|"
    # "Iraqi forces drove Islamic State out of the city of Fallujah" (an armed side driven out).
    r"(?:drove|driven|drive|drives|driving|pushed|forced|kicked|chased)\s+(?:[\w'’-]+\s+){1,4}?out\s+of|"
    r"now\s+(?:controlled|held))\b", re.IGNORECASE)
STATE_OF_CONTROL = re.compile(r"(?:\bin\s+(?:\w+\s+)?|(?:full|complete|total)\s+)control$", re.IGNORECASE)
DROVE_OUT = re.compile(r"^(?:drove|driven|drive|drives|driving|pushed|forced|kicked|chased)\s", re.IGNORECASE)
HANDS = re.compile(r"hands$", re.IGNORECASE)
NOW_HELD = re.compile(r"^now\s", re.IGNORECASE)
UNDER_CONTROL = re.compile(r"\sunder$", re.IGNORECASE)
# Who may hold a town in a state phrasing: an armed group, not "the government" of a company.
ARMED_NOUN = re.compile(r"\b(?:forces|troops|army|rebels?|militants?|jihadists?|fighters|insurgents?|militias?|"
                        r"soldiers|gunmen|islamists?|separatists?)\b", re.IGNORECASE)
# "did not capture him", "failed to take the town": nothing changed hands.
NEGATED = re.compile(r"\b(?:not|never|no\s+longer|failed\s+to|unable\s+to|n't)\s+(?:yet\s+|been\s+)?$",
                     re.IGNORECASE)
# These verbs capture territory only with "control of" or a place as object.
WEAK_VERB = re.compile(r"^(?:re)?(?:t(?:ook|ake|akes|aken|aking)|gain\w*|wrest\w*|secur\w*)$|^restor", re.IGNORECASE)
# "made steady gains around Damascus", "gaining support across the region": plain "gain"
# changes hands only with "control of" ("regained the town" is a capture).
GAIN = re.compile(r"^gain", re.IGNORECASE)
# "restored security to the town" is not a capture; "restored Singa city from the RSF" is:
# the object must open with the place or the town noun.
RESTORE = re.compile(r"^restor", re.IGNORECASE)
RESTORED_OBJECT = re.compile(r"^\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:town|city|village)\b", re.IGNORECASE)
# "The RSF had captured the city on June 29." told without attribution: earlier than the
# news ("Russia said its forces had captured X" is reported speech, not background).
PLUPERFECT = re.compile(r"\bhad\s+(?:\w+ly\s+|already\s+|first\s+)?$", re.IGNORECASE)
# "intensified their attacks to capture Marib", "moved to take the town": an aim, unless
# the infinitive says it was done ("managed to capture").
INFINITIVE = re.compile(r"\bto\s+$", re.IGNORECASE)
DONE_INFINITIVE = re.compile(r"\b(?:managed|succeeded|went\s+on|continued|used|reported|said|confirmed|"
                             # "the first provincial capital to fall to the Taliban"
                             r"(?:town|city|capital|village|township))\s+to\s+$", re.IGNORECASE)
CONTROL_OF = re.compile(r"^\s*(?:back\s+)?(?:(?:full|complete|total|effective)\s+)?control\s+(?:of|over)\s+|^\s*back\s+",
                        re.IGNORECASE)
PASSIVE_BEFORE = re.compile(r"\b(?:was|were|been|being|is|are|be)\s+(?:\w+ly\s+|also\s+|now\s+|finally\s+|fully\s+)?$",
                            re.IGNORECASE)
FELL = re.compile(r"^(?:fell|falls|fallen|fall)$", re.IGNORECASE)
# "the army prevented the insurgents from taking over the town": it did not change hands.
PREVENTED = re.compile(r"\b(?:prevent\w*|stopp?(?:ed|ing|s)?|block\w*|foil\w*|thwart\w*)\b[^.;]{0,60}\bfrom\s+$",
                       re.IGNORECASE)
DEMONYM_TOWN = re.compile(r"\b([A-Z][a-z]+)\s+(?:[a-z-]+\s+)?(?:town|city|village|township)\s+of\s+$")
# "The fall of Mukalla highlighted …": the noun names a capture the sentence does not tell.
NOMINAL_CAPTURE = re.compile(r"\b(?:fall|capture|seizure|takeover|loss)\s+of\b|['’]s\s+(?:fall|capture|seizure|loss)\b",
                             re.IGNORECASE)
# "Officials have not confirmed the city was back in Ukrainian hands": nobody says it was.
UNCONFIRMED = re.compile(r"\b(?:not|n't|never|yet\s+to)\s+(?:yet\s+|independently\s+|officially\s+)?"
                         r"(?:confirm|verif)\w*\s+(?:that\s+)?[^.;,]{0,60}$", re.IGNORECASE)
# "Iraqi forces will retake the city", "the rest will be liberated soon": a plan.
WILL = re.compile(r"\b(?:will|'ll|shall|going\s+to)\s+(?:\w+ly\s+|soon\s+|now\s+|also\s+)?(?:be\s+|have\s+been\s+)?"
                  r"(?:\w+ly\s+)?$", re.IGNORECASE)

POPULATED_NOUN = re.compile(r"\b(town|city|village|hamlet|settlement|township|"
                            r"(?:provincial|district|regional|state|administrative)\s+capital)(s)?\b", re.IGNORECASE)
PARTIAL_NOUN = re.compile(r"\b(?:half|percent|per cent|%|part|parts|much|most|outskirts|neighbou?rhoods?|"
                          r"districts?|quarters?|sections?|edges?|points|key\s+(?:areas?|points?|parts?|positions?|"
                          r"buildings?|sites?))\b", re.IGNORECASE)
NONPOP_NOUN = re.compile(
    r"\b(?:positions?|hills?|hilltops?|(?:air\s*)?bases?|airports?|airfields?|enclaves?|pockets?|territory|"
    r"territories|areas?|desert|roads?|highways?|checkpoints?|bridges?|dams?|(?:oil|gas)\s*fields?|fields?|"
    r"ridges?|mountains?|heights|crossings?|barracks|camps?|headquarters|outposts?|islands?|square\s+(?:km|kilomet\w+|miles)|"
    r"province|governorate|region|oblast|"
    # "the strategic Jabal Nuba": a mountain, whatever town a loose spelling finds.
    r"jabal|jebel|jabel|mount|mt)\b", re.IGNORECASE)
NON_TERRITORY = re.compile(
    r"\b(?:suspects?|man|men|woman|women|weapons?|arms|ammunition|tanks?|vehicles?|equipment|prisoners?|"
    r"fighters?|militants?|soldiers?|hostages?|titles?|championship|trophy|cup|medals?|company|firm|stake|shares?|"
    r"market|lead|votes?|seats?|majority|power|initiative|moment|attention|imagination|headlines?|deal|"
    r"funding|loan|release|victory|win|place|part|office|charge|steps?|action|time|care|note|advantage|"
    r"responsibility|measures|photos?|pictures?|images?|footage|documents?|data|drugs?|cash|money|gold|"
    r"him|her|them|himself|killer|fugitive|gunman|inmates?|escapees?|government|administration|ministry|"
    r"agency|stations?|newspapers?|offices?|buildings?|palace|parliament|compound|prison|jail|hospital|ground)\b",
    re.IGNORECASE)
TARGET_STOP = re.compile(r"[.;:!?]|\s[-–—]\s|,\s+(?:as|while|which|who|where|after|before|when|killing|"
                         r"according|a\s+(?:military|security)|the\s+source|state\s+media|said|adding)\b")

HYPOTHETICAL = re.compile(r"\b(?:if|would|could|might|unless|whether|able\s+to|means)\b", re.IGNORECASE)
PLANNED = re.compile(
    r"\b(?:vow\w*|plan\w*|aim\w*|seek\w*|sought|intend\w*|prepar\w*|pledg\w*|threat\w*|attempt\w*|"
    r"tr(?:y|ies|ied|ying)|bid|push\w*|expect\w*|operations?|offensive|campaign|drive|efforts?|"
    r"order\w*|focus\w*|goal|determined|ready|want\w*|hop\w*|close|closer|near|verge|brink|poised)\s+"
    r"(?:to|on|of|at|for)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE)
BACKGROUND = re.compile(
    r"\b(?:since|earlier\s+this\s+(?:year|month)|this\s+month|last\s+(?:year|month)|years?\s+ago|"
    r"previously|in\s+(?:19|20)\d\d|in\s+(?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December))\b")
# Explicitly earlier than the news, wherever in the article: "more than a decade ago",
# "last year", and "comes less than a month after <the capture>" (the capture is the
# older event the news is measured from).
LONG_AGO = re.compile(r"\b(?:decades?|years?|months?)\s+ago\b|\blast\s+(?:year|summer|winter|spring|autumn)\b|"
                      r"\b(?:initially|originally|first)\s+(?:been\s+)?(?:captured|seized|taken|liberated)\b|"
                      # "took A, B and C over two years of fighting": a summary, not the news
                      r"\b(?:over|during|in)\s+(?:the\s+(?:past|last)\s+)?(?:\d+|two|three|four|five|six|several|many)\s+"
                      r"(?:years|months)\b",
                      re.IGNORECASE)
RELATIVE_CLAUSE = re.compile(r"(?:,\s*|\s+)(?:who|whom|whose|which)\b[^,;:.]*(?:,|$)", re.IGNORECASE)
EARLIER_THAN = re.compile(r"\b(?:days?|weeks?|months?|years?|decades?)\s+(?:after|before)\s+(?!\w+ing\b)", re.IGNORECASE)
YEAR = re.compile(r"\bin\s+((?:19|20)\d\d)\b", re.IGNORECASE)
DENIED = re.compile(r"\b(?:den(?:y|ies|ied|ial)|false|fabricat\w*|rejected\s+(?:the\s+)?claims?|"
                    r"dismissed\s+(?:the\s+)?claims?|(?:was|is|were|are)\s+[\"“‘']?(?:not\s+true|untrue|baseless|a\s+lie)|"
                    # "… had taken X, but Ukraine said its troops were still holding the town"
                    r"but\b[^.;]*\b(?:still\s+(?:holding|held|holds?|in\s+control|controls?|controlled)|"
                    r"remain(?:ed|s)?\s+in\s+(?:full\s+)?control))\b",
                    re.IGNORECASE)
FUTURE = re.compile(r"\b(?:will|'ll|shall|going\s+to)\b", re.IGNORECASE)
ATTRIBUTION = re.compile(r"\b(?:said|says|say|reported|reports|report|according\s+to|claimed|claims|quoted|"
                         r"cited|told|announced|stated)\b", re.IGNORECASE)
PARTY_SOURCE = re.compile(
    r"\b(?:state\s+(?:media|news|television|tv|agency)|state-run|state-news|SANA|military\s+(?:source|media|"
    r"spokes\w+)|army\s+(?:said|statement)|ministry|media\s+unit|spokes(?:man|woman|person)|commander|"
    r"said\s+it\b|claimed|the\s+source)", re.IGNORECASE)
# Outlets ("told Reuters") relay a claim; they are not its source.
NEUTRAL_SOURCE = re.compile(r"\b(?:monitor|observatory|witness\w*|residents?|"
                            r"journalists?|correspondents?|activists?|multiple\s+media|UN\b|United\s+Nations)",
                            re.IGNORECASE)
CAPTION = re.compile(r"\((?:[A-Z][\w ./-]*)\)\s*$")
HELD_BY = re.compile(r"held\s+by\s+$|under\s+(?:the\s+)?control\s+of\s+$|from\s+(?:the\s+)?$", re.IGNORECASE)

EXPLOSION = re.compile(r"\b(?:explosions?|blasts?|bomb(?:s|ing|ings|er|ers)?|IEDs?|suicide\s+attack\w*)\b", re.IGNORECASE)
AIRSTRIKE = re.compile(r"\b(?:air\s*strikes?|airstrikes?|air\s+raids?|drone\s+strikes?|drone\s+attacks?)\b", re.IGNORECASE)
STRIKE_DONE = re.compile(r"\b(?:conduct\w*|carri\w+\s+out|launch\w*|hit|hits|struck|target\w*|kill\w*|pound\w*)\b",
                         re.IGNORECASE)
SUPPORT = re.compile(r"\b(?:support(?:ed)?|backed|backing|cover|help)\b", re.IGNORECASE)
CLASH = re.compile(r"\b(?:clash(?:ed|es|ing)?\s+with|clashes\s+between|fought|fighting\s+between|battled)\b",
                   re.IGNORECASE)
ABDUCTION = re.compile(r"\b(?:abduct\w*|kidnapp?\w*|taken\s+hostage|forcibly\s+disappeared)\b", re.IGNORECASE)
EXECUTION = re.compile(r"\bexecut(?:ed|es|ing)\b", re.IGNORECASE)

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUM = r"(\d[\d,]*|" + "|".join(NUMBER_WORDS) + r")"
FATALITIES = (
    re.compile(rf"\bkill(?:ing|ed|s)?\s+(?:at\s+least\s+|more\s+than\s+|about\s+|some\s+|nearly\s+|around\s+)?{_NUM}\b",
               re.IGNORECASE),
    re.compile(rf"\b(?:at\s+least\s+|more\s+than\s+|about\s+|some\s+)?{_NUM}\s+(?:\w+\s+){{0,2}}(?:were\s+|have\s+been\s+|"
               r"had\s+been\s+)?killed\b", re.IGNORECASE),
    re.compile(rf"\bexecut(?:ed|ing)\s+{_NUM}\b", re.IGNORECASE),
)


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


def _number(token: str) -> int | None:
    token = token.lower().replace(",", "")
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token)


def fatalities(sentence: str) -> int | None:
    """Deaths the sentence states: 'killing at least 23 fighters' -> 23."""
    for pattern in FATALITIES:
        m = pattern.search(sentence)
        if m:
            return _number(m.group(1))
    return None


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


def _is_caption(sentence: str) -> bool:
    return bool(CAPTION.search(sentence))


def _usable_sentences(sentences: list[str]) -> set[int]:
    """Indexes worth reading: not photo captions, not a standfirst repeating the lead."""
    usable = set()
    keys = [" ".join(s.lower().split())[:80] for s in sentences]
    for i, s in enumerate(sentences):
        if _is_caption(s) or len(s.split()) < 4:
            continue
        if any(keys[i] == keys[j] for j in range(i + 1, len(sentences))):
            continue
        usable.add(i)
    return usable


class _Article:
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
        self.places = [[m for m in _find_mentions(s, article.entities, {"PLACE"})
                        if not any(p.start <= m.start and m.end <= p.end and p.end - p.start > m.end - m.start
                                   for p in self.persons(i))] for i, s in enumerate(self.sentences)]
        counts: dict[str, int] = {}
        for e in article.entities:
            if e.country and e.type in ("PLACE", "ARMED_ACTOR"):
                counts[e.country] = counts.get(e.country, 0) + e.count
        self.main_country = max(sorted(counts), key=lambda c: counts[c]) if counts else None
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
                found = [(abs(m.start - pos) if i == index else 0, m.entity.country) for m in self.places[i]
                         if m.entity.country and (m.entity.feature_code == code or (code is None and m.populated))
                         and (not about or m.entity.country in about)]
                if found:
                    return min(found)[1]  # the nearest: "the village of X, north-west of Donetsk"
        return self.main_country

    def place_country(self, place: Entity | None, index: int) -> str | None:
        if place is not None and place.country:
            return place.country
        if place is None:
            return self.main_country
        at = next((m.start for m in self.places[index] if m.entity.id == place.id), 0)
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
        return any(m.start == start and not POPULATED_NOUN.match(sentence[m.end:m.end + 20].lstrip())
                   for m in self.persons(index))

    def state_subject(self, index: int, end: int) -> Actor | None:
        """The forces of a country that speaks for itself before ``end``: "Ukraine says it
        has recaptured", "Russia's forces took", "the country's forces have recaptured"."""
        sentence = self.sentences[index]
        for m in self.places[index]:
            if m.entity.feature_code == COUNTRY and m.end <= end and STATE_SUBJECT.match(sentence[m.end:end]):
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
        X", "X town") in the last few sentences, else the last populated place."""
        fallback: Entity | None = None
        for i in range(index, max(-1, index - 4), -1):
            sentence = self.sentences[i]
            for m in reversed(self.places[i]):
                if (i == index and m.end > pos) or not self.populated(m) or _speaker(sentence, m) \
                        or sentence[m.start:m.end].isupper():  # a dateline ("MOGADISHU –")
                    continue
                fallback = fallback or m.entity
                if noun and (re.search(rf"\b{noun}\s+of\s+$", sentence[max(0, m.start - 20):m.start], re.I)
                             or re.match(rf"^\s+{noun}\b", sentence[m.end:m.end + 10], re.I)):
                    return m.entity
        return fallback


# What follows a country that is the subject of a capture: its forces, or it speaking of
# itself ("Ukraine says it has", "Russia claimed its troops").
STATE_SUBJECT = re.compile(r"^(?:['’]s\s+(?:own\s+)?(?:forces|army|troops|military|soldiers)\b|"
                           # "Russia on Sunday said it had", "Russia's defence ministry said its forces"
                           r"(?:['’]s\s+(?:defen[cs]e\s+ministry|military|government))?\s+(?:(?:on\s+)?\w+day\s+)?"
                           r"(?:says|said|claims|claimed|announced)\s+(?:(?:on\s+)?\w+day\s+)?(?:that\s+)?"
                           r"(?:it|its\s+(?:forces|troops|army)))\b",
                           re.IGNORECASE)


def _dateline(sentence: str, m: Mention) -> bool:
    """"BAGHDAD -- The capital of Anbar province fell": where the story was filed."""
    return m.start <= 1 and sentence[m.start:m.end].isupper() and bool(
        re.match(r"^\s*(?:,|\(|--|-\s|—|–)", sentence[m.end:m.end + 4]))


def _speaker(sentence: str, m: Mention) -> bool:
    """A place standing for its government or people ("Kyiv said", "Moscow's troops")."""
    return bool(re.match(r"^\s*(?:['’]s\b|said|says|announced|claimed|denied)", sentence[m.end:m.end + 12]))


def _town_cue(sentence: str, m: Mention) -> bool:
    return bool(re.search(r"\b(?:town|city|village|township)s?\s+of\s+(?:the\s+)?$", sentence[max(0, m.start - 25):m.start], re.I)
                or re.match(r"^\s+(?:town|city|village|township)\b", sentence[m.end:m.end + 12], re.I)
                or TOWN_AFTER.match(sentence[m.end:m.end + 60]))


def _bare_names_populated(doc: _Article, index: int, targets: list[Target], passive_verb: int | None,
                          obj_start: int | None) -> list[Target]:
    """A name GeoNames lacks that an armed actor captured ("the rebels seized X on
    Sunday", "X was overrun by jihadists", "X fell to"): a village, unless the words after
    it make it a feature ("X airport"). GeoNames has every place of 500 people or more, so
    what an armed group takes under a bare name it lacks is mostly a small village."""
    sentence = doc.sentences[index]
    out: list[Target] = []
    bare = False
    for n, t in enumerate(targets):
        place = t.place
        if place is None or t.populated or not t.named or t.resolved_from != "named" or place.feature_code:
            out.append(t)
            continue
        m = next((m for m in doc.places[index] if m.entity.id == place.id
                  and (obj_start is None or m.start >= obj_start)
                  and (passive_verb is None or m.end <= passive_verb)), None)
        if m is not None and n == 0:
            bare = (obj_start is not None and not sentence[obj_start:m.start].strip()) or (
                passive_verb is not None and bool(re.fullmatch(
                    r"\s+(?:(?:was|were|has\s+been|had\s+been|is|are)\s+(?:\w+ly\s+|now\s+|also\s+)?)?",
                    sentence[m.end:passive_verb], re.I)))
        if bare and m is not None and _place_kind_after(sentence, m.end):
            out.append(Target(place, True, True, "named"))
        else:
            out.append(t)
    return out


FEATURE_AFTER = re.compile(
    # "X oil field", "X province"; an apposition naming a feature: "X, the steel plant in Y".
    r"^\s+(?:\w+\s+)?(?:oil|gas|air|military)?\s*(?:field|base|airport|province|governorate|district|region|dam|"
    r"crossing|desert|road|highway|countryside|outskirts|station|offices?|building|compound|prison|jail|hospital|"
    r"palace|barracks|garrison|camp|checkpoint|post|port|bridge|headquarters)\b"
    # (not "X, the headquarters of Y district" nor "X, a port town": towns)
    r"|^,\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?(?:oil|gas|air|military|steel)?\s*(?:field|base|airport|dam|"
    r"crossing|station|building|compound|prison|hospital|palace|barracks|garrison|camp|checkpoint|bridge|plant|"
    r"factory|works|mine|refinery|complex)\b(?!\s+(?:town|city|village))"
    # "Toyota pickups", "Kalashnikov rifles": a name used for what was taken, not a place.
    r"|^\s+(?:pickups?|trucks?|rifles?|guns?|vehicles?|tanks?|missiles?|drones?|helicopters?|jets?)\b",
    re.IGNORECASE)


# What makes "the town" a description rather than an anaphor: a modifier right after it.
POST_MODIFIER = re.compile(r"^\s*(?:['’]s\b|held|controlled|run|(?:that|which|where|who|whose)\b|of\b|in\s+(?!(?:a|an|the)\b)|"
                           r"near|closest|nearest|(?:north|south|east|west)\w*|along|on\s+the\s+(?:road|highway|border)|"
                           r"[A-Z])")


def _place_kind_after(sentence: str, end: int) -> bool:
    """False when the words after a place make it a feature or a thing, not a town."""
    return not FEATURE_AFTER.match(sentence[end:end + 60])


def _describe_target(doc: _Article, index: int, start: int, end: int) -> tuple[list[Target], str]:
    """Targets of a capture in sentence[start:end], and the head kind found."""
    sentence = doc.sentences[index]
    window = sentence[start:end]
    # "The Sagaing towns of A, B and C": a region naming the towns is not the target.
    # (not the setting: "In Mali, two towns … were recaptured")
    places = [m for m in doc.places[index] if start <= m.start < end and not _dateline(sentence, m)
              and not (re.fullmatch(r"\s*In\s+", sentence[start:m.start]) and sentence[m.end:m.end + 1] == ",")
              # ("Afghanistan's third largest city of Herat": the country owns the head)
              and not (m.entity.feature_code in (COUNTRY, REGION) and re.match(r"['’]s\s", sentence[m.end:m.end + 3]))
              and not re.match(r"^\s+(?:towns?|villages?|city|cities)\s+of\b", sentence[m.end:m.end + 20], re.I)]
    heads: list[tuple[int, str]] = []
    for pattern, kind in ((POPULATED_NOUN, "populated"), (PARTIAL_NOUN, "partial"),
                          (NONPOP_NOUN, "nonpop"), (NON_TERRITORY, "none")):
        m = pattern.search(window)
        if m:
            heads.append((m.start() + start, kind))
    if places:
        heads.append((places[0].start, "place"))
    if not heads:
        return [], "none"
    # The first head; at one position the pattern listed first ("district capital" is a
    # town, not a "district").
    pos, kind = min(heads, key=lambda h: h[0])
    if kind == "none":
        return [], "none"
    # "took control of the debate in the town of X": what was taken is a thing before the
    # town, in a word none of the patterns knows.
    lead = re.match(r"\s*(?:(?:the|a|an)\s+)?(?:[\w-]+\s+){1,3}?(?:in|at|inside|near)\s", window)
    if kind in ("populated", "place") and lead and start + lead.end() <= pos:
        return [], "none"
    if kind == "partial":
        after = [p for p in places if p.start > pos and p.entity.feature_code
                 and re.search(r"\bof\s+(?:the\s+)?$", sentence[max(0, p.start - 10):p.start])]
        ref = after[0].entity if after else doc.last_populated_before(index, pos)
        return [Target(ref, False, ref is not None, "partial")], kind
    if kind == "nonpop":
        ref = places[0].entity if places else None
        anaphor = re.search(r"\bof\s+the\s+(town|city|village)\b", window, re.IGNORECASE)
        if ref is None and anaphor:
            ref = doc.last_populated_before(index, pos, anaphor.group(1).lower())
        return [Target(ref, False, ref is not None, "reference")], kind
    if kind == "place":
        targets = [places[0]]
        for prev, nxt in zip(places, places[1:]):
            gap = sentence[prev.end:nxt.start]
            if nxt.entity.feature_code in (REGION, COUNTRY):
                break  # "Nyala, South Darfur": the town's address, not a second town
            if re.fullmatch(r"(?:\s+[A-Z]\w+)?\s*(?:,|and|,\s*and|as\s+well\s+as)\s*(?:the\s+(?:towns?|villages?|city|cities)\s+of\s+)?",
                            gap):
                targets.append(nxt)
            else:
                break
        first = doc.populated(targets[0])
        return [Target(t.entity, (doc.populated(t) or (first and t.entity.feature_code is None))
                       and _place_kind_after(sentence, t.end), True, "named") for t in targets], kind
    # A populated-place noun: "the town of X", "the towns of A, B and C", "the town",
    # "a number of villages around X", "the last major town in Homs province held by IS".
    noun = POPULATED_NOUN.search(sentence, pos)
    assert noun is not None
    rest = sentence[noun.end():end]
    named = [p for p in places if p.start >= noun.end()]
    if named and re.match(r"^\s+(?:of|include[sd]?|including|such\s+as)\s+$", sentence[noun.end():named[0].start]):
        targets = [named[0]]
        for prev, nxt in zip(named, named[1:]):
            if re.fullmatch(r"\s*(?:,|and|,\s*and|as\s+well\s+as)\s*", sentence[prev.end:nxt.start]):
                targets.append(nxt)
            else:
                break
        return [Target(t.entity, True, True, "named") for t in targets], kind
    appositive = _appositive_list(doc, index, noun.end()) if noun.group(2) else []
    if appositive:
        return appositive, kind
    before = sentence[max(start, pos - 40):pos].lower()
    counted = re.search(r"\b(?:a\s+(?:number|string|series|handful|cluster)\s+of|several|dozens\s+of|\d+|two|three|four|"
                        r"five|many|some)\s+"
                        r"(?:\w+\s+)?$", before)
    if noun.group(2) and counted:
        count = _number(counted.group().split()[0])
        listed = _resolve_listed(doc, index, count) if count and not any(doc.populated(p) for p in named) else []
        if listed:
            return listed, kind
        ref = named[0].entity if named else None
        return [Target(ref, True, False, "unnamed")], kind
    definite = "the" in before.split()[-1:]
    if definite and noun.group(2) and not re.match(r"^\s+of\b", rest):
        return [], kind  # "the towns": those named before, each with its own capture
    # "the town" with no modifier after it ("retook the town soon after troops left") is the
    # town named before; "the town held by IS", "the town closest to X" describe another.
    if definite and not POST_MODIFIER.match(rest):
        ref = doc.last_populated_before(index, pos, noun.group(1).lower())
        return ([Target(ref, True, True, "anaphor")] if ref else []), kind
    # "The key town that was seized Monday, Bunagana, is …": the name in apposition.
    apposition = next((m for m in doc.places[index] if m.start > noun.end()
                       and re.search(r",\s*$", sentence[max(0, m.start - 3):m.start])
                       and re.match(r"^\s*,", sentence[m.end:m.end + 3])
                       and (doc.populated(m) or m.entity.feature_code is None)), None)
    if apposition is not None and not re.search(r"[.;]", sentence[noun.end():apposition.start]):
        return [Target(apposition.entity, True, True, "description")], kind
    return _resolve_description(doc, index, rest, noun.group(1).lower()), kind


def _appositive_list(doc: _Article, index: int, after: int) -> list[Target]:
    """"Two rebel-held towns, Gao and Timbuktu, have been recaptured": the list set off by
    commas right after a plural town noun ending at ``after``."""
    sentence = doc.sentences[index]
    if not re.match(r"^,\s", sentence[after:after + 2]):
        return []
    listed = sorted((m for m in doc.places[index] if m.start > after), key=lambda m: m.start)
    if not listed or sentence[after + 1:listed[0].start].strip():
        return []
    run = listed[:1]
    for nxt in listed[1:]:
        if not re.fullmatch(r"\s*(?:,|and|,\s*and)\s*", sentence[run[-1].end:nxt.start]):
            break
        run.append(nxt)
    if len(run) < 2 or not re.match(r"^\s*,", sentence[run[-1].end:run[-1].end + 3]) or not all(
            doc.populated(m) or m.entity.feature_code is None for m in run):
        return []
    return [Target(m.entity, True, True, "description") for m in run]


def _resolve_description(doc: _Article, index: int, description: str, noun: str = "town") -> list[Target]:
    """'the last major town in Homs province held by Islamic State' -> the town
    the next sentences name ("at the town of al-Sukhna"), in the same region and
    not said to be held by someone else."""
    regions = {m.entity.name for m in doc.places[index] if m.entity.feature_code == REGION and m.entity.name in description}
    # "a western town …" is the next "the town of X", not "the city of Mosul" named in
    # passing; another noun only when no such town follows.
    found: list[Entity] = []
    for i in range(index + 1, min(len(doc.sentences), index + 4)):
        if _is_caption(doc.sentences[i]):
            continue
        sentence = doc.sentences[i]
        for m in doc.places[i]:
            # "… retook a strategic town in X region. … took Gambale": the place the next
            # sentences say was taken is the town described.
            taken = m.entity.feature_code is None and (
                CAPTURE_BEFORE.search(sentence[max(0, m.start - 40):m.start])
                or FELL_AFTER.match(sentence[m.end:m.end + 40]) or PASSIVE_AFTER.match(sentence[m.end:m.end + 40])) or (
                # "… captured a port city in the south. The fall of Mukalla …"
                doc.populated(m) and bool(re.search(r"\b(?:fall|capture|seizure|takeover)\s+of\s+$",
                                                    sentence[max(0, m.start - 20):m.start], re.I)))
            # "Bariire, in Lower Shabelle, is about 50 km from Mogadishu": the town described.
            located = m.start == 0 and m.entity.feature_code in (None, POPULATED) and LOCATED_AFTER.match(
                sentence[m.end:m.end + 80])
            if not doc.populated(m) and not taken and not located:
                continue
            # (a place GeoNames lacks has no region to contradict the description's)
            if regions and m.entity.admin1 is not None and m.entity.admin1 not in regions:
                continue
            if located:
                return [Target(m.entity, True, True, "description")]
            cue = (re.search(r"(\bneighbou?ring\s+)?\b(town|city|village)\s+of\s+$", sentence[max(0, m.start - 35):m.start], re.I)
                   or re.match(r"^\s+()(town|city|village)(?:ship)?\b", sentence[m.end:m.end + 12], re.I))
            if not cue and taken:
                return [Target(m.entity, True, True, "description")]
            # "the neighbouring town of X", "north-west of X city": another town, a landmark.
            if not cue or cue.group(1) or re.search(r"\b(?:north|south|east|west)[\w-]*\s+of\s+(?:the\s+)?$",
                                                    sentence[max(0, m.start - 30):m.start], re.I):
                continue
            if cue.group(2).lower() == noun:
                return [Target(m.entity, True, True, "description")]
            found.append(m.entity)
    if found:
        return [Target(found[0], True, True, "description")]
    # "… seized a district capital in the north. Kawlin is the first capital seized by …":
    # the one town a later sentence names beside a capture word.
    # Not a capital (a government: "Moscow said"), a speaker, a dateline ("GOMA, Congo"),
    # nor the district or outskirts "of" a town.
    for i in range(index + 1, min(len(doc.sentences), index + 4)):
        sentence = doc.sentences[i]
        if _is_caption(sentence):
            continue
        verbs = [v.start() for v in CAPTURE_VERB.finditer(sentence)] + [
            v.start() for v in NOMINAL_CAPTURE.finditer(sentence)]
        towns = {m.entity.id: m.entity for m in doc.places[i]
                 if (doc.populated(m) or (m.entity.feature_code is None
                                          and IN_REGION_AFTER.match(sentence[m.end:m.end + 50])))
                 and m.entity.feature_code != CAPITAL and not _speaker(sentence, m)
                 and not sentence[m.start:m.end].isupper()
                 and not (m.start == 0 and re.match(r"^\s*,", sentence[m.end:m.end + 3]))
                 and not re.search(r"\b(?:headquarters|outskirts|district|province|region|capital|edge)\s+of\s+(?:the\s+)?$",
                                   sentence[max(0, m.start - 30):m.start], re.I)
                 and not (regions and m.entity.admin1 not in regions)
                 and any(-80 < v - m.end < 80 for v in verbs)}
        if len(towns) == 1:
            return [Target(next(iter(towns.values())), True, True, "description")]
    return []


def _resolve_listed(doc: _Article, index: int, count: int) -> list[Target]:
    """'seized two towns …' -> the two towns the next sentences list together ("moved into
    A and B", "attacks on the towns of A and B"): a list of exactly ``count`` places, each
    populated (or all under a "towns of" cue)."""
    for i in range(index + 1, min(len(doc.sentences), index + 3)):
        sentence, mentions = doc.sentences[i], sorted(doc.places[i], key=lambda m: m.start)
        run: list[Mention] = []
        for m in mentions:
            if run and not re.fullmatch(r"\s*(?:,|and|,\s*and)\s*", sentence[run[-1].end:m.start]):
                run = []
            run.append(m)
            if len(run) != count:
                continue
            nxt = next((n for n in mentions if n.start > m.end), None)
            if nxt is not None and re.fullmatch(r"\s*(?:,|and|,\s*and)\s*", sentence[m.end:nxt.start]):
                continue  # a longer list: not these
            cued = re.search(r"\b(?:towns|villages|cities)\s+of\s+(?:the\s+)?$", sentence[max(0, run[0].start - 30):run[0].start], re.I)
            # (a name GeoNames lacks may sit in the list beside a known town: "A and B")
            if all(doc.populated(r) or r.entity.feature_code is None for r in run) and (
                    cued or any(doc.populated(r) for r in run)):
                return [Target(r.entity, True, True, "description") for r in run]
    return []


def _modality(doc: _Article, index: int, trigger_start: int, trigger: str) -> str:
    sentence = doc.sentences[index]
    prefix = sentence[:trigger_start]
    clause = prefix[max(prefix.rfind(","), prefix.rfind(";"), 0):]
    following = doc.sentences[index + 1] if index + 1 < len(doc.sentences) else ""
    # "… it had taken Bakhmut. The army denied that Bakhmut fell": a denial in the next
    # sentence counts when it is about a claim or a capture.
    if DENIED.search(sentence) or DENIED.search(following[:160]) and (
            "claim" in following.lower() or CAPTURE_VERB.search(following)):
        return "denied"
    stripped = prefix.strip().lstrip("\"“'‘")
    if trigger.lower().endswith("ing") and (not stripped or re.search(r"\bthat$", stripped)):
        return "hypothetical"  # "Capturing al-Sukhna means…", "announced that taking X was a priority"
    # "Russia's capture of Soledar would have symbolic value": the noun's own clause says
    # it has not happened.
    rest = sentence[trigger_start + len(trigger):]
    if re.match(r"^\s+of\b", rest) and re.search(r"\b(?:would|could|might)\b", re.split(r"[;.]", rest)[0]):
        return "hypothetical"
    if HYPOTHETICAL.search(clause) or (re.search(r"\b(?:after|once|when)\b", clause, re.I)
                                       and FUTURE.search(sentence)):
        return "hypothetical"
    if PLANNED.search(prefix[-60:]) or WILL.search(prefix) or (
            INFINITIVE.search(prefix) and not DONE_INFINITIVE.search(prefix)):
        return "planned"
    # "Rebels who signed a deal two months ago seized …": a relative clause dates its
    # own verb, not the capture.
    dated = RELATIVE_CLAUSE.sub(" ", sentence)
    # "… have already fallen to": an earlier change the news is set against.
    if LONG_AGO.search(dated) or EARLIER_THAN.search(prefix[-100:]) or re.search(r"\balready\s+(?:been\s+)?$", prefix) or (
            PLUPERFECT.search(prefix) and not ATTRIBUTION.search(sentence)):
        return "background"
    year = YEAR.search(dated)
    published = doc.article.published
    if year and published and int(year.group(1)) < published.year:
        return "background"
    bg = BACKGROUND.search(sentence)
    if bg and (bg.group().lower() == "since" and bg.start() < trigger_start or index > 4):
        published = doc.article.published
        month = re.search(r"in\s+(\w+)$", bg.group())
        if not (month and published and month.group(1).lower() == published.strftime("%B").lower()):
            return "background"
    if ATTRIBUTION.search(sentence):
        if NEUTRAL_SOURCE.search(sentence):
            return "asserted"
        if PARTY_SOURCE.search(sentence):
            return "claimed"
    return "asserted"


def _capture_type(actor1: Actor | None, actor2: Actor | None, country: str | None) -> str:
    if actor1 is not None:
        own_state = actor1.is_state and (country is None or actor1.country == country)
        return GOV_REGAINS if own_state else NSA_OVERTAKES
    if actor2 is not None and actor2.is_state:
        return NSA_OVERTAKES
    return GOV_REGAINS if actor2 is not None else NSA_OVERTAKES


def _actor2(doc: _Article, index: int, start: int, end: int, actor1: Actor | None) -> Actor | None:
    sentence = doc.sentences[index]
    for m in doc.actors[index]:
        a = doc.actor(m)
        if a is None or a == actor1:
            continue
        if start <= m.start < end or HELD_BY.search(sentence[max(0, m.start - 25):m.start]) \
                or re.match(r"^-?(?:held|controlled)\b", sentence[m.end:m.end + 12]):
            if m.start >= start or sentence[m.end:m.end + 1] == "-":
                return a
    # "… was taken by the army. The gap … is still controlled by ISIS."
    if index + 1 < len(doc.sentences):
        nxt = doc.sentences[index + 1]
        for m in doc.actors[index + 1]:
            a = doc.actor(m)
            if a is not None and a != actor1 and HELD_BY.search(nxt[max(0, m.start - 25):m.start]) or \
                    (a is not None and a != actor1 and re.search(r"controlled\s+by\s+$", nxt[max(0, m.start - 20):m.start])):
                return a
    return None


def _captures(doc: _Article, index: int) -> list[Draft]:
    sentence = doc.sentences[index]
    drafts: list[Draft] = []
    for verb in CAPTURE_VERB.finditer(sentence):
        word = verb.group()
        after = sentence[verb.end():]
        if NEGATED.search(sentence[max(0, verb.start() - 30):verb.start()]) or PREVENTED.search(
                sentence[max(0, verb.start() - 90):verb.start()]) or UNCONFIRMED.search(sentence[:verb.start()]):
            continue
        if DROVE_OUT.match(word) and not (ARMED_NOUN.search(word) or any(
                verb.start() < m.start < verb.end() for m in doc.actors[index])):
            continue  # "the fighting drove residents out of the city": people fled, nobody took it
        # "was taken to a hospital", "took Williams into custody", "taken hostage": moved,
        # arrested, not captured.
        if re.match(r"^t(?:ook|aken?|akes|aking)$", word, re.I) and re.match(
                r"^(?:\s+[A-Z][\w-]*){0,3}\s+(?:to|into|away|hostage|prisoner|captive|aback)\b", after):
            continue
        took_over = re.match(r"^\s+over\b", after, re.I) if WEAK_VERB.match(word) else None
        if not took_over and re.match(r"^\s+(?:part|place|over|off|up|care|note|steps?|responsibility|advantage)\b",
                                      after, re.I) or re.match(r"^seiz", word, re.I) and re.match(
                r"^\s+(?:on|upon)\s+(?!(?:\w+day|\d+|January|February|March|April|May|June|July|August|September|"
                r"October|November|December)\b)", after):  # "seized on the remarks", not "seized on Monday"
            continue
        if GAIN.match(word) and not CONTROL_OF.match(after):
            continue
        if RESTORE.match(word) and not CONTROL_OF.match(after) and not RESTORED_OBJECT.match(after) and not any(
                verb.end() < m.start <= verb.end() + 5 for m in doc.places[index]):
            continue
        state = STATE_OF_CONTROL.search(word)
        if state:
            # "… are in control of the town of X": a state, so the holder must be armed.
            of = re.match(r"^\s+(?:of|over)\s+", after)
            if of is None or not ARMED_NOUN.search(sentence[:verb.start()][-60:]) and not doc.actors[index]:
                continue
            control = of
        elif took_over:
            control = None
            after = after[took_over.end():]
        else:
            control = CONTROL_OF.match(after)
        obj_start = verb.end() + (took_over.end() if took_over else 0) + (control.end() if control else 0)
        stop = TARGET_STOP.search(sentence, obj_start)
        obj_end = stop.start() if stop else len(sentence)
        now_held = bool(NOW_HELD.match(word))
        under = bool(UNDER_CONTROL.search(word))
        if now_held and not re.match(r"^\s+by\b", after, re.I):
            continue
        # Passive needs a participle: "were gaining ground" is progressive, not passive.
        participle = bool(re.search(r"(?:ed|en|run)$", word, re.I))
        passive = (not state and participle and bool(PASSIVE_BEFORE.search(sentence[:verb.start()]))) \
            or bool(FELL.match(word)) or now_held or under or bool(HANDS.search(word))
        if FELL.match(word) and not re.match(r"^\s+(?:to|into\s+the\s+hands\s+of)\b", after, re.I):
            continue
        actor1: Actor | None = None
        if passive:
            clause_start = max(sentence.rfind(";", 0, verb.start()), 0)
            # "In the X direction, …, the village of Y was liberated": the subject is the
            # noun phrase after the last comma when one starts there (not a list: "A, B and C").
            comma = sentence.rfind(",", clause_start, verb.start())
            if comma > 0 and re.match(r"^\s*(?:the|a|an)\s", sentence[comma + 1:verb.start()], re.I):
                clause_start = comma + 1
            # "The monitor confirmed that the towns were taken": the subject follows "that".
            that = list(re.finditer(r"\b(?:said|says|confirmed|reported|claimed|announced|stated|added|"
                                    r"showed|indicated|denied)\s+that\s", sentence[clause_start:verb.start()]))
            if that:
                clause_start += that[-1].end()
            # "Kyiv said its forces left after the town was captured": the subject is in the
            # subordinate clause, when that clause has a head noun or a place.
            sub = list(re.finditer(r"\b(?:after|before|when|once|because|while|until)\s",
                                   sentence[clause_start:verb.start()]))
            targets, kind = _describe_target(doc, index, clause_start + sub[-1].end(), verb.start()) if sub \
                else ([], "none")
            if kind == "none":
                targets, kind = _describe_target(doc, index, clause_start, verb.start())
            if not targets and re.fullmatch(r"\s*(?:it|It)\s+(?:is|was|has\s+been|had\s+been)\s+(?:now\s+)?",
                                            sentence[clause_start:verb.start()]):
                # "It is now controlled by the militants": the town the article is about.
                ref = doc.last_populated_before(index, 0, "town")
                targets, kind = ([Target(ref, True, True, "anaphor")] if ref else []), "populated"
            # ("taken by French and Malian troops": the actor named last in a pair)
            by = [m for m in doc.actors[index] if m.start >= verb.end()
                  and (re.search(r"\b(?:by|to|of)\s+(?:the\s+)?(?:[A-Z][\w-]*\s+and\s+)?$",
                                 sentence[verb.end():m.start][-45:])
                       or (under and m.start - verb.end() < 30))]
            # "back in Ukrainian hands": the holder is inside the phrase.
            held = [m for m in doc.actors[index] if verb.start() <= m.start < verb.end()] if HANDS.search(word) else []
            actor1 = doc.actor((held or by)[0]) if held or by else None
        else:
            head = sentence[obj_start:obj_start + 40]
            if WEAK_VERB.match(word) and not control and not state and not (
                    any(obj_start <= m.start < obj_start + 40 for m in doc.places[index])
                    or POPULATED_NOUN.search(head) or NONPOP_NOUN.search(head)):
                continue
            if doc.person_at(index, obj_start):
                continue  # "troops captured Abu Bakr al-Suri, a commander, in Idlib": a person
            targets, kind = _describe_target(doc, index, obj_start, obj_end)
            # The subject: the first actor of the clause that holds the verb, after
            # any "X said (that)", and not one named as a backer or a target.
            said = list(re.finditer(r"\b(?:said|says|reported|reports|claimed|that|since)\b", sentence[:verb.start()]))
            clause_start = said[-1].end() if said and said[-1].group() != "since" else 0
            # "IS fighters flee as Kurdish forces retake Sinjar": the clause of the verb.
            joined = list(re.finditer(r"\b(?:as|while|whereas|when)\s", sentence[clause_start:verb.start()]))
            if joined and any(clause_start + joined[-1].end() <= m.start and m.end <= verb.start()
                              for m in doc.actors[index]):
                clause_start += joined[-1].end()
            before = [m for m in doc.actors[index] if clause_start <= m.start and m.end <= verb.start()
                      # (a backer: "backed by the army"; not "Rwandan-backed M23", the captor;
                      # "troops from the Malian army" are the army's)
                      and not (re.search(r"(?:(?<![-\w])backed|supported|aided|by|against|with|from)\s+(?:the\s+)?$",
                                         sentence[max(0, m.start - 20):m.start])
                               and not re.search(r"\b(?:troops|soldiers|units|forces|fighters|elements)\s+from\s+"
                                                 r"(?:the\s+)?$", sentence[max(0, m.start - 30):m.start], re.I))
                      and not re.match(r"^-(?:backed|held|led)", sentence[m.end:m.end + 8])]
            actor1 = doc.actor(before[0]) if before else None
            # "The Sudanese army said its forces restored X": the speaker's own forces.
            own = re.match(r"\s*(?:(?:on\s+)?\w+day\s+)?(?:that\s+)?(?:(?:its|their)\s+(?:own\s+)?"
                           r"(?:forces|troops|fighters|units|soldiers)|they|it)\b",
                           sentence[clause_start:verb.start()])
            if own and said:
                # The subject that speaks, not an actor of its own clauses ("Rwandan forces
                # sent to help the army fight jihadists said they had recaptured X").
                speaker = [m for m in doc.actors[index] if m.end <= said[-1].start()
                           and not re.search(r"\b(?:against|fight|fighting|battle|battling|from)\s+(?:the\s+)?$",
                                             sentence[max(0, m.start - 20):m.start], re.I)]
                if speaker:
                    actor1 = doc.actor(speaker[0])
        if not targets:
            continue
        if actor1 is None and not passive:
            actor1 = doc.state_subject(index, verb.start())
        if actor1 is not None or ARMED_NOUN.search(sentence[:verb.start()]):
            targets = _bare_names_populated(doc, index, targets, verb.start() if passive else None,
                                            None if passive else obj_start)
        actor2 = _actor2(doc, index, obj_start if not passive else 0, obj_end if not passive else verb.start(), actor1)
        actor1, actor2 = doc.specific(actor1, actor2), doc.specific(actor2, actor1)
        modality = _modality(doc, index, verb.start(), word)
        for target in targets:
            country = doc.place_country(target.place, index)
            confidence = 0.85
            if modality == "claimed":
                confidence = 0.7
            elif modality != "asserted":
                confidence = 0.5
            if actor1 is None:
                confidence -= 0.2
            if target.resolved_from in ("description", "anaphor"):
                confidence -= 0.1
            if not target.named:
                confidence -= 0.15
            drafts.append(Draft(index, sentence, BATTLES, _capture_type(actor1, actor2, country), actor1, actor2,
                                target, modality, round(max(confidence, 0.05), 2)))
    return drafts


def _event_place(doc: _Article, indexes: list[int]) -> Entity | None:
    """Where a non-capture event happened: the most specific place named."""
    best: Entity | None = None
    for i in indexes:
        for m in doc.places[i]:
            code = m.entity.feature_code
            if code is None and best is None:
                best = m.entity  # named but not in GeoNames ("town of Nassib")
            elif code and code.startswith("PPL"):
                return m.entity if best is None or best.feature_code is not None else best
    for i in indexes:
        for m in doc.places[i]:
            if m.entity.feature_code == REGION:
                return best or m.entity
    return best


def _other_events(doc: _Article) -> list[Draft]:
    drafts: list[Draft] = []
    # Explosions: one event for a run of sentences about the same blast.
    runs: list[list[int]] = []
    for i in sorted(doc.usable):
        s = doc.sentences[i]
        if EXPLOSION.search(s) and not AIRSTRIKE.search(s):
            if runs and i - runs[-1][-1] <= 3:
                runs[-1].append(i)
            else:
                runs.append([i])
    for run in runs:
        text = " ".join(doc.sentences[i] for i in run)
        sub = "Suicide bomb" if re.search(r"\bsuicide\b", text, re.I) else "Remote explosive/landmine/IED"
        victims = [doc.actor(m) for i in run for m in doc.actors[i]
                   if not re.search(r"blamed\s+(?:the\s+)?$", doc.sentences[i][max(0, m.start - 15):m.start])]
        place = _event_place(doc, run)
        drafts.append(Draft(run[0], doc.sentences[run[0]], EXPLOSIONS, sub, None,
                            next((v for v in victims if v), None),
                            Target(place, False, place is not None, "named") if place else None,
                            _modality(doc, run[0], 0, "explosion"), 0.7,
                            max((f for f in (fatalities(doc.sentences[i]) for i in run) if f is not None), default=None)))
    for i in sorted(doc.usable):
        s = doc.sentences[i]
        m = AIRSTRIKE.search(s)
        if m and STRIKE_DONE.search(s) and not SUPPORT.search(s[max(0, m.start() - 40):m.start()]):
            actor = next((doc.actor(a) for a in doc.actors[i] if a.start < m.start()), None)
            place = _event_place(doc, [i]) or doc.last_populated_before(i, len(s))
            drafts.append(Draft(i, s, EXPLOSIONS, "Air/drone strike", actor, None,
                                Target(place, False, place is not None, "named") if place else None,
                                _modality(doc, i, m.start(), "strike"), 0.65, fatalities(s)))
        c = CLASH.search(s)
        if c:
            a1 = next((doc.actor(a) for a in reversed(doc.actors[i]) if a.end <= c.start()), None)
            a2 = next((doc.actor(a) for a in doc.actors[i] if a.start >= c.end() and doc.actor(a) != a1), None)
            if a1 or a2:
                place = _event_place(doc, [i])
                drafts.append(Draft(i, s, BATTLES, ARMED_CLASH, a1, a2,
                                    Target(place, False, place is not None, "named") if place else None,
                                    _modality(doc, i, c.start(), "clash"), 0.65, fatalities(s)))
        for pattern, sub in ((ABDUCTION, "Abduction/forced disappearance"), (EXECUTION, "Attack")):
            v = pattern.search(s)
            if v:
                a1 = next((doc.actor(a) for a in reversed(doc.actors[i]) if a.end <= v.start()), None)
                if a1 is None:
                    continue
                place = _event_place(doc, [i])
                drafts.append(Draft(i, s, VAC, sub, a1, None,
                                    Target(place, False, place is not None, "named") if place else None,
                                    _modality(doc, i, v.start(), "x"), 0.6, fatalities(s)))
    return drafts


def _strength(d: Draft) -> tuple[int, bool, float]:
    """Which mention of an event to keep: the most factual, then the one naming the actor.
    (A higher MODALITY_RANK is more factual: asserted beats background.)"""
    return (MODALITY_RANK[d.modality], d.actor1 is not None, d.confidence)


def _dedupe(drafts: list[Draft]) -> list[Draft]:
    """One event per (sub-type, place) in an article: the most factual mention wins."""
    best: dict[tuple[str, str], Draft] = {}
    named: dict[tuple[str, str], Draft] = {}  # per key, the first mention naming actor1
    order: list[tuple[str, str]] = []
    for d in drafts:
        place = d.target.place if d.target else None
        # Captures of one place are one event whichever sub-type each mention implied
        # (a sentence without the captor cannot tell regained from overtaken).
        # Positions near a town are not the town: the populated flag is part of the key.
        kind = f"capture:{d.target.populated if d.target else False}" if d.sub_event_type in CAPTURE_SUBTYPES \
            else d.sub_event_type
        # Two spellings of one village GeoNames lacks (Maiorsk / Mayorsk) are one place.
        if place is None or not (d.target and d.target.named):
            where = f"s{d.sentence_index}"
        else:
            where = place.id if place.geonames_id else f"place:{skeleton(place.name)}"
        key = (kind, where)
        if key not in best:
            order.append(key)
            best[key] = d
            named[key] = d
        else:
            if _strength(d) > _strength(best[key]):
                best[key] = d
            if named[key].actor1 is None and d.actor1 is not None:
                named[key] = d
    # The most factual mention may not say who ("the village was recaptured"); another
    # mention of the same capture that names the captor completes it.
    out: list[Draft] = []
    for k in order:
        d, other = best[k], named[k]
        if d.actor1 is None and other.actor1 is not None and d.sub_event_type in CAPTURE_SUBTYPES:
            d = replace(d, actor1=other.actor1, actor2=d.actor2 or other.actor2,
                        sub_event_type=other.sub_event_type)
        out.append(d)
    return out


def event_id(article_id: str, sub_event_type: str, place: str, sentence_index: int) -> str:
    raw = "\x1f".join((article_id, sub_event_type, place, str(sentence_index)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def _country_name(iso2: str | None) -> str | None:
    return default_gazetteer().country_name(iso2) if iso2 else None


def _to_event(doc: _Article, d: Draft) -> Event:
    article = doc.article
    place = d.target.place if d.target else None
    named = bool(d.target and d.target.named and place)
    country = doc.place_country(place, d.sentence_index)
    admin1 = place.admin1 if place else None
    if admin1 is None:  # "villages around al-Koum in the northeast of Homs province"
        admin1 = next((m.entity.name for m in doc.places[d.sentence_index]
                       if m.entity.feature_code == REGION and m.entity.country == country), None)
    when = resolve_date(d.sentence, article.published)
    geo = place if named and place and place.feature_code not in (COUNTRY,) else None
    return Event(
        event_id=event_id(article.id, d.sub_event_type, (place.id if place else ""), d.sentence_index),
        event_date=when.date if when else None,
        event_type=d.event_type, sub_event_type=d.sub_event_type,
        actor1=d.actor1.name if d.actor1 else None, actor2=d.actor2.name if d.actor2 else None,
        actor1_id=d.actor1.entity_id if d.actor1 else None, actor2_id=d.actor2.entity_id if d.actor2 else None,
        country=_country_name(country), country_code=country,
        admin1=admin1,
        location=geo.name if geo else None,
        latitude=geo.latitude if geo else None, longitude=geo.longitude if geo else None,
        geonames_id=geo.geonames_id if geo else None,
        populated_place=bool(d.target and d.target.populated),
        fatalities=d.fatalities,
        source="; ".join(c.name for c in article.copies if c.name) or (article.source or "unknown"),
        notes=d.sentence, modality=d.modality, confidence=d.confidence,  # type: ignore[arg-type]
        cameo_code=CAMEO.get(d.sub_event_type),
        article_ids=[article.id], doc_ids=list(article.doc_ids), sources=list(article.copies),
        independent_sources=1, cluster_id=None, published=article.published,
    )


def extract_events(article: Article) -> list[Event]:
    """Conflict events an article reports; ``article.entities`` must be tagged."""
    # Cheap first pass: most world news names no armed actor and no conflict word;
    # such articles cannot hold an event, so the sentence rules never run on them.
    if not any(e.type == "ARMED_ACTOR" for e in article.entities) and not CONFLICT_KEYWORDS.search(
            f"{article.title}\n{article.text}"):
        return []
    doc = _Article(article)
    drafts: list[Draft] = []
    for i in sorted(doc.usable):
        if CAPTURE_VERB.search(doc.sentences[i]):
            drafts.extend(_captures(doc, i))
    drafts = _denied_everywhere(_carry_captor(doc, drafts))
    drafts.extend(_other_events(doc))
    return [_to_event(doc, d) for d in _dedupe(drafts)]


def _denied_everywhere(drafts: list[Draft]) -> list[Draft]:
    """A capture the article reports as denied ("Ukraine denied that Soledar had fallen",
    "the claim was not true") is denied in every sentence that mentions it: the claim the
    denial answers is usually told first, as if it were a fact."""
    denied = {d.target.place.id for d in drafts
              if d.modality == "denied" and d.target and d.target.place and d.target.named}
    return [replace(d, modality="denied", confidence=min(d.confidence, 0.5))
            if d.target and d.target.place and d.target.place.id in denied else d for d in drafts]


def _carry_captor(doc: _Article, drafts: list[Draft]) -> list[Draft]:
    """A capture that does not say who ("the seized towns include A, B and C") is by the
    captor of the capture reported just before it (this sentence or the two before)."""
    out: list[Draft] = []
    last: Draft | None = None
    for d in drafts:
        if d.actor1 is None and last is not None and d.sentence_index - last.sentence_index <= 2:
            actor2 = d.actor2 if d.actor2 != last.actor1 else None
            country = doc.place_country(d.target.place if d.target else None, d.sentence_index)
            d = replace(d, actor1=last.actor1, actor2=actor2 or last.actor2,
                        sub_event_type=_capture_type(last.actor1, actor2 or last.actor2, country))
        if d.actor1 is not None:
            last = d
        out.append(d)
    return out

