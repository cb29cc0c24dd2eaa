"""Would a model trained on the labelled articles make the town-capture alerts better?

    .venv/bin/python -m bench.learned_filter [--C 1.0] [--thresholds 0.3,0.4,0.5,0.6]

A quality experiment, not a speed one (issue 4; results in docs/quality.md). The rules'
errors on unseen batches are each a different wording (docs/quality.md), so the question is
whether a statistical reading of the same candidates does better than the rules alone.

- Candidates: every capture event the rules extract from an article with a named place,
  whatever its modality (`pipelines.events.extract_events`).
- Label: the candidate's place is one the gold labels as captured (`pipelines.evaluate`'s
  place match), in an article the gold calls a capture.
- Features: the rules' own verdict (modality, populated place, geocoded, captor found,
  sub-type, confidence) and the words of the candidate's sentence and of the headline, names
  masked (a capitalised word is ``CAP``, an acronym ``ACR``, a year ``YEAR``) so that a place or an outlet is
  not what is learned.
- Model: logistic regression (scikit-learn), trained leave-one-batch-out: each labelled
  batch is scored by a model trained on all the others.
- Decision: an article alerts when the town-captured rule fires on a candidate whose
  probability is at least the threshold. Threshold 0 is the rules alone.

Prints, for each threshold, the alert counts and precision/recall summed over the folds,
and the rules-alone and 0.5 lines of each fold. The labelled batches are the
``tests/fixtures/devset/gold*.jsonl`` whose texts are in ``.cache/devset/articles*.jsonl``
(kept out of the repository; tests/fixtures/devset/README.md says how to rebuild them).
Needs scikit-learn (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

from pipelines.evaluate import GoldArticle, _place_matches, parse_gold
from pipelines.rules import Rule, default_rules, match_event
from pipelines.taxonomy import CAPTURE_SUBTYPES
from schemas import Article, Event, Failure

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "tests" / "fixtures" / "devset"
TEXTS = ROOT / ".cache" / "devset"

_WORD = re.compile(r"[^\W\d_][\w'’-]*|\d+")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


@dataclass(frozen=True)
class Candidate:
    batch: str
    article_id: str
    features: dict[str, float]
    label: bool
    rule_fires: bool  # the town-captured rule matches the event as the rules made it
    sentence: str = ""


def words(text: str) -> list[str]:
    """Lower-cased words, names masked: what is learned is the wording, not the place."""
    out = []
    for w in _WORD.findall(text):
        if w.isdigit():
            out.append("YEAR" if len(w) == 4 else "NUM")
        elif len(w) > 1 and w.isupper():
            out.append("ACR")  # IS, SDF, RSF: names too (and "IS" is not the verb)
        elif w[0].isupper() and len(w) > 1:
            out.append("CAP")
        else:
            out.append(w.lower())
    return out


def features(article: Article, event: Event, places: int) -> dict[str, float]:
    f: dict[str, float] = {
        f"modality={event.modality}": 1.0, f"populated={event.populated_place}": 1.0,
        f"geocoded={event.geonames_id is not None}": 1.0, f"captor={event.actor1_id is not None}": 1.0,
        f"sub={event.sub_event_type}": 1.0, "confidence": event.confidence,
        "places": min(places, 5) / 5,
    }
    sentence = words(event.notes)
    f.update({f"w:{w}": 1.0 for w in sentence})
    f.update({f"b:{a}_{b}": 1.0 for a, b in pairwise(sentence)})
    f.update({f"t:{w}": 1.0 for w in words(article.title or "")})
    start = article.text.find(event.notes[:40])
    f["lead"] = float(0 <= start < 300)
    if article.published:
        f["older_year"] = float(any(int(y) < article.published.year for y in _YEAR.findall(event.notes)))
    return f


def candidates(batch: str, article: Article, events: Sequence[Event], gold: GoldArticle,
               rules: Sequence[Rule]) -> list[Candidate]:
    found = [e for e in events if e.sub_event_type in CAPTURE_SUBTYPES and e.location]
    places = len({e.location for e in found})
    return [Candidate(batch, gold.id, features(article, e, places),
                      gold.capture and any(_place_matches(e, c) for c in gold.captures),
                      bool(match_event(rules, e)), e.notes)
            for e in found]


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    def line(self) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return f"tp={self.tp} fp={self.fp} fn={self.fn} P={p:.3f} R={r:.3f}"


def alerts(gold: Iterable[GoldArticle], scored: Sequence[tuple[Candidate, float]], threshold: float) -> Counts:
    """Per-article alert counts: an article alerts when the rule fires on a candidate the
    model gives at least ``threshold``."""
    fired = {c.article_id for c, p in scored if c.rule_fires and p >= threshold}
    counts = Counts()
    for g in gold:
        if g.id in fired:
            counts.tp += g.capture
            counts.fp += not g.capture
        else:
            counts.fn += g.capture
    return counts


def cross_validate(gold: dict[str, list[GoldArticle]], rows: Sequence[Candidate], thresholds: Sequence[float],
                   c: float = 1.0) -> tuple[dict[float, Counts], dict[str, dict[float, Counts]]]:
    """Leave-one-batch-out: each batch's candidates scored by a model trained on the others."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    total = {t: Counts() for t in thresholds}
    folds: dict[str, dict[float, Counts]] = {}
    for batch, articles in gold.items():
        train = [r for r in rows if r.batch != batch]
        test = [r for r in rows if r.batch == batch]
        vectorizer = DictVectorizer()
        model = LogisticRegression(C=c, max_iter=5000)
        model.fit(vectorizer.fit_transform([r.features for r in train]), [r.label for r in train])
        probs = model.predict_proba(vectorizer.transform([r.features for r in test]))[:, 1] if test else []
        scored = list(zip(test, probs))
        folds[batch] = {t: alerts(articles, scored, t) for t in thresholds}
        for t in thresholds:
            total[t].add(folds[batch][t])
    return total, folds


