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

The parts: pipelines.taxonomy (types, sub-types, CAMEO codes), pipelines.event_doc (the
article's sentences and mentions), pipelines.modality, pipelines.capture_verb and
pipelines.captures (the capture rules); here the other events and the assembly.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import replace

from pipelines.capture_verb import CAPTURE_VERB
from pipelines.captures import (
    ARMED_NOUN,
    captures,
    carry_captor,
    denied_everywhere,
    reversed_background,
    unnamed_retaker,
)
from pipelines.dates import resolve_date
from pipelines.entities import CONFLICT_KEYWORDS
from pipelines.event_doc import NUMBER_WORDS, Draft, EventDoc, Target, number
from pipelines.gazetteer import COUNTRY, REGION, default_gazetteer
from pipelines.modality import modality_of
from pipelines.taxonomy import (
    ARMED_CLASH,
    BATTLES,
    CAMEO,
    CAPTURE_SUBTYPES,
    EXPLOSIONS,
    MODALITY_RANK,
    NEWS_MODALITIES,
    VAC,
)
from pipelines.text import skeleton
from schemas.models import Article, Entity, Event

log = logging.getLogger(__name__)

EXPLOSION = re.compile(r"\b(?:explosions?|blasts?|bomb(?:s|ing|ings|er|ers)?|IEDs?|suicide\s+attack\w*)\b", re.IGNORECASE)
AIRSTRIKE = re.compile(r"\b(?:air\s*strikes?|airstrikes?|air\s+raids?|drone\s+strikes?|drone\s+attacks?)\b", re.IGNORECASE)
STRIKE_DONE = re.compile(r"\b(?:conduct\w*|carri\w+\s+out|launch\w*|hit|hits|struck|target\w*|kill\w*|pound\w*)\b",
                         re.IGNORECASE)
SUPPORT = re.compile(r"\b(?:support(?:ed)?|backed|backing|cover|help)\b", re.IGNORECASE)
CLASH = re.compile(r"\b(?:clash(?:ed|es|ing)?\s+with|clashes\s+between|fought|fighting\s+between|battled)\b",
                   re.IGNORECASE)
ABDUCTION = re.compile(r"\b(?:abduct\w*|kidnapp?\w*|taken\s+hostage|forcibly\s+disappeared)\b", re.IGNORECASE)
EXECUTION = re.compile(r"\bexecut(?:ed|es|ing)\b", re.IGNORECASE)

_NUM = r"(\d[\d,]*|" + "|".join(NUMBER_WORDS) + r")"
FATALITIES = (
    re.compile(rf"\bkill(?:ing|ed|s)?\s+(?:at\s+least\s+|more\s+than\s+|about\s+|some\s+|nearly\s+|around\s+)?{_NUM}\b",
               re.IGNORECASE),
    re.compile(rf"\b(?:at\s+least\s+|more\s+than\s+|about\s+|some\s+)?{_NUM}\s+(?:\w+\s+){{0,2}}(?:were\s+|have\s+been\s+|"
               r"had\s+been\s+)?killed\b", re.IGNORECASE),
    re.compile(rf"\bexecut(?:ed|ing)\s+{_NUM}\b", re.IGNORECASE),
)


def fatalities(sentence: str) -> int | None:
    """Deaths the sentence states: 'killing at least 23 fighters' -> 23."""
    for pattern in FATALITIES:
        m = pattern.search(sentence)
        if m:
            return number(m.group(1))
    return None


def _event_place(doc: EventDoc, indexes: list[int]) -> Entity | None:
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


def _other_events(doc: EventDoc) -> list[Draft]:
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
                            modality_of(doc, run[0], 0, "explosion"), 0.7,
                            max((f for f in (fatalities(doc.sentences[i]) for i in run) if f is not None), default=None)))
    for i in sorted(doc.usable):
        s = doc.sentences[i]
        m = AIRSTRIKE.search(s)
        if m and STRIKE_DONE.search(s) and not SUPPORT.search(s[max(0, m.start() - 40):m.start()]):
            actor = next((doc.actor(a) for a in doc.actors[i] if a.start < m.start()), None)
            place = _event_place(doc, [i]) or doc.last_populated_before(i, len(s))
            drafts.append(Draft(i, s, EXPLOSIONS, "Air/drone strike", actor, None,
                                Target(place, False, place is not None, "named") if place else None,
                                modality_of(doc, i, m.start(), "strike"), 0.65, fatalities(s)))
        c = CLASH.search(s)
        if c:
            a1 = next((doc.actor(a) for a in reversed(doc.actors[i]) if a.end <= c.start()), None)
            a2 = next((doc.actor(a) for a in doc.actors[i] if a.start >= c.end() and doc.actor(a) != a1), None)
            if a1 or a2:
                place = _event_place(doc, [i])
                drafts.append(Draft(i, s, BATTLES, ARMED_CLASH, a1, a2,
                                    Target(place, False, place is not None, "named") if place else None,
                                    modality_of(doc, i, c.start(), "clash"), 0.65, fatalities(s)))
        for pattern, sub in ((ABDUCTION, "Abduction/forced disappearance"), (EXECUTION, "Attack")):
            v = pattern.search(s)
            if v:
                a1 = next((doc.actor(a) for a in reversed(doc.actors[i]) if a.end <= v.start()), None)
                if a1 is None:
                    continue
                place = _event_place(doc, [i])
                drafts.append(Draft(i, s, VAC, sub, a1, None,
                                    Target(place, False, place is not None, "named") if place else None,
                                    modality_of(doc, i, v.start(), "x"), 0.6, fatalities(s)))
    return drafts


