"""The embedded pipeline: in-memory input in, JSONL files and the SQLite
store out, on Beam's DirectRunner. No servers.

The analysis is ``AnalyzeNews``, the same composite the streaming job runs;
only the sources and sinks here are particular to this mode.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from connectors.store_sink import WriteToStore
from pipelines.rules import Rule
from pipelines.transforms import AnalyzeNews
from schemas import Alert, Failure, RawDocument

OUTPUTS = ("articles", "events", "alerts", "failures")


@dataclass(frozen=True)
class RunResult:
    """What a run wrote, counted from its output files."""

    out_dir: Path
    articles: int
    duplicates: int
    events: int
    alerts: list[Alert]
    failures: list[Failure]


def _to_json(record: object) -> str:
    return record.model_dump_json()  # type: ignore[attr-defined]


def _write_jsonl(pcoll: beam.PCollection, out_dir: Path, name: str) -> None:
    _ = (
        pcoll
        | f"{name}ToJson" >> beam.Map(_to_json)
        | f"Write{name.title()}" >> beam.io.WriteToText(
            str(out_dir / name), file_name_suffix=".jsonl", shard_name_template="", num_shards=1)
    )


def run(raw: Sequence[RawDocument], read_failures: Sequence[Failure], rules: Sequence[Rule],
        out_dir: Path, store_path: Path | None, beam_args: Sequence[str] = ()) -> RunResult:
    """Analyse ``raw`` and write ``out_dir/{articles,events,alerts,failures}.jsonl``
    (and articles and events to the store, when ``store_path`` is given)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    options = PipelineOptions(list(beam_args) or ["--runner=DirectRunner"])
    with beam.Pipeline(options=options) as p:
        outputs = (
            p | "Read" >> beam.Create(list(raw), reshuffle=False)
            | "Analyze" >> AnalyzeNews(rules)
        )
        failures = (
            (outputs["failures"], p | "ReadFailures" >> beam.Create(list(read_failures), reshuffle=False))
            | "AllFailures" >> beam.Flatten()
        )
        for name in ("articles", "events", "alerts"):
            _write_jsonl(outputs[name], out_dir, name)
        if store_path is not None:
            # Alerts go to the store through the caller, which must know which
            # ones are new (Store.put_alerts) to announce each alert once.
            for name in ("articles", "events"):
                _ = outputs[name] | f"Store{name.title()}" >> WriteToStore(store_path, name)
        _write_jsonl(failures, out_dir, "failures")
    return collect(out_dir)


def _lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def collect(out_dir: Path) -> RunResult:
    articles = _lines(out_dir / "articles.jsonl")
    return RunResult(
        out_dir=out_dir,
        articles=len(articles),
        duplicates=sum(len(a["doc_ids"]) - 1 for a in articles),
        events=len(_lines(out_dir / "events.jsonl")),
        alerts=sorted((Alert.model_validate(a) for a in _lines(out_dir / "alerts.jsonl")),
                      key=lambda a: a.alert_id),
        failures=[Failure.model_validate(f) for f in _lines(out_dir / "failures.jsonl")],
    )
