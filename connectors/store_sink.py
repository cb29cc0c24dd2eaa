"""Beam sink for the embedded store (connectors.store)."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam

from connectors.store import Store


class WriteToStore(beam.PTransform):
    """Beam sink: upsert records of one kind ("articles", "events", "alerts")
    into the store, in batches of ``batch_size`` and at the end of each bundle.
    Idempotent, so a retried bundle writes nothing twice."""

    def __init__(self, path: Path | str, kind: str, batch_size: int = 500) -> None:
        super().__init__()
        if kind not in ("articles", "events", "alerts"):
            raise ValueError(f"unknown record kind {kind!r}")
        self.path, self.kind, self.batch_size = str(path), kind, batch_size

    def expand(self, pcoll: beam.PCollection) -> beam.PCollection:
        return pcoll | beam.ParDo(_StoreWriter(self.path, self.kind, self.batch_size))


class _StoreWriter(beam.DoFn):
    def __init__(self, path: str, kind: str, batch_size: int) -> None:
        self.path, self.kind, self.batch_size = path, kind, batch_size
        self.buffer: list = []

    def setup(self) -> None:
        self.store = Store(self.path)

    def start_bundle(self) -> None:
        self.buffer = []

    def process(self, record):  # type: ignore[no-untyped-def]
        self.buffer.append(record)
        if len(self.buffer) >= self.batch_size:
            self._flush()
        return []

    def finish_bundle(self) -> None:
        self._flush()

    def _flush(self) -> None:
        if self.buffer:
            getattr(self.store, f"put_{self.kind}")(self.buffer)
            self.buffer = []
