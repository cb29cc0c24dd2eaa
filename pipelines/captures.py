"""Town captures, sentence by sentence: for each capture verb its voice, its target (a
named place, a list, an anaphor, or a description resolved from the next sentences), its
actors, its modality and its ACLED sub-type; then the captor carried to the captures that
do not name one, and a denial spread to every mention of the place (the overview is in
pipelines.events)."""

from __future__ import annotations

import re
from dataclasses import replace

from pipelines.actors import Actor
from pipelines.capture_verb import CAPTURE_VERB
from pipelines.entities import (
    CAPTURE_BEFORE,
    FELL_AFTER,
    IN_REGION_AFTER,
    LOCATED_AFTER,
    PASSIVE_AFTER,
    default_demonyms,
)
from pipelines.event_doc import (
    COUNTRY_FORCES,
    LANDMARK_BEFORE,
    POPULATED_NOUN,
    Draft,
    EventDoc,
    Mention,
    Target,
    is_caption,
    number,
    speaker,
)
from pipelines.gazetteer import CAPITAL, COUNTRY, POPULATED, REGION
from pipelines.modality import DENIAL_STATEMENT, DENIED, modality_of
from pipelines.taxonomy import (
    BATTLES,
    CAPTURE_SUBTYPES,
    GOV_REGAINS,
    NEWS_MODALITIES,
    NSA_OVERTAKES,
)
from schemas.models import Entity

STATE_OF_CONTROL = re.compile(r"(?:\bin\s+(?:[\"“]?\w+[\"”]?\s+)?|(?:full|complete|total)\s+)control$", re.IGNORECASE)
DROVE_OUT = re.compile(r"^(?:drove|driven|drive|drives|driving|pushed|forced|kicked|chased)\s", re.IGNORECASE)
HANDS = re.compile(r"hands$", re.IGNORECASE)
# What separates the items of a list of places: "A, B and C".
LIST_GAP = re.compile(r"\s*(?:,|and|,\s*and)\s*")
NOW_HELD = re.compile(r"^now\s+(?:controlled|held)$", re.IGNORECASE)
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

CONTROL_OF = re.compile(r"^\s*(?:back\s+)?(?:(?:full|complete|total|effective)\s+)?control\s+(?:of|over)\s+|^\s*back\s+",
                        re.IGNORECASE)
PASSIVE_BEFORE = re.compile(r"\b(?:was|were|been|being|is|are|be)\s+(?:\w+ly\s+|also\s+|now\s+|finally\s+|fully\s+)?$",
                            re.IGNORECASE)
FELL = re.compile(r"^(?:fell|falls|fallen|fall|lost)$", re.IGNORECASE)
# "the army prevented the insurgents from taking over the town": it did not change hands.
PREVENTED = re.compile(r"\b(?:prevent\w*|stopp?(?:ed|ing|s)?|block\w*|foil\w*|thwart\w*)\b[^.;]{0,60}\bfrom\s+$",
                       re.IGNORECASE)

# "The fall of Mukalla highlighted …": the noun names a capture the sentence does not tell.
NOMINAL_CAPTURE = re.compile(r"\b(?:fall|capture|seizure|takeover|loss)\s+of\b|['’]s\s+(?:fall|capture|seizure|loss)\b",
                             re.IGNORECASE)
# "Officials have not confirmed the city was back in Ukrainian hands": nobody says it was.
UNCONFIRMED = re.compile(r"\b(?:not|n't|never|yet\s+to)\s+(?:yet\s+|independently\s+|officially\s+)?"
                         r"(?:confirm|verif)\w*\s+(?:that\s+)?[^.;,]{0,60}$", re.IGNORECASE)

PARTIAL_NOUN = re.compile(r"\b(?:half|percent|per cent|%|part|parts|much|most|outskirts|neighbou?rhoods?|"
                          # "took back central Tikrit", "the centre of the city" (not "the central town of")
                          r"central(?=\s+(?-i:[A-Z]))|cent(?:re|er)\s+of|downtown|"
                          r"districts?|quarters?|sections?|edges?|points|key\s+(?:areas?|points?|parts?|positions?|"
                          r"buildings?|sites?))\b", re.IGNORECASE)
