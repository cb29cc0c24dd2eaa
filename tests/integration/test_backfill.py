"""`newswatch rules backfill` runs a rule as an Elasticsearch query over stored events."""

import pytest

from connectors.cli import main
from connectors.elasticsearch import ElasticsearchWriter, connect, refresh
from pipelines import embedded
from pipelines.rules import default_rules
from schemas import Event

pytestmark = pytest.mark.integration


def test_backfilling_town_captured_over_the_stored_seed_events_finds_al_sukhna_once(
        es_settings, seed_documents, tmp_path, capsys):
    result = embedded.run(seed_documents, [], default_rules(), tmp_path / "out", None)
    events = (tmp_path / "out" / "events.jsonl").read_text().splitlines()
    es, _ = connect(es_settings)
    try:
        written, failures, _ = ElasticsearchWriter(es, es_settings).write(
            "events", [Event.model_validate_json(line) for line in events])
        assert failures == [] and len(written) == result.events
        refresh(es, es_settings, ["events"])
    finally:
        es.close()
    capsys.readouterr()
    code = main(["rules", "backfill", "town-captured", "--since", "2017-08-01",
                 "--es", es_settings.urls[0], "--index", f"{es_settings.prefix}-events"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("ALERT town-captured") == 1, out
    assert "As Sukhnah" in out
    assert out.strip().endswith("alerts=1")
    # the same rule since a later date finds nothing
    main(["rules", "backfill", "town-captured", "--since", "2017-09-01",
          "--es", es_settings.urls[0], "--index", f"{es_settings.prefix}-events"])
    assert "alerts=0" in capsys.readouterr().out
