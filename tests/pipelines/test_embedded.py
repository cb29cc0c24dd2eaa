"""The embedded pipeline: a graph kept between runs, JSONL outputs, tagging helpers."""

import json
import os

import pytest

from pipelines import embedded, entities
from pipelines.dedup import deduplicate
from pipelines.normalize import normalize
from pipelines.rules import default_rules
from schemas import Failure, RawDocument


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_run_reads_and_writes_only_its_own_batch(seed_documents, tmp_path):
    rules, out = default_rules(), tmp_path / "out"
    first = embedded.run(seed_documents[:2], [], rules, out, None)
    bad = Failure(input="http://127.0.0.1/x", step="fetch", reason="HTTP 404")
    second = embedded.run(seed_documents[2:], [bad], rules, out, None)  # the same graph again
    ids = {d for a in lines(out / "articles.jsonl") for d in a["doc_ids"]}
    assert ids == {d.doc_id for d in seed_documents[2:]}
    assert first.articles == 2 and second.failures == [bad]
    assert sorted(p.name for p in out.iterdir()) == [
        "alerts.jsonl", "articles.jsonl", "events.jsonl", "failures.jsonl"]


def test_the_pipelines_failures_come_before_the_read_ones(seed_documents, tmp_path):
    empty = RawDocument(doc_id="empty", title="Nothing", text="", origin="http://127.0.0.1/empty")
    bad = Failure(input="http://127.0.0.1/x", step="fetch", reason="HTTP 404")
    result = embedded.run([*seed_documents[:1], empty], [bad], default_rules(), tmp_path, None)
    assert [f.step for f in result.failures] == ["Normalize", "fetch"]


class CountingAhead(embedded.TagAhead):
    def __init__(self, processes):
        super().__init__(processes)
        self.answers = []

    def lookup(self, article):
        found = super().lookup(article)
        self.answers.append(found is not None)
        return found


def test_helper_processes_tag_as_the_pipeline_itself_would(seed_documents, tmp_path):
    rules = default_rules()
    alone = embedded.run(seed_documents, [], rules, tmp_path / "alone", None)
    ahead = CountingAhead(1)
    try:
        helped = embedded.run(seed_documents, [], rules, tmp_path / "helped", None, ahead=ahead)
    finally:
        ahead.close()
    assert any(ahead.answers), "no article was tagged by the helper"
    assert lines(tmp_path / "helped" / "articles.jsonl") == lines(tmp_path / "alone" / "articles.jsonl")
    assert lines(tmp_path / "helped" / "events.jsonl") == lines(tmp_path / "alone" / "events.jsonl")
    assert [a.rule_id for a in helped.alerts] == [a.rule_id for a in alone.alerts] == ["town-captured"]


def test_helpers_tag_a_few_articles_at_a_time_so_pages_to_extract_wait_for_no_round():
    ahead = embedded.TagAhead(1)
    try:
        for k in range(6):
            ahead.submit(RawDocument(doc_id=f"d{k}", title="Rebels take a town",
                                     text="Rebels took the town of Kidal on Monday.", origin="test"))
            assert ahead.running <= ahead.processes
        assert ahead.call(os.getpid) != os.getpid()
    finally:
        ahead.close()


def test_a_merged_story_takes_its_representatives_tags(seed_documents):
    ahead = embedded.TagAhead(1)
    try:
        ahead.start(seed_documents)
        for submitted in list(ahead.pending.values()):
            submitted.future.result()  # every copy tagged by the helper
        story = next(s for s in deduplicate(map(normalize, seed_documents)) if len(s.doc_ids) > 1)
        assert ahead.lookup(story) == entities.tag_entities(story)
    finally:
        ahead.close()


def test_a_call_runs_in_a_helper_process_and_here_when_none_runs():
    ahead = embedded.TagAhead(1)
    try:
        assert ahead.call(os.getpid) == os.getpid()  # not opened: no helper, no fork
        ahead.open()
        assert ahead.call(os.getpid) != os.getpid()
        with pytest.raises(ValueError, match="not a number"):  # the helper's error, raised here
            ahead.call(_parse_int, "not a number")
    finally:
        ahead.close()
    assert ahead.call(os.getpid) == os.getpid()


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def test_a_round_read_while_another_runs_keeps_its_articles_for_the_helpers(seed_documents):
    first, second = seed_documents[:2], seed_documents[2:]
    ahead = embedded.TagAhead(1)
    try:
        ahead.begin()
        for raw in first:
            ahead.submit(raw)
        running = ahead.start(first)  # round 1 in its pipeline ...
        ahead.begin()
        for raw in second:  # ... while round 2's pages are read
            ahead.submit(raw)
        ahead.finish(running)
        assert set(ahead.pending) == {raw.doc_id for raw in second}
        ahead.start(second)
        for submitted in list(ahead.pending.values()):
            submitted.future.result()
        article = normalize(second[-1])
        assert ahead.lookup(article) == entities.tag_entities(article)
    finally:
        ahead.close()
