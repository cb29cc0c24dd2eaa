"""Shared fixtures: the seed corpus (copied from the project owner's corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas import RawDocument
from tests.fixtures.servers import drill_stack, prism, stack  # noqa: F401 - session fixtures for every test folder

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "seeds"

OUTLETS = {"000": "Middle East Eye", "001": "Middle East Eye", "002": "Middle East Eye",
           "003": "Arab News", "004": "Rudaw"}


def seed_document(path: Path) -> RawDocument:
    title, _, body = path.read_text(encoding="utf-8").partition("\n")
    return RawDocument(doc_id=path.stem, title=title, text=body, origin=str(path),
                       source=OUTLETS[path.stem[:3]])


@pytest.fixture(scope="session")
def seed_documents() -> list[RawDocument]:
    return [seed_document(p) for p in sorted(SEEDS.glob("*.txt"))]


@pytest.fixture(scope="session")
def seed_gold() -> dict[str, dict]:
    lines = (FIXTURES / "seeds.gold.jsonl").read_text(encoding="utf-8").splitlines()
    return {g["id"]: g for g in map(json.loads, lines)}
