"""Validate records against the published JSON Schema files (not the models),
so a consumer's view of the contract is what the tests check."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from schemas.generate import schema_path


@cache
def validator(name: str) -> Draft202012Validator:
    document = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return Draft202012Validator(document, format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors(name: str, record: dict[str, Any]) -> list[str]:
    """Every way ``record`` breaks the ``name`` contract, as 'path: message' lines."""
    found: list[ValidationError] = sorted(validator(name).iter_errors(record), key=str)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in found]