def _strength(d: Draft) -> tuple[int, bool, float]:
    """Which mention of an event to keep: the most factual, then the one naming the actor.
    (A higher MODALITY_RANK is more factual: asserted beats background.)"""
    return (MODALITY_RANK[d.modality], d.actor1 is not None, d.confidence)


def _key(d: Draft) -> tuple[str, str]:
    place = d.target.place if d.target else None
    # Captures of one place are one event whichever sub-type each mention implied
    # (a sentence without the captor cannot tell regained from overtaken).
    # Positions near a town are not the town: the populated flag is part of the key.
    kind = f"capture:{d.target.populated if d.target else False}" if d.sub_event_type in CAPTURE_SUBTYPES \
        else d.sub_event_type
    # Two spellings of one village GeoNames lacks (Maiorsk / Mayorsk) are one place.
    if place is None or not (d.target and d.target.named):
        return kind, f"s{d.sentence_index}"
    return kind, place.id if place.geonames_id else f"place:{skeleton(place.name)}"


def _dedupe(drafts: list[Draft]) -> list[Draft]:
    """One event per (sub-type, place) in an article: the most factual mention wins."""
    best: dict[tuple[str, str], Draft] = {}
    named: dict[tuple[str, str], Draft] = {}  # per key, the first mention naming actor1
    order: list[tuple[str, str]] = []
    mentions: dict[tuple[str, str], list[Draft]] = {}
    for d in drafts:
        key = _key(d)
        mentions.setdefault(key, []).append(d)
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
        out.extend(_reversal(d, mentions[k]))
    return out


def _reversal(kept: Draft, mentions: list[Draft]) -> list[Draft]:
    """The other capture of a place the article reports as news: "insurgents seized Konna on
    Thursday … the army retook it on Friday" is two events, one per side, when one of them
    takes the place back. (A capture the retake reverses long before is background by then.)"""
    if kept.sub_event_type not in CAPTURE_SUBTYPES or kept.actor1 is None:
        return []
    other = [x for x in mentions if x.actor1 is not None and x.actor1 != kept.actor1 and x.retake != kept.retake
             and x.modality in NEWS_MODALITIES]
    return [max(other, key=_strength)] if other else []


def event_id(article_id: str, sub_event_type: str, place: str, sentence_index: int) -> str:
    raw = "\x1f".join((article_id, sub_event_type, place, str(sentence_index)))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def _country_name(iso2: str | None) -> str | None:
    return default_gazetteer().country_name(iso2) if iso2 else None


def _to_event(doc: EventDoc, d: Draft) -> Event:
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


ELECTION = re.compile(r"\b(?:elections?|electoral|voters?|ballots?|run-?offs?|mayors?|mayoral|municipal\s+polls?)\b",
                      re.IGNORECASE)


def extract_events(article: Article) -> list[Event]:
    """Conflict events an article reports; ``article.entities`` must be tagged."""
    # Cheap first pass: most world news names no armed actor and no conflict word;
    # such articles cannot hold an event, so the sentence rules never run on them.
    if not any(e.type == "ARMED_ACTOR" for e in article.entities) and not CONFLICT_KEYWORDS.search(
            f"{article.title}\n{article.text}"):
        return []
    doc = EventDoc(article)
    drafts: list[Draft] = []
    for i in sorted(doc.usable):
        if CAPTURE_VERB.search(doc.sentences[i]):
            drafts.extend(captures(doc, i))
    drafts = denied_everywhere(doc, reversed_background(unnamed_retaker(doc, carry_captor(doc, drafts))))
    if drafts and not any(doc.actors) and not any(ARMED_NOUN.search(doc.sentences[d.sentence_index]) for d in drafts) \
            and ELECTION.search(f"{article.title}\n{article.text}"):
        # "The movement captured Livorno, a traditional left-wing stronghold": an election
        # story naming nobody armed; the town was won at the polls, not taken.
        drafts = []
    drafts.extend(_other_events(doc))
    return [_to_event(doc, d) for d in _dedupe(drafts)]
