"""The learned-filter experiment (bench/learned_filter.py): what it learns from, and how it
counts. The experiment itself runs on the labelled devset (docs/quality.md); here, made-up
candidates with a cue the rules miss."""

from __future__ import annotations

from bench.learned_filter import Candidate, alerts, cross_validate, words
from pipelines.evaluate import GoldArticle


def test_names_and_years_are_masked_so_the_wording_is_what_is_learned() -> None:
    assert words("Rebels seized Kidal in 2012, Reuters said.") == [
        "CAP", "seized", "CAP", "in", "YEAR", "CAP", "said"]
    assert words("the IS took 3 villages") == ["the", "ACR", "took", "NUM", "villages"]


def _batch(name: str, n: int) -> tuple[list[GoldArticle], list[Candidate]]:
    """n captures, and n attacks the rules read as captures but whose sentence says repelled."""
    gold, rows = [], []
    for i in range(n):
        gold.append(GoldArticle(id=f"{name}-take-{i}", capture=True, captures=()))
        rows.append(Candidate(name, f"{name}-take-{i}", {"w:seized": 1.0, "modality=asserted": 1.0}, True, True))
        gold.append(GoldArticle(id=f"{name}-repel-{i}", capture=False, captures=()))
        rows.append(Candidate(name, f"{name}-repel-{i}", {"w:repelled": 1.0, "modality=asserted": 1.0}, False, True))
    return gold, rows


def test_each_batch_is_scored_by_a_model_trained_on_the_others() -> None:
    gold_a, rows_a = _batch("a", 6)
    gold_b, rows_b = _batch("b", 6)
    total, folds = cross_validate({"a": gold_a, "b": gold_b}, rows_a + rows_b, [0.0, 0.5])
    assert (folds["a"][0.0].tp, folds["a"][0.0].fp) == (6, 6), "threshold 0 is the rules alone"
    assert (folds["a"][0.5].tp, folds["a"][0.5].fp) == (6, 0), "the cue learned from batch b filters batch a"
    assert (total[0.5].tp, total[0.5].fp, total[0.5].fn) == (12, 0, 0)


def test_an_article_the_rule_does_not_fire_on_is_no_alert_whatever_the_model_says() -> None:
    gold = [GoldArticle(id="x", capture=True, captures=()), GoldArticle(id="y", capture=False, captures=())]
    scored = [(Candidate("a", "x", {}, True, False), 0.99), (Candidate("a", "y", {}, False, True), 0.2)]
    counts = alerts(gold, scored, 0.5)
    assert (counts.tp, counts.fp, counts.fn) == (0, 0, 1)
    assert alerts(gold, scored, 0.0).fp == 1
