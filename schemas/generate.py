"""Write the JSON Schema files of the data contracts from the Python models.

    python -m schemas.generate          # rewrite schemas/*.schema.json
    python -m schemas.generate --check  # exit 1 if a file is out of date

The models in ``schemas/models.py`` are the source; the files are what other
languages and tools (Kibana users, ACLED comparisons, consumers of the Kafka
topics) read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from schemas.models import CONTRACTS, SCHEMA_VERSION

HERE = Path(__file__).resolve().parent
BASE_ID = "https://newswatch.invalid/schemas"


def schema_for(name: str) -> dict:
    """The JSON Schema document of one contract, with its id and version."""
    document = CONTRACTS[name].model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE_ID}/{name}/{SCHEMA_VERSION}",
        "version": SCHEMA_VERSION,
        **document,
    }


def schema_path(name: str) -> Path:
    return HERE / f"{name}.schema.json"


def render(name: str) -> str:
    return json.dumps(schema_for(name), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a schema file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name in CONTRACTS:
        path, text = schema_path(name), render(name)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date: {', '.join(stale)} (run python -m schemas.generate)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
