import json

from schemas import generate
from schemas.models import CONTRACTS
from schemas.validate import errors
from tests.factories import event


def test_the_published_schema_files_match_the_python_types():
    assert generate.main(["--check"]) == 0, "run: python -m schemas.generate"


def test_every_schema_file_is_versioned():
    for name in CONTRACTS:
        document = json.loads(generate.schema_path(name).read_text())
        assert document["version"] == "1.0"
        assert document["$id"].endswith(f"/{name}/1.0")


def test_an_event_uses_acled_field_names():
    fields = set(json.loads(generate.schema_path("event").read_text())["properties"])
    assert {"event_date", "event_type", "sub_event_type", "actor1", "actor2", "country", "admin1",
            "location", "latitude", "longitude", "fatalities", "source", "notes"} <= fields


def test_a_record_written_by_the_pipeline_validates_and_a_broken_one_does_not():
    record = json.loads(event("e1").model_dump_json())
    assert errors("event", record) == []
    broken = {**record, "latitude": 123.0}
    del broken["modality"]
    found = errors("event", broken)
    assert any("modality" in e for e in found)
    assert any(e.startswith("latitude") for e in found)