NONPOP_NOUN = re.compile(
    r"\b(?:positions?|hills?|hilltops?|(?:air\s*)?bases?|airports?|airfields?|enclaves?|pockets?|territory|"
    r"territories|areas?|desert|roads?|highways?|checkpoints?|bridges?|dams?|(?:oil|gas)\s*fields?|fields?|"
    r"ridges?|mountains?|heights|crossings?|barracks|camps?|headquarters|outposts?|islands?|square\s+(?:km|kilomet\w+|miles)|"
    r"(?:military|operations?|regional|army)\s+command|sites?|"
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
    r"agency|stations?|newspapers?|offices?|buildings?|palace|parliament|compound|prison|jail|hospital|ground|"
    r"cathedral|church|mosque|temple|stadium|university)\b",
    re.IGNORECASE)
# "in complete control of the city, except for certain areas": control of part of it.
EXCEPT_AFTER = re.compile(r",?\s+(?:except|excepting|apart\s+from|save\s+for)\b", re.IGNORECASE)
TARGET_STOP = re.compile(r"[.;:!?]|\s[-–—]\s|,\s+(?:as|while|which|who|where|after|before|when|killing|"
                         r"according|a\s+(?:military|security)|the\s+source|state\s+media|said|adding)\b")

# A verb that takes a place back: "recaptured", "retook", "regained", "restored", "reassumed",
# "liberated", "freed", "back in Ukrainian hands" (and "took back", "control back" after it).
RETAKE = re.compile(r"^re(?:captur|t(?:ook|ak)|gain|stor|assum)|^liberat|^freed$|\bback\b", re.IGNORECASE)
# A day of the article's news: the capture an earlier retake reverses is recent only with one.
RECENT_DAY = re.compile(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tonight|"
                        r"overnight|last\s+night|this\s+(?:morning|week)|earlier\s+(?:today|this\s+week|in\s+the\s+day)|"
                        r"(?:hours|a\s+day|(?:two|three|\d)\s+days)\s+(?:earlier|before|ago))\b", re.IGNORECASE)

# The word after a place that makes it the address of a list of villages ("… of Fuzuli district").
ADDRESS_NOUN = re.compile(r"^\s+(?:district|region|province|governorate|rayon|county)\b", re.IGNORECASE)
# A town noun after each item of a list: "Gochahmadli village, Chiman village and …".
ITEM_NOUN = r"(?:\s+(?:village|town|settlement|city))?"
LIST_OPENER = re.compile(r":|\s[-–—]\s")

# "the Dihrawud district in the southern Uruzgan province": a district named after its town.
IN_PROVINCE = r"\s+(?:in|of)\s+(?:the\s+)?(?:[\w-]+\s+){0,2}?(?:province|governorate)"
ADMIN_DISTRICT = re.compile(r"\s+district" + IN_PROVINCE + r"\b", re.IGNORECASE)
FOLLOWING = re.compile(r"\bthe\s+following\s+(?:[\w-]+\s+)?(?:towns|villages|settlements|cities|localities)\b",
                       re.IGNORECASE)

HELD_BY = re.compile(r"held\s+by\s+$|under\s+(?:the\s+)?control\s+of\s+$|from\s+(?:the\s+)?$", re.IGNORECASE)


def _dateline(sentence: str, m: Mention) -> bool:
    """"BAGHDAD -- The capital of Anbar province fell": where the story was filed."""
    return m.start <= 1 and sentence[m.start:m.end].isupper() and bool(
        re.match(r"^\s*(?:,|\(|--|-\s|—|–)", sentence[m.end:m.end + 4]))


