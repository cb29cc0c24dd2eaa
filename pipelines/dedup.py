"""Exact and near-duplicate detection: one story, every outlet that carried it.

Wire stories are republished with small edits (Middle East Eye's "IS" is Arab
News' "Daesh"; "Deir Ezzor" becomes "Deir Al-Zor"; a paragraph is cut). Exact
hashing misses those, so articles are compared as sets of word 3-shingles with
MinHash, candidates found with LSH (datasketch) and kept when the estimated
Jaccard similarity reaches ``threshold``. On the seed corpus the wire pair
measures 0.44 and every unrelated pair at most 0.05 (docs/decisions.md).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from datasketch import MinHash, MinHashLSH

from schemas import Article

SHINGLE = 3
NUM_PERM = 128
THRESHOLD = 0.3

_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    words = _WORD.findall(text.casefold())
    if len(words) < size:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i:i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


@functools.cache
def _permutations() -> tuple[object, str]:
    # What MinHash(seed=1) draws on every construction (a numpy generator, ~1 ms): drawn once.
    first = MinHash(num_perm=NUM_PERM, seed=1)
    return first.permutations, first.scheme


@functools.cache
def _lsh_params(threshold: float) -> tuple[int, int]:
    # MinHashLSH finds its bands and rows by numerical integration (~10 ms per index, one
    # index per batch): found once per threshold.
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def signature(article: Article) -> MinHash:
    return _text_signature(f"{article.title}\n{article.text}")


@functools.lru_cache(maxsize=2048)
def _text_signature(text: str) -> MinHash:
    # Remembered (a round of the service holds at most ~1 000 articles; nothing changes
    # a MinHash once built): the embedded service computes a round's signatures while
    # its pages are still being read, and Deduplicate then finds them here.
    permutations, scheme = _permutations()
    minhash = MinHash(num_perm=NUM_PERM, seed=1, permutations=permutations, scheme=scheme)
    minhash.update_batch(list(shingles(text)))
    return minhash


def representative_key(article: Article) -> tuple:
    """Which copy speaks for the story: the earliest published, then the longest."""
    published = article.published.timestamp() if article.published else float("inf")
    return (published, -len(article.text), article.id)


def merge(story: Article, copy: Article) -> Article:
    """Fold ``copy`` into ``story``: the representative's text, every outlet."""
    lead, other = sorted((story, copy), key=representative_key)
    copies = {c.doc_id: c for c in [*lead.copies, *other.copies]}
    return lead.model_copy(update={
        "doc_ids": sorted({*lead.doc_ids, *other.doc_ids}),
        "copies": sorted(copies.values(), key=lambda c: c.doc_id),
    })


@dataclass
class NearDuplicateIndex:
    """Stories seen so far, searchable by content similarity.

    ``add`` returns the story the article joins (a merged Article) and whether
    it was a duplicate. State grows with the stories it holds; the streaming
    job bounds it by window.
    """

    threshold: float = THRESHOLD
    _lsh: MinHashLSH = field(init=False)
    _stories: dict[str, Article] = field(default_factory=dict, init=False)
    _signatures: dict[str, MinHash] = field(default_factory=dict, init=False)
    _by_url: dict[str, str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM, params=_lsh_params(self.threshold))

    def find(self, article: Article, minhash: MinHash) -> str | None:
        if article.canonical_url and article.canonical_url in self._by_url:
            return self._by_url[article.canonical_url]
        if article.id in self._stories:
            return article.id
        best = max(
            ((self._signatures[key].jaccard(minhash), key) for key in self._lsh.query(minhash)),
            default=None,
        )
        return best[1] if best and best[0] >= self.threshold else None

    def add(self, article: Article) -> tuple[Article, bool]:
        minhash = signature(article)
        key = self.find(article, minhash)
        if key is None:
            key = article.id
            self._lsh.insert(key, minhash)
            self._signatures[key] = minhash
            self._stories[key] = article
            duplicate = False
        else:
            self._stories[key] = merge(self._stories[key], article)
            duplicate = True
        if article.canonical_url:
            self._by_url[article.canonical_url] = key
        return self._stories[key], duplicate

    def stories(self) -> list[Article]:
        return list(self._stories.values())


def deduplicate(articles: Iterable[Article], threshold: float = THRESHOLD) -> list[Article]:
    """Collapse copies of the same story; order-independent result, sorted by id."""
    index = NearDuplicateIndex(threshold=threshold)
    # Sorting first makes the outcome independent of arrival order in a batch.
    for article in sorted(articles, key=representative_key):
        index.add(article)
    return sorted(index.stories(), key=lambda a: a.id)
