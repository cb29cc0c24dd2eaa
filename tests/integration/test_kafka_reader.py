"""The Kafka reader behind the streaming job (connectors/kafka_source.py), on the session's
real broker: what a reader resumed from a checkpoint mark stamps on the records it emits."""

from __future__ import annotations

import time

import pytest
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Timestamp

from connectors.kafka import KafkaSettings, make_producer
from connectors.kafka_source import KafkaCheckpointMark, KafkaSource, _MarkCoder

pytestmark = pytest.mark.integration


def _read(reader, seconds: float = 10.0) -> list[Timestamp]:
    """Start the reader and advance it until its watermark follows the clock from now
    on (every partition read to its end); the timestamps of the records it emitted."""
    since = Timestamp.of(time.time())
    stamps = [reader.get_current_timestamp()] if reader.start() else []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if reader.advance():
            stamps.append(reader.get_current_timestamp())
        elif reader.get_watermark() >= since:
            return stamps
        time.sleep(0.01)
    raise AssertionError(f"the reader never caught up: watermark {reader.get_watermark()}")


def test_a_resumed_reader_never_stamps_a_record_behind_its_predecessors_watermark(kafka: KafkaSettings) -> None:
    producer = make_producer(kafka)
    producer.send(kafka.articles_topic, key="first", value="{}")
    producer.flush()
    source = KafkaSource(kafka)
    first = source.create_reader(None, None)
    assert len(_read(first)) == 1
    reported = first.get_watermark()
    mark = first.get_checkpoint_mark()
    first.close()
    # A record stamped a minute ago: what a producer that held it through a broker
    # outage appends once the broker is back. Stamped at its own time by a reader that
    # forgot the watermark, it would be late for every window the runner already closed.
    producer.send(kafka.articles_topic, key="held", value="{}", timestamp_ms=int((time.time() - 60) * 1000))
    producer.flush()
    producer.close()
    resumed = source.create_reader(None, mark)
    stamps = _read(resumed)
    resumed.close()
    assert len(stamps) == 1, "the resumed reader emits the new record once"
    assert stamps[0] >= reported, f"stamped {stamps[0]}, behind the watermark already reported ({reported})"


def test_the_mark_keeps_the_watermark_through_its_coder() -> None:
    coder = _MarkCoder()
    mark = KafkaCheckpointMark({0: 5, 2: 7}, read=12, watermark=Timestamp.of(1_765_000_000))
    assert coder.decode(coder.encode(mark)) == mark
    fresh = KafkaCheckpointMark({0: 1})
    assert coder.decode(coder.encode(fresh)).watermark == MIN_TIMESTAMP
