"""The newswatch command line, end to end on the seed corpus."""

import json

import pytest

from connectors.cli import main
from schemas.validate import errors
from tests.conftest import FIXTURES, SEEDS

AL_SUKHNA_DOCS = ["001_e72dd448992d5374", "004_882908644c043aa1"]


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    db = out / "nw.db"
    code = main(["process", str(SEEDS), "--out", str(out), "--db", str(db)])
    return code, out, db


def test_the_seeds_give_exactly_one_town_captured_alert_for_al_sukhna(seeds_run):
    code, out, _ = seeds_run
    assert code == 0
    [alert] = read_jsonl(out / "alerts.jsonl")
    assert alert["rule_id"] == "town-captured"
    assert alert["doc_ids"] == AL_SUKHNA_DOCS
    event = alert["event"]
    assert "sukhn" in event["location"].lower()
    assert (event["admin1"], event["country_code"]) == ("Homs", "SY")
    assert event["actor1_id"] != event["actor2_id"]
    assert "Syria" in event["actor1"] and "Islamic State" in event["actor2"]


def test_every_record_written_is_valid_against_the_schemas(seeds_run):
    _, out, _ = seeds_run
    for name in ("article", "event", "alert"):
        for record in read_jsonl(out / f"{name}s.jsonl"):
            assert errors(name, record) == [], (name, record.get("id") or record.get("event_id"))


def test_the_wire_copies_are_one_article_that_keeps_both_outlets(seeds_run):
    _, out, _ = seeds_run
    articles = read_jsonl(out / "articles.jsonl")
    assert len(articles) == 4
    assert ["000_92cbca79a50a440a", "003_54d82472ffa95672"] in [a["doc_ids"] for a in articles]


def test_the_summary_counts_what_was_read(seeds_run, capsys):
    code = main(["process", str(SEEDS), "--out", str(seeds_run[1] / "again"), "--no-store"])
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert code == 0
    assert summary.startswith("summary: read=5 duplicates=1 failed=0 articles=4 ")
    assert " alerts=1 " in summary


def test_search_and_events_read_the_store(seeds_run, capsys):
    _, _, db = seeds_run
    capsys.readouterr()
    assert main(["search", "al-Sukhna", "--db", str(db)]) == 0
    assert "4 article(s)" in capsys.readouterr().out
    assert main(["events", "--type", "regains territory", "--db", str(db)]) == 0
    listed = capsys.readouterr().out
    assert "Sukhn" in listed


def test_bad_inputs_are_reported_one_line_each_and_the_rest_goes_on(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 64)
    (tmp_path / "in" / "empty.txt").write_text("Headline only\n")
    (tmp_path / "in" / "001.txt").write_text((SEEDS / "001_e72dd448992d5374.txt").read_text())
    missing = tmp_path / "does-not-exist.txt"
    code = main(["process", str(tmp_path / "in"), str(missing), "--out", str(tmp_path / "out"), "--no-store"])
    captured = capsys.readouterr()
    errors_ = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert code == 1
    assert {e.split(":")[1].strip().rsplit("/", 1)[-1] for e in errors_} == {
        "binary.txt", "empty.txt", "does-not-exist.txt"}
    assert "summary: read=4 duplicates=0 failed=3 articles=1" in captured.out
    assert len(read_jsonl(tmp_path / "out" / "failures.jsonl")) == 3


def test_rules_check_reports_the_file_and_rule(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - id: x\n    description: d\n    when: {populated_place: maybe}\n")
    assert main(["rules", "check", str(bad)]) == 2
    assert "bad.yaml: rule x: when.populated_place" in capsys.readouterr().err


def test_agreement_compares_two_annotators_gold_files_and_names_a_bad_one(tmp_path, capsys):
    gold = FIXTURES / "seeds.gold.jsonl"
    assert main(["agreement", str(gold), str(gold)]) == 0
    assert "kappa=1.000" in capsys.readouterr().out
    bad = tmp_path / "second.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    assert main(["agreement", str(gold), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:1: not a gold record" in err and len(err.strip().splitlines()) == 1
