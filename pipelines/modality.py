"""Modality: whether a sentence tells an event as a fact or as denied, hypothetical,
planned, background (earlier than the news) or claimed by a party (``MODALITY_RANK`` in
pipelines.taxonomy orders them)."""

from __future__ import annotations

import re

from pipelines.capture_verb import CAPTURE_VERB
from pipelines.event_doc import EventDoc

# "The RSF had captured the city on June 29." told without attribution: earlier than the
# news ("Russia said its forces had captured X" is reported speech, not background).
PLUPERFECT = re.compile(r"\bhad\s+(?:\w+ly\s+|already\s+|first\s+)?$", re.IGNORECASE)
# "intensified their attacks to capture Marib", "moved to take the town": an aim, unless
# the infinitive says it was done ("managed to capture").
INFINITIVE = re.compile(r"\bto\s+$", re.IGNORECASE)
DONE_INFINITIVE = re.compile(r"\b(?:managed|succeeded|went\s+on|continued|used|reported|said|confirmed|"
                             # "the first provincial capital to fall to the Taliban"
                             r"(?:town|city|capital|village|township))\s+to\s+$", re.IGNORECASE)

# "Iraqi forces will retake the city", "the rest will be liberated soon": a plan.
WILL = re.compile(r"\b(?:will|'ll|shall|going\s+to)\s+(?:\w+ly\s+|soon\s+|now\s+|also\s+)?(?:be\s+|have\s+been\s+)?"
                  r"(?:\w+ly\s+)?$", re.IGNORECASE)

HYPOTHETICAL = re.compile(r"\b(?:if|would|could|might|unless|whether|able\s+to|means)\b", re.IGNORECASE)
PLANNED = re.compile(
    r"\b(?:vow\w*|plan\w*|aim\w*|seek\w*|sought|intend\w*|prepar\w*|pledg\w*|threat\w*|attempt\w*|"
    r"tr(?:y|ies|ied|ying)|bid|push\w*|expect\w*|operations?|offensive|campaign|drive|efforts?|"
    r"order\w*|focus\w*|goal|determined|ready|want\w*|hop\w*|close|closer|near|verge|brink|poised)\s+"
    r"(?:to|on|of|at|for)\s+(?:\w+\s+){0,2}$|"
    # "advancing toward (the) recapture of Sirte"
    r"\btowards?\s+(?:the\s+)?(?:full\s+)?$",
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
DENIED = re.compile(r"\b(?:den(?:y|ies|ied|ial)|false|fabricat\w*|"
                    # "rejected Moscow's claim", "refuted the claim", "disputed the claims"
                    r"(?:rejected|dismissed|disputed|refuted|rebutted)\s+(?:the\s+|(?:these|those|such)\s+|"
                    r"[\w-]+['’]s\s+)?claims?|(?:was|is|were|are)\s+[\"“‘']?(?:not\s+true|untrue|baseless|"
                    r"a\s+(?:total\s+|complete\s+|blatant\s+|outright\s+)?lie)|"
                    # "… had taken X, but Ukraine said its troops were still holding the town"
                    r"but\b[^.;]*\b(?:still\s+(?:holding|held|holds?|in\s+control|controls?|controlled)|"
                    r"remain(?:ed|s)?\s+in\s+(?:full\s+)?control))\b",
                    re.IGNORECASE)
# A denial that tells no capture of its own: "the towns had not fallen", "Goma did not
# completely fall", "the claim is disinformation", "lost control … denied". The places it
# names (or "the town" it refers to) are denied wherever the article claims them.
DENIAL_STATEMENT = re.compile(
    r"\b(?:(?:did|does|has|have|had)\s+not\s+(?:completely\s+|fully\s+|yet\s+)?(?:fall|fallen|been\s+(?:captured|"
    r"taken|lost|seized))|(?:did|has|have|had)\s+not\s+lost|disinformation|propaganda|"
    r"(?:remains?|is\s+still|was\s+still)\s+(?:firmly\s+|fully\s+)?(?:under|in)\s+(?:full\s+)?(?:the\s+)?"
    r"(?:government|army|military)(?:['’]s)?\s+control)\b", re.IGNORECASE)
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


def modality_of(doc: EventDoc, index: int, trigger_start: int, trigger: str) -> str:
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
    # "After the 2009 Kokang battle, the military took control": a year before the news
    # ahead of the verb dates it.
    if published and any(int(y) < published.year for y in re.findall(r"\b((?:19|20)\d\d)\b", prefix)):
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
