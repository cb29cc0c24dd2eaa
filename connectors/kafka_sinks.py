"""Beam steps that write to Kafka: the dead-letter topic and offset commits.

``PublishFailures`` sends each ``Failure`` to the dead-letter topic and outputs
a marker once Kafka acknowledged it. ``CommitOffsets`` receives, per window,
the next offsets of the records read and the markers of everything written;
it runs only when the window closes downstream of every writer, so what it
commits has been acknowledged by Elasticsearch and Kafka (at-least-once).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from connectors.kafka import KafkaRecord, KafkaSettings, Publisher, commit_offsets
from schemas import Failure

log = logging.getLogger(__name__)

OFFSET = "offset"


def next_offset(record: KafkaRecord) -> tuple[str, str, int, int]:
    """The commit a record allows once everything derived from it is written."""
    return (OFFSET, record.topic, record.partition, record.offset + 1)


class PublishFailures(beam.PTransform):
    """Failures to the dead-letter topic; outputs ``("dead-letter", input)`` per acknowledged record."""

    def __init__(self, settings: KafkaSettings) -> None:
        super().__init__()
        self.settings = settings

    def expand(self, pcoll: beam.PCollection) -> beam.PCollection:
        return pcoll | beam.ParDo(_FailurePublisher(self.settings))


class _FailurePublisher(beam.DoFn):
    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings
        self.buffer: list[tuple[Failure, Any, Any]] = []

    def setup(self) -> None:
        self.publisher = Publisher(self.settings, client_id="newswatch-dead-letter")

    def start_bundle(self) -> None:
        self.buffer = []

    def process(self, failure: Failure, timestamp: Any = beam.DoFn.TimestampParam,
                window: Any = beam.DoFn.WindowParam) -> None:
        log.warning("dead letter: %s", failure.line())
        self.publisher.failure(failure)
        self.buffer.append((failure, timestamp, window))

    def finish_bundle(self) -> Iterable[WindowedValue]:
        if self.buffer:
            self.publisher.flush()
        buffered, self.buffer = self.buffer, []
        for failure, timestamp, window in buffered:
            yield WindowedValue(("dead-letter", failure.input), timestamp, [window])

    def teardown(self) -> None:
        if getattr(self, "publisher", None) is not None:
            self.publisher.close()


class CommitOffsets(beam.DoFn):
    """One window's offsets and written markers in; the offsets committed for the job's group."""

    def __init__(self, settings: KafkaSettings) -> None:
        self.settings = settings

    def process(self, keyed: tuple[str, Iterable[Any]]) -> Iterable[dict[str, int]]:
        offsets: dict[tuple[str, int], int] = {}
        counts: Counter[str] = Counter()
        for item in keyed[1]:
            counts[item[0]] += 1
            if item[0] == OFFSET:
                _, topic, partition, offset = item
                offsets[(topic, partition)] = max(offset, offsets.get((topic, partition), 0))
        commit_offsets(self.settings, offsets)
        log.info("window done: %s; committed %s", dict(counts),
                 {f"{t}/{p}": o for (t, p), o in sorted(offsets.items())})
        yield dict(counts)