def _bare_names_populated(doc: EventDoc, index: int, targets: list[Target], passive_verb: int | None,
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
            bare = (obj_start is not None and (not sentence[obj_start:m.start].strip() or bool(
                re.fullmatch(r"\s*the\s+", sentence[obj_start:m.start]) and ADMIN_DISTRICT.match(sentence[m.end:])))) or (
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
    # (not "X district in Uruzgan province": an Afghan or Yemeni district is its town's)
    r"^\s+(?:\w+\s+)?(?:oil|gas|air|military)?\s*(?:field|base|airport|province|governorate|"
    r"district(?!" + IN_PROVINCE + r")|region|dam|"
    r"crossing|desert|road|highway|countryside|outskirts|station|offices?|building|compound|prison|jail|hospital|"
    r"palace|barracks|garrison|camp|checkpoint|post|port|bridge|headquarters)\b"
    # (not "X, the headquarters of Y district" nor "X, a port town": towns)
    r"|^,\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?(?:oil|gas|air|military|steel)?\s*(?:field|base|airport|dam|"
    r"crossing|station|building|compound|prison|hospital|palace|barracks|garrison|camp|checkpoint|bridge|plant|"
    r"factory|works|mine|refinery|complex)\b(?!\s+(?:town|city|village))"
    # "St. Mary's Cathedral", "X Grand Mosque": a building named after a saint or a place.
    r"|^\.?\s+(?:[\w'’]+\s+){0,2}(?:cathedral|church|mosque|temple|school|college|university|stadium)\b"
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


def _describe_target(doc: EventDoc, index: int, start: int, end: int) -> tuple[list[Target], str]:
    """Targets of a capture in sentence[start:end], and the head kind found."""
    sentence = doc.sentences[index]
    window = sentence[start:end]
    # "The Sagaing towns of A, B and C": a region naming the towns is not the target.
    # (not the setting: "In Mali, two towns … were recaptured")
    places = [m for m in doc.places[index] if start <= m.start < end and not _dateline(sentence, m)
              and not (re.fullmatch(r"\s*In\s+", sentence[start:m.start]) and sentence[m.end:m.end + 1] == ",")
              # ("Afghanistan's third largest city of Herat": the country owns the head)
              # ("Rakhine State's Pauktaw town": the region's own word before the possessive)
              and not (m.entity.feature_code in (COUNTRY, REGION) and re.match(
                  r"(?:\s+(?:State|Province|Region|Governorate|Oblast|District))?['’]s\s", sentence[m.end:m.end + 16]))
              # ("retook a Red Sea town from the Houthis": a place that describes the town)
              and not (re.search(r"\b(?:a|an)\s+$", sentence[max(0, m.start - 4):m.start])
                       and re.match(r"\s+(?:town|city|village|port)\b", sentence[m.end:m.end + 9], re.I))
              # (but the last item of a list is: "liberated A, B, C villages of Fuzuli district")
              and not (re.match(r"^\s+(?:towns?|villages?|city|cities)\s+of\b", sentence[m.end:m.end + 20], re.I)
                       and not re.search(r"(?:,|\sand)\s*$", sentence[max(0, m.start - 6):m.start]))]
    # "The following settlements … have been liberated – A village, B village, …": the list
    # after the colon or dash.
    if FOLLOWING.search(window):
        listed = _following_list(doc, index, end)
        if listed:
            return listed, "populated"
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
    lead = re.match(r"\s*(?:(?:the|a|an)\s+)?[\"“]?(?:[\w'’-]+[\"”]?\s+){1,4}?(?:in|at|inside|near)\s", window)
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
        address: Mention | None = None
        for prev, nxt in zip(places, places[1:]):
            gap = sentence[(address or prev).end:nxt.start]
            if address is None and re.fullmatch(r"\s+(?:villages|towns|settlements)\s+(?:of|in)\s+(?:the\s+)?", gap) \
                    and ADDRESS_NOUN.match(sentence[nxt.end:nxt.end + 30]):
                address = nxt  # "A, B villages of Fuzuli district, and C, D villages of …": A and B's district
                continue
            if nxt.entity.feature_code in (REGION, COUNTRY):
                break  # "Nyala, South Darfur": the town's address, not a second town
            if re.fullmatch(r"(?:\s+[A-Z]\w+)?" + ITEM_NOUN + r"\s*(?:,|and|,\s*and|as\s+well\s+as)\s*"
                            r"(?:the\s+(?:towns?|villages?|city|cities)\s+of\s+)?",
                            gap if address is None else ADDRESS_NOUN.sub("", gap, count=1)):
                targets.append(nxt)
                address = None
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
    # ("the town of X", "towns including A and B", "the strategic town X")
    if named and re.match(r"^\s+(?:(?:or|and)\s+(?:towns|villages|cities)\s+)?(?:(?:of|include[sd]?|including|"
                          r"such\s+as)\s+)?[“\"‘]?$", sentence[noun.end():named[0].start]):
        targets = [named[0]]
        for prev, nxt in zip(named, named[1:]):
            if re.fullmatch(r"[”\"’]?\s*(?:,|and|,\s*and|as\s+well\s+as)\s*[“\"‘]?", sentence[prev.end:nxt.start]):
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
        count = number(counted.group().split()[0])
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


def _following_list(doc: EventDoc, index: int, after: int) -> list[Target]:
    """The places listed after the first colon or dash after ``after``, each a town."""
    sentence = doc.sentences[index]
    colon = LIST_OPENER.search(sentence, after)
    if colon is None:
        return []
    run: list[Mention] = []
    for m in sorted((m for m in doc.places[index] if m.start >= colon.end()), key=lambda m: m.start):
        gap = sentence[run[-1].end if run else colon.end():m.start]
        if run and not re.fullmatch(ITEM_NOUN + LIST_GAP.pattern, gap) \
                or not run and gap.strip():
            break
        run.append(m)
    return [Target(m.entity, True, True, "named") for m in run if doc.populated(m) or m.entity.feature_code is None]


def _appositive_list(doc: EventDoc, index: int, after: int) -> list[Target]:
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
        if not LIST_GAP.fullmatch(sentence[run[-1].end:nxt.start]):
            break
        run.append(nxt)
    if len(run) < 2 or not re.match(r"^\s*,", sentence[run[-1].end:run[-1].end + 3]) or not all(
            doc.populated(m) or m.entity.feature_code is None for m in run):
        return []
    return [Target(m.entity, True, True, "description") for m in run]


def _resolve_description(doc: EventDoc, index: int, description: str, noun: str = "town") -> list[Target]:
    """'the last major town in Homs province held by Islamic State' -> the town
    the next sentences name ("at the town of al-Sukhna"), in the same region and
    not said to be held by someone else."""
    regions = {m.entity.name for m in doc.places[index] if m.entity.feature_code == REGION and m.entity.name in description}
    # "a western town …" is the next "the town of X", not "the city of Mosul" named in
    # passing; another noun only when no such town follows.
    found: list[Entity] = []
    for i in range(index + 1, min(len(doc.sentences), index + 4)):
        if is_caption(doc.sentences[i]):
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
            # ("the capital of Mekelle" names the town; "the capital of Sennar state" a region)
            town_of = None if re.match(r"^\s+(?:state|province|region|governorate)\b", sentence[m.end:m.end + 15], re.I) \
                else re.search(r"(\bneighbou?ring\s+)?\b(town|city|village|capital)\s+of\s+$", sentence[max(0, m.start - 35):m.start], re.I)
            cue = town_of or re.match(r"^\s+()(town|city|village)(?:ship)?\b", sentence[m.end:m.end + 12], re.I)
            if not cue and taken:
                return [Target(m.entity, True, True, "description")]
            # "the neighbouring town of X", "north-west of X city": another town, a landmark.
            if not cue or cue.group(1) or LANDMARK_BEFORE.search(sentence, max(0, m.start - 30), m.start):
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
        if is_caption(sentence):
            continue
        verbs = [v.start() for v in CAPTURE_VERB.finditer(sentence)] + [
            v.start() for v in NOMINAL_CAPTURE.finditer(sentence)]
        towns = {m.entity.id: m.entity for m in doc.places[i]
                 if (doc.populated(m) or (m.entity.feature_code is None
                                          and IN_REGION_AFTER.match(sentence[m.end:m.end + 50])))
                 and m.entity.feature_code != CAPITAL and not speaker(sentence, m)
                 and not sentence[m.start:m.end].isupper()
                 and not (m.start == 0 and re.match(r"^\s*,", sentence[m.end:m.end + 3]))
                 and not re.search(r"\b(?:headquarters|outskirts|district|province|region|capital|edge)\s+of\s+(?:the\s+)?$",
                                   sentence[max(0, m.start - 30):m.start], re.I)
                 and not (regions and m.entity.admin1 not in regions)
                 and any(-80 < v - m.end < 80 for v in verbs)}
        if len(towns) == 1:
            return [Target(next(iter(towns.values())), True, True, "description")]
    return []


def _resolve_listed(doc: EventDoc, index: int, count: int) -> list[Target]:
    """'seized two towns …' -> the two towns the next sentences list together ("moved into
    A and B", "attacks on the towns of A and B"): a list of exactly ``count`` places, each
    populated (or all under a "towns of" cue)."""
    for i in range(index + 1, min(len(doc.sentences), index + 3)):
        sentence, mentions = doc.sentences[i], sorted(doc.places[i], key=lambda m: m.start)
        run: list[Mention] = []
        for m in mentions:
            if run and not LIST_GAP.fullmatch(sentence[run[-1].end:m.start]):
                run = []
            run.append(m)
            if len(run) != count:
                continue
            nxt = next((n for n in mentions if n.start > m.end), None)
            if nxt is not None and LIST_GAP.fullmatch(sentence[m.end:nxt.start]):
                continue  # a longer list: not these
            cued = re.search(r"\b(?:towns|villages|cities)\s+of\s+(?:the\s+)?$", sentence[max(0, run[0].start - 30):run[0].start], re.I)
            # (a name GeoNames lacks may sit in the list beside a known town: "A and B")
            if all(doc.populated(r) or r.entity.feature_code is None for r in run) and (
                    cued or any(doc.populated(r) for r in run)):
                return [Target(r.entity, True, True, "description") for r in run]
    return []


def _capture_type(actor1: Actor | None, actor2: Actor | None, country: str | None) -> str:
    if actor1 is not None:
        own_state = actor1.is_state and (country is None or actor1.country == country)
        return GOV_REGAINS if own_state else NSA_OVERTAKES
    if actor2 is not None and actor2.is_state:
        return NSA_OVERTAKES
    return GOV_REGAINS if actor2 is not None else NSA_OVERTAKES


def _actor2(doc: EventDoc, index: int, start: int, end: int, actor1: Actor | None) -> Actor | None:
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


def captures(doc: EventDoc, index: int) -> list[Draft]:
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
            # "The monitor confirmed that the towns were taken", "Zelensky says the city of X has
            # been freed": the subject follows the reporting verb.
            that = list(re.finditer(r"\b(?:said|says|confirmed|reported|claimed|announced|stated|added|"
                                    r"showed|indicated|denied)\s+(?:that\s|(?=(?:the|a|an)\s))", sentence[clause_start:verb.start()]))
            if that:
                clause_start += that[-1].end()
            # "Kyiv said its forces left after the town was captured": the subject is in the
            # subordinate clause, when that clause has a head noun or a place.
            sub = list(re.finditer(r"\b(?:after|before|when|once|because|while|until)\s",
                                   sentence[clause_start:verb.start()]))
            targets, kind = _describe_target(doc, index, clause_start + sub[-1].end(), verb.start()) if sub \
                else ([], "none")
            # "… retook the headquarters and the hospital, which had been occupied by ISIL":
            # the subject is what the relative pronoun stands for, after the clause's last comma.
            which = re.search(r",\s*(?:which|that)\s+(?:\w+\s+){0,3}$", sentence[clause_start:verb.start()])
            relative = False
            if kind == "none" and which:
                relative = True
                antecedent = clause_start + which.start()
                targets, kind = _describe_target(doc, index, max(sentence.rfind(",", clause_start, antecedent) + 1,
                                                                 clause_start), antecedent)
            if kind == "none" and not relative:  # (not the sentence's first town for a relative clause's subject)
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
        if not passive and EXCEPT_AFTER.search(sentence, obj_start, obj_end):
            targets = [replace(t, populated=False) for t in targets]
        if actor1 is None and not passive:
            actor1 = doc.state_subject(index, verb.start())
        if actor1 is not None or ARMED_NOUN.search(sentence[:verb.start()]):
            targets = _bare_names_populated(doc, index, targets, verb.start() if passive else None,
                                            None if passive else obj_start)
        actor2 = _actor2(doc, index, obj_start if not passive else 0, obj_end if not passive else verb.start(), actor1)
        actor1, actor2 = doc.specific(actor1, actor2), doc.specific(actor2, actor1)
        modality = modality_of(doc, index, verb.start(), word)
        retake = bool(RETAKE.search(word) or re.match(r"^\s+back\b", after, re.I)
                      or control and "back" in control.group().lower())
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
            captor = _government_beside(doc, index, actor1, country) or actor1
            drafts.append(Draft(index, sentence, BATTLES, _capture_type(captor, actor2, country), captor, actor2,
                                target, modality, round(max(confidence, 0.05), 2), retake=retake))
    return drafts


# Forces of another state fighting beside a government: "Rwandan forces deployed to help
# Mozambique's army", "Rwandan and Mozambican security forces", "French troops alongside
# the Malian army".
ALLIED = re.compile(r"\b(?:and|with|alongside|help(?:s|ed|ing)?|support(?:s|ed|ing)?|back(?:s|ed|ing)?|"
                    r"shore\s+up|assist(?:s|ed|ing)?)\b", re.IGNORECASE)


def _government_beside(doc: EventDoc, index: int, actor1: Actor | None, country: str | None) -> Actor | None:
    """The place's own government forces, when the captor is another state's forces that
    the sentence (or the one before) names as fighting beside them: the government regains
    the town, its ally helps (ACLED's "Government regains territory")."""
    if actor1 is None or not actor1.is_state or country is None or actor1.country == country:
        return None
    own = doc.dictionary.state_forces(country)
    if own is None:
        return None
    demonyms = {w for w, c in default_demonyms().items() if c == actor1.country}
    for i in (index, index - 1):
        if i < 0:
            continue
        sentence = doc.sentences[i]
        # The own forces: named ("Mozambican security forces") or as the country's ("Mozambique's army").
        ours = [(m.start, m.end) for m in doc.actors[i] if m.entity.id == own.entity_id] + [
            (m.start, m.end) for m in doc.places[i] if m.entity.feature_code == COUNTRY and m.entity.country == country
            and re.match(COUNTRY_FORCES, sentence[m.end:m.end + 20])]
        foreign = [(m.start, m.end) for m in doc.actors[i] if m.entity.id == actor1.entity_id]
        if any(abs(f[0] - o[0]) < 90 and ALLIED.search(sentence, min(f[1], o[1]), max(f[0], o[0]))
               for f in foreign for o in ours):
            return own
        # "captured by Rwandan and Mozambican security forces": one noun for both.
        if any((m := re.search(r"\b([\w-]+)\s+and\s+$", sentence[max(0, o[0] - 30):o[0]])) and m.group(1) in demonyms
               for o in ours):
            return own
    return None


# "DeepState said the village was still under Kyiv's control", "remains in Ukrainian hands":
# a side holds what a claim says the other took.
# (Not a relative clause's antecedent: "the only mine in the region that remained under Ukrainian
# control"; not a bare "still under ISIL control", the state a retake ended.)
STILL_HELD = re.compile(r"(?<!that\s)(?<!which\s)\b(?:remains?|remained|(?:is|was|are|were)\s+still)\s+(?:firmly\s+|fully\s+)?"
                        r"(?:under|in)\s+(?:full\s+)?(?:the\s+)?(?P<holder>(?:[\w-]+(?:['’]s)?\s+){1,2}?)"
                        r"(?:control|hands)\b", re.IGNORECASE)


def _holders(doc: EventDoc, index: int, start: int, end: int) -> tuple[set[str], set[str]]:
    """Who a "still under X control" phrase says holds: actor ids, and countries whose own
    forces are meant ("Kyiv's", "Ukrainian")."""
    actors = {m.entity.id for m in doc.actors[index] if start <= m.start < end}
    countries = {m.entity.country for m in doc.places[index]
                 if start <= m.start < end and m.entity.country and m.entity.feature_code in (CAPITAL, COUNTRY)}
    countries |= {code for word, code in default_demonyms().items()
                  if re.search(rf"\b{re.escape(word)}\b", doc.sentences[index][start:end])}
    return actors, countries


def _held_by_other(d: Draft, held: tuple[set[str], set[str]]) -> bool:
    actors, countries = held
    captor = d.actor1
    if captor is None:
        return True
    return captor.entity_id not in actors and not (captor.is_state and captor.country in countries)


def denied_everywhere(doc: EventDoc, drafts: list[Draft]) -> list[Draft]:
    """A capture the article reports as denied ("Ukraine denied that Soledar had fallen",
    "the claim was not true", "the towns had not fallen") is denied in every sentence that
    mentions it: the claim the denial answers is usually told first, as if it were a fact.
    So is one another source says the other side still holds ("the village was still under
    Kyiv's control"), unless that side is the captor itself."""
    denied = {d.target.place.id for d in drafts
              if d.modality == "denied" and d.target and d.target.place and d.target.named}
    held: dict[str, tuple[set[str], set[str]]] = {}
    for i in doc.usable:
        sentence = doc.sentences[i]
        still = STILL_HELD.search(sentence)
        if still:
            holders = _holders(doc, i, still.start("holder"), still.end("holder"))
            if holders[0] or holders[1]:
                named = [m.entity.id for m in doc.places[i] if doc.populated(m) and m.start < still.start()]
                noun = re.search(r"\bthe\s+(town|city|village)\b", sentence[:still.start()], re.I)
                if not named and noun:
                    ref = doc.last_populated_before(i, still.start(), noun.group(1).lower())
                    named = [ref.id] if ref else []
                held.update((place_id, holders) for place_id in named)
        if DENIAL_STATEMENT.search(sentence) or DENIED.search(sentence) and re.search(r"\blost\s+control\b", sentence):
            named = [m.entity.id for m in doc.places[i] if doc.populated(m)]
            if not named and re.search(r"\bthe\s+(?:towns|villages|cities)\b", sentence, re.I):
                # "the towns had not fallen": every town of the last sentence naming towns
                named = next(([m.entity.id for m in doc.places[j] if doc.populated(m)] for j in range(i - 1, -1, -1)
                              if any(doc.populated(m) for m in doc.places[j])), [])
            elif not named and re.search(r"\bthe\s+(?:claim|town|city|village)\b", sentence, re.I):
                ref = doc.last_populated_before(i, len(sentence))
                named = [ref.id] if ref else []
            denied.update(named)
    return [replace(d, modality="denied", confidence=min(d.confidence, 0.5))
            if d.target and d.target.place and (d.target.place.id in denied or (
                d.target.place.id in held and _held_by_other(d, held[d.target.place.id]))) else d
            for d in drafts]


def carry_captor(doc: EventDoc, drafts: list[Draft]) -> list[Draft]:
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


def unnamed_retaker(doc: EventDoc, drafts: list[Draft]) -> list[Draft]:
    """A place taken back by nobody named ("Lyman has been liberated", "the counter-offensive
    recaptured the district") was taken back by the government of its country: "Government
    regains territory" (ACLED), by that country's forces. Not when the sentence names another
    state or its forces, whose word "liberated" may be ("Russia's defence ministry said the
    village had been liberated")."""
    out: list[Draft] = []
    for d in drafts:
        place = d.target.place if d.target else None
        if d.retake and d.actor1 is None and place is not None and d.modality in NEWS_MODALITIES:
            country, i = doc.place_country(place, d.sentence_index), d.sentence_index
            foreign = any(m.entity.feature_code == COUNTRY and m.entity.country != country for m in doc.places[i]) \
                or any((a := doc.actor(m)) is not None and a.is_state and a.country != country for m in doc.actors[i])
            if country and not foreign:
                d = replace(d, actor1=doc.dictionary.state_forces(country), sub_event_type=GOV_REGAINS)
        out.append(d)
    return out


def reversed_background(drafts: list[Draft]) -> list[Draft]:
    """The capture a retake reverses happened before it: "Iraqi forces recaptured Jurf
    al-Sakhar from IS on Sunday … The town was captured by IS in late July" tells one recent
    capture, not two. A capture of the place by another side than the one taking it back is
    background, unless its own sentence dates it to the news ("had fallen to the army on
    Saturday before the rebels retook it on Sunday": two recent captures)."""
    retaken = [(d.target.place.id, d.actor1) for d in drafts if d.retake and d.modality in NEWS_MODALITIES
               and d.target and d.target.place and d.target.named]
    out: list[Draft] = []
    for d in drafts:
        place = d.target.place if d.target and d.target.named else None
        if place is not None and not d.retake and d.actor1 is not None and d.modality in NEWS_MODALITIES \
                and d.sub_event_type in CAPTURE_SUBTYPES and not RECENT_DAY.search(d.sentence) \
                and any(where == place.id and by != d.actor1 for where, by in retaken):
            d = replace(d, modality="background", confidence=min(d.confidence, 0.5))
        out.append(d)
    return out
