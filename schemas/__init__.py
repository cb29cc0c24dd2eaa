"""Data contracts: typed records and their JSON Schemas."""

from schemas.models import (
    CONTRACTS,
    SCHEMA_VERSION,
    Alert,
    Article,
    Entity,
    Event,
    Failure,
    RawDocument,
    SourceRef,
)

__all__ = [
    "CONTRACTS",
    "SCHEMA_VERSION",
    "Alert",
    "Article",
    "Entity",
    "Event",
    "Failure",
    "RawDocument",
    "SourceRef",
]