def with_embeddings(rows: Sequence[Candidate], model_dir: Path) -> list[Candidate]:
    """The candidates with a pre-trained sentence encoder's reading of their sentence: does a
    model that has seen much more English than 500 articles tell the wordings apart?"""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    vectors = model.encode([r.sentence for r in rows], batch_size=32, normalize_embeddings=True)
    return [replace(r, features={**r.features, **{f"e{i}": float(x) for i, x in enumerate(v)}})
            for r, v in zip(rows, vectors)]


def labelled_batches() -> list[tuple[str, Path, Path]]:
    """(name, gold, texts) of every batch whose texts are here."""
    out = []
    # gold.jsonl, gold2.jsonl ... (not gold4.second.jsonl, a second annotator's labels)
    numbered = [p for p in DEVSET.glob("gold*.jsonl") if (p.stem[4:] or "1").isdigit()]
    for gold in sorted(numbered, key=lambda p: int(p.stem[4:] or 1)):
        name = gold.stem[4:] or "1"
        texts = TEXTS / f"articles{gold.stem[4:]}.jsonl"
        if texts.exists():
            out.append((name, gold, texts))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from connectors.sources import read_inputs
    from pipelines.entities import tag_entities
    from pipelines.events import extract_events
    from pipelines.normalize import normalize

    parser = argparse.ArgumentParser(prog="python -m bench.learned_filter", description=__doc__.split("\n")[0])
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--thresholds", default="0,0.3,0.4,0.5,0.6")
    parser.add_argument("--sentence-model", type=Path, metavar="DIR",
                        help="a sentence-transformers model folder: its embedding of each candidate's "
                             "sentence is added to the features (needs sentence-transformers)")
    args = parser.parse_args(argv)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    if 0.0 not in thresholds:
        thresholds.insert(0, 0.0)
    batches = labelled_batches()
    if len(batches) < 2:
        print(f"error: {TEXTS}: fewer than two labelled batches with texts; rebuild them "
              f"(tests/fixtures/devset/README.md)", file=sys.stderr)
        return 2
    rules = [r for r in default_rules() if r.id == "town-captured"]
    gold: dict[str, list[GoldArticle]] = {}
    rows: list[Candidate] = []
    for name, gold_path, texts in batches:
        labels = {g.id: g for g in parse_gold(gold_path.read_text(encoding="utf-8").splitlines(), str(gold_path))}
        # As `newswatch eval` reads them; a gold article without a text is not scored.
        read = [(labels[doc.doc_id], normalize(doc)) for doc in read_inputs([str(texts)])
                if not isinstance(doc, Failure) and doc.doc_id in labels]
        gold[name] = [g for g, _ in read]
        for label, article in read:
            article = article.model_copy(update={"entities": tag_entities(article)})
            rows.extend(candidates(name, article, extract_events(article), label, rules))
    if args.sentence_model:
        rows = with_embeddings(rows, args.sentence_model)
    total, folds = cross_validate(gold, rows, thresholds, args.C)
    print(f"batches={len(gold)} articles={sum(map(len, gold.values()))} candidates={len(rows)} "
          f"positive={sum(r.label for r in rows)} C={args.C}")
    for batch, by_t in folds.items():
        print(f"  batch {batch}: rules alone {by_t[0.0].line()}" +
              (f" | t=0.5 {by_t[0.5].line()}" if 0.5 in by_t else ""))
    for t in thresholds:
        print(f"{'rules alone' if t == 0 else f'threshold {t}':>13}: {total[t].line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
