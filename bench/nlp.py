"""Throughput of the entity and event layer (NLP stage), one core, on a world-news mix.

    .venv/bin/python -m bench.nlp [--articles 300] [--conflict-share 0.2] [--rounds 5]

The mix is drawn (fixed seed) from real articles, in the given share of conflict ones,
because most world news is not about armed conflict:

- conflict part: the devset articles the gold labels (tests/fixtures/devset/gold.jsonl) as
  anything but ``non_conflict``, texts in .cache/devset/articles.jsonl (``--articles-file``);
- non-conflict part: the world-news mix, real ordinary articles of a news wire's day
  (politics, markets, sport, weather, courts, local news...; list and topics in
  tests/fixtures/devset/worldnews.jsonl), texts in .cache/devset/worldnews.jsonl. Where that
  file is missing, the devset's own non-conflict traps are used instead, as before, with a
  note on stderr: 7 articles that all contain capture words, a mix neither realistic nor varied.

Both texts files are kept out of the repository; tests/fixtures/devset/README.md says how
to rebuild them. Two modes run on the same mix, in one process, after one warm-up pass each
(gazetteer and spaCy loaded):

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
import sys
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
WORLDNEWS = ROOT / ".cache" / "devset" / "worldnews.jsonl"


def read_articles(path: Path) -> list[Article]:
    """The articles of a texts file (JSONL: id, url, source, published, title, text)."""
    out: list[Article] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        out.append(Article(id=row["id"], doc_ids=[row["id"]], title=row["title"], text=row["text"],
                           copies=[SourceRef(doc_id=row["id"], name=row["source"])]))
    return out


def load_mix(count: int, conflict_share: float, seed: int = 7, articles: Path = ARTICLES,
             worldnews: Path = WORLDNEWS) -> list[Article]:
    gold_rows = [json.loads(line) for line in (DEVSET / "gold.jsonl").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    category = {row["id"]: row["category"] for row in gold_rows}
    devset = read_articles(articles)
    conflict = [a for a in devset if category[a.id] != "non_conflict"]
    if worldnews.exists():
        quiet = read_articles(worldnews)
    else:
        quiet = [a for a in devset if category[a.id] == "non_conflict"]
        print(f"bench.nlp: {worldnews} missing, so the non-conflict part is the devset's {len(quiet)} traps "
              f"(rebuild it from {DEVSET / 'worldnews.jsonl'}, see {DEVSET / 'README.md'})", file=sys.stderr)
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
