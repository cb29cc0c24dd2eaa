"""The benchmark harness, on two pages: it serves them, measures the newswatch path next
to trafilatura, runs the service end to end in a child process, and writes its JSON.
Nothing heavy here: the real measurements are ``python -m bench run`` (docs/benchmarks.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("psutil")

from bench.run import main  # noqa: E402


def test_quick_run_measures_extraction_and_the_service_and_writes_results(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--quick", "--only", "extraction,embedded", "--out", str(tmp_path)]) == 0
    [path] = tmp_path.glob("results-*.json")
    results = json.loads(path.read_text(encoding="utf-8"))
    extraction = results["extraction"]
    assert extraction["pages"] == 2
    assert extraction["extracted"]["newswatch"] == 2, "both pages yield article text"
    assert extraction["extracted"]["trafilatura"] == 2, "the floor read the same pages"
    assert all(r > 0 for r in extraction["rates"]["newswatch"]["fetch+extract"])
    embedded = results["embedded"]
    [timed] = embedded["rounds"]
    assert timed["new"] == 2, "the timed round read the two new pages from the feed"
    assert embedded["rates"][0] > 0 and embedded["maxrss_mb"] > 100
    table = capsys.readouterr().out
    assert "3 embedded service, sustained articles/s" in table, "the rate the targets are checked on"
    assert embedded["sustained"] > 0
    assert "x1.00 of trafilatura" in table
