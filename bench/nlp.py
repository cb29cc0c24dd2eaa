"""Throughput of the entity and event layer (NLP stage), one core, on a world-news mix.

    .venv/bin/python -m bench.nlp [--articles 300] [--conflict-share 0.2] [--rounds 5]

The mix is drawn (fixed seed) from the real articles of the devset (labels in
tests/fixtures/devset/gold.jsonl, texts kept out of the repo in .cache/devset/articles.jsonl,
see tests/fixtures/devset/README.md to rebuild them): those the gold labels ``non_conflict`` and the conflict ones, in the given share, because most world
news is not about armed conflict. Two modes run on the same mix, in one process, after
one warm-up pass each (gazetteer and spaCy loaded):

- ``full``: the whole en_core_web_sm pipeline on every article's full text, then the
  dictionary/gazetteer tagging and the event rules: the "expensive analysis everywhere"
  baseline.
- ``triggered``: what the pipeline does, ``tag_entities`` + ``extract_events``: a keyword
  and dictionary pass decides which sentences need spaCy (NER only) and which articles need
  the event rules at all.

Prints the median articles/s over the rounds for each mode, side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pipelines.entities import SPACY_MODEL, full_text, tag_entities
from pipelines.events import extract_events
from schemas.models import Article, SourceRef

ROOT = Path(__file__).resolve().parent.parent
DEVSET = ROOT / "tests" / "fixtures" / "devset"
# Third-party texts: kept out of the repository (see tests/fixtures/devset/README.md).
ARTICLES = ROOT / ".cache" / "devset" / "articles.jsonl"


def load_mix(count: int, conflict_share: float, seed: int = 7, articles: Path = ARTICLES) -> list[Article]:
    gold_rows = [json.loads(line) for line in (DEVSET / "gold.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    gold = {row["id"]: row for row in gold_rows}
    quiet: list[Article] = []
    conflict: list[Article] = []
    for line in articles.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        article = Article(id=row["id"], doc_ids=[row["id"]], title=row["title"], text=row["text"],
                          copies=[SourceRef(doc_id=row["id"], name=row["source"])])
        (quiet if gold[row["id"]]["category"] == "non_conflict" else conflict).append(article)
    rng = random.Random(seed)
    n_conflict = round(count * conflict_share)
    mix = rng.choices(conflict, k=n_conflict) + rng.choices(quiet, k=count - n_conflict)
    rng.shuffle(mix)
    return mix


def triggered(article: Article) -> None:
    extract_events(article.model_copy(update={"entities": tag_entities(article)}))


def make_full() -> Callable[[Article], None]:
    import spacy

    nlp = spacy.load(SPACY_MODEL)

    def full(article: Article) -> None:
        nlp(full_text(article))
        extract_events(article.model_copy(update={"entities": tag_entities(article, use_spacy=False)}))
    return full


def rate(fn: Callable[[Article], None], mix: Sequence[Article]) -> float:
    start = time.perf_counter()
    for article in mix:
        fn(article)
    return len(mix) / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nlp", description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--conflict-share", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--articles-file", type=Path, default=ARTICLES, help="devset texts (JSONL)")
    args = parser.parse_args(argv)
    if not args.articles_file.exists():
        parser.error(f"{args.articles_file}: no such file; rebuild the devset texts from the URLs in "
                     f"{DEVSET / 'gold.jsonl'} (see {DEVSET / 'README.md'})")
    mix = load_mix(args.articles, args.conflict_share, articles=args.articles_file)
    modes: dict[str, Callable[[Article], None]] = {"full": make_full(), "triggered": triggered}
    results: dict[str, list[float]] = {name: [] for name in modes}
    for name, fn in modes.items():
        rate(fn, mix[:20])  # warm-up: loads, caches
    for _ in range(args.rounds):
        for name, fn in modes.items():
            results[name].append(rate(fn, mix))
    print(f"mix: {len(mix)} articles, {args.conflict_share:.0%} conflict, {args.rounds} rounds, one core")
    for name, rates in results.items():
        print(f"{name:10} median {statistics.median(rates):7.1f} articles/s  "
              f"(min {min(rates):.1f}, max {max(rates):.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
