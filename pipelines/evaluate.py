"""Scoring the entity and event layer against a gold file (pure: records in, report out).

The gold format is the one of ``tests/fixtures/seeds.gold.jsonl``: one article a line,
``capture`` (does the article report a town capture as recent news?) and ``captures``
(place, place_alt, country, admin1, captor, loser, optional sub_event_type), optional
``split`` (``dev`` / ``heldout``). Predictions are the events extracted from each article
and whether a town-capture alert fired for it.

Four measures, each precision / recall / F1:

- **alert**, per article: the article raised a town-capture alert / the gold says capture.
- **place**, per capture: a geocoded populated-place capture event whose place folds to the
  gold place (or one of its alternates) in the gold country. "Right place" = recall here.
- **type**, per capture: of the gold captures whose place was found, the event carries the
  gold ACLED sub-type (when the gold states one).
- **actor**, per capture: of the gold captures whose place was found, actor1 is the gold
  captor (same dictionary id, or the same folded name when the captor is not in the
  dictionary, e.g. "rebels").
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipelines.actors import ActorDictionary, default_actors
from pipelines.gazetteer import default_gazetteer
from pipelines.taxonomy import CAPTURE_SUBTYPES, NEWS_MODALITIES
from pipelines.text import fold, skeleton
from schemas.models import Event


@dataclass(frozen=True)
class GoldCapture:
    place: str
    country: str | None
    captor: str | None
    place_alt: tuple[str, ...] = ()
    admin1: str | None = None
    sub_event_type: str | None = None


@dataclass(frozen=True)
class GoldArticle:
    id: str
    capture: bool
    captures: tuple[GoldCapture, ...]
    split: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Prediction:
    """What the pipeline made of one article."""

    events: tuple[Event, ...]
    alerted: bool


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    articles: int = 0
    alert: Score = field(default_factory=Score)
    place: Score = field(default_factory=Score)
    type: Score = field(default_factory=Score)
    actor: Score = field(default_factory=Score)
    errors: list[str] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"articles: {self.articles}"]
        if self.unread:
            out.append(f"not scored: {len(self.unread)} gold article(s) with no text in the inputs: "
                       + ", ".join(self.unread))
        for name in ("alert", "place", "type", "actor"):
            s: Score = getattr(self, name)
            out.append(f"{name:6} precision={s.precision:.3f} recall={s.recall:.3f} f1={s.f1:.3f} "
                       f"(tp={s.tp} fp={s.fp} fn={s.fn})")
        out.append(f"errors: {len(self.errors)}")
        out.extend(f"  {e}" for e in self.errors)
        return out


def parse_gold(lines: Iterable[str], name: str = "gold") -> list[GoldArticle]:
    """Gold records from JSONL lines; a bad line raises ValueError naming the line."""
    gold: list[GoldArticle] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            captures = tuple(
                GoldCapture(place=c["place"], country=c.get("country"), captor=c.get("captor"),
                            place_alt=tuple(c.get("place_alt") or ()), admin1=c.get("admin1"),
                            sub_event_type=c.get("sub_event_type"))
                for c in row.get("captures") or ())
            gold.append(GoldArticle(id=row["id"], capture=bool(row["capture"]), captures=captures,
                                    split=row.get("split"), category=row.get("category")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{name}:{number}: not a gold record: {exc}") from None
    return gold


def _is_capture(event: Event) -> bool:
    """A capture of a named populated place reported as news (what an alert rests on)."""
    return (event.sub_event_type in CAPTURE_SUBTYPES and event.populated_place
            and event.location is not None and event.modality in NEWS_MODALITIES)


GENERIC_TAIL = re.compile(r"(?<=\w)\s+(?:town|city|township)$", re.IGNORECASE)


def _same_place(names: Sequence[str], country: str | None, others: Sequence[str], other_country: str | None) -> bool:
    """The same country where both say one, and a name in common: the same folded name, or
    the same consonant skeleton (Feroz Koh = Fayrōz Kōh): the gold names a place as the
    article spells it, GeoNames (or another annotator) as its editors do."""
    if country and other_country and country != other_country:
        return False
    # GeoNames calls some towns "Buthidaung Town" or "Kuwait City"; the article and the
    # annotator call them Buthidaung and Kuwait.
    names = [GENERIC_TAIL.sub("", n) for n in names]
    others = [GENERIC_TAIL.sub("", n) for n in others]
    return bool({fold(n) for n in names} & {fold(n) for n in others}) or bool(
        {skeleton(n) for n in names} & {skeleton(n) for n in others})


def _place_matches(event: Event, gold: GoldCapture) -> bool:
    return _same_place((gold.place, *gold.place_alt), gold.country, (event.location or "",), event.country_code)


# A gold captor named as a country's forces: "Nigeria's military", "Mali's army".
_COUNTRYS_FORCES = re.compile(r"^(?:the\s+)?(.+?)['’]s\s+(?:own\s+)?(?:armed\s+forces|army|military|forces|troops|"
                              r"soldiers|government\s+forces)$", re.IGNORECASE)


def _captor_ids(captor: str, country: str | None, actors: ActorDictionary) -> set[str]:
    ids = {m.actor.entity_id for m in actors.find(captor, country)}
    named = _COUNTRYS_FORCES.match(captor.strip())
    if not ids and named:
        state = actors.state_forces(default_gazetteer().exact_country(named.group(1)))
        ids = {state.entity_id} if state else set()
    return ids


def _actor_matches(event: Event, gold: GoldCapture, actors: ActorDictionary) -> bool:
    if not gold.captor or not event.actor1:
        return False
    ids = _captor_ids(gold.captor, gold.country, actors)
    if ids:
        return event.actor1_id in ids
    return fold(gold.captor) in fold(event.actor1)


def score(gold: Sequence[GoldArticle], predictions: Mapping[str, Prediction],
          actors: ActorDictionary | None = None, read: Collection[str] | None = None) -> Report:
    """Compare predictions (by article id) with the gold; a gold article without a
    prediction counts as predicting nothing. With ``read`` (the ids of the articles the
    inputs held), a gold article whose text was not among them is not scored but listed in
    ``unread``: a missing text is a gap in the set, not a capture the pipeline missed."""
    actors = actors or default_actors()
    unread = [g.id for g in gold if read is not None and g.id not in read]
    gold = [g for g in gold if read is None or g.id in read]
    report = Report(articles=len(gold), unread=unread)
    for g in gold:
        pred = predictions.get(g.id, Prediction(events=(), alerted=False))
        if pred.alerted and g.capture:
            report.alert.tp += 1
        elif pred.alerted:
            report.alert.fp += 1
            why = "; ".join(f"{e.location} ({e.modality}): {e.notes[:90]}" for e in pred.events if _is_capture(e))
            report.errors.append(f"{g.id}: alert FP [{g.category}] {why}")
        elif g.capture:
            report.alert.fn += 1
            report.errors.append(f"{g.id}: alert FN, expected {', '.join(c.place for c in g.captures)}")
        captures = [e for e in pred.events if _is_capture(e)]
        used: set[int] = set()
        for c in g.captures:
            # (Two captures of one place, one per side: each gold capture takes its captor's event.)
            at_place = [i for i, e in enumerate(captures) if i not in used and _place_matches(e, c)]
            hit = next((i for i in at_place if _actor_matches(captures[i], c, actors)), at_place[0] if at_place else None)
            if hit is None:
                report.place.fn += 1
                if g.capture:
                    report.errors.append(f"{g.id}: place missed {c.place} ({c.country})")
                continue
            used.add(hit)
            report.place.tp += 1
            event = captures[hit]
            if c.sub_event_type:
                if event.sub_event_type == c.sub_event_type:
                    report.type.tp += 1
                else:
                    report.type.fp += 1
                    report.type.fn += 1
                    report.errors.append(f"{g.id}: type {event.sub_event_type!r} for {c.place}, "
                                         f"expected {c.sub_event_type!r}")
            if _actor_matches(event, c, actors):
                report.actor.tp += 1
            else:
                report.actor.fn += 1
                if event.actor1:
                    report.actor.fp += 1
                report.errors.append(f"{g.id}: actor1 {event.actor1!r} for {c.place}, expected {c.captor!r}")
        for i, e in enumerate(captures):
            if i not in used:
                report.place.fp += 1
                report.errors.append(f"{g.id}: place FP {e.location} ({e.country_code}, {e.modality})")
    return report


def agreement(first: Sequence[GoldArticle], second: Sequence[GoldArticle]) -> list[str]:
    """How far two annotators of the same articles agree: per article (capture or not,
    with Cohen's kappa), and per capture (the same place in the same country, as ``place``
    matches it; then the same ACLED sub-type). Articles only one file has are counted apart."""
    other = {g.id: g for g in second}
    both = [(g, other[g.id]) for g in first if g.id in other]
    n = len(both)
    same = sum(a.capture == b.capture for a, b in both)
    p1 = sum(a.capture for a, _ in both) / n if n else 0.0
    p2 = sum(b.capture for _, b in both) / n if n else 0.0
    chance = p1 * p2 + (1 - p1) * (1 - p2)
    observed = same / n if n else 0.0
    kappa = (observed - chance) / (1 - chance) if chance < 1 else 1.0
    found = [(c, next((d for d in b.captures if _same_place((c.place, *c.place_alt), c.country,
                                                             (d.place, *d.place_alt), d.country)), None))
             for a, b in both for c in a.captures]
    paired = [(c, d) for c, d in found if d is not None]
    total_second = sum(len(b.captures) for _, b in both)
    return [
        f"articles: {n} in both (first only {len(first) - n}, second only {len(second) - n})",
        f"capture  agree={same}/{n} ({observed:.3f}) kappa={kappa:.3f}",
        f"places   first={len(found)} second={total_second} same={len(paired)}",
        f"type     same={sum(c.sub_event_type == d.sub_event_type for c, d in paired)}/{len(paired)}",
    ]

