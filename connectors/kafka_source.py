"""A Kafka topic as a Beam unbounded source (``apache_beam.io.unbounded_source``).

Lifecycle: the runner asks the source for a reader; the reader assigns itself
every partition of the topic (manual assignment, no group membership), seeks to
the checkpoint mark when it resumes one, else to the group's committed offsets
(earliest when none), and returns records without blocking for more than
``poll_ms``. ``get_checkpoint_mark`` is the next offset per partition: a reader
rebuilt from it never re-reads what its previous bundle emitted.

Delivery guarantee: at-least-once. ``finalize_checkpoint`` commits nothing: a
read bundle being committed by the runner does not mean Elasticsearch has the
results. The streaming job commits the offsets itself, record by record, once
every write derived from a record was acknowledged (``pipelines.streaming``),
so a crash or restart re-reads what was not and idempotent writes absorb the
repeats.

Timestamps and watermark: a record's event time is its Kafka timestamp, never
earlier than the watermark already reported, so no record is ever late (a
late record would be dropped by the windows downstream). The checkpoint mark
carries that watermark, so this holds across readers too: the runner rebuilds
the reader from the mark at every checkpoint. The watermark is the
slowest partition's: the minimum, over partitions with records still to emit,
of the newest timestamp emitted from each; otherwise reading one partition's
backlog first would restamp another partition's older records and split one
polling round across two session windows. While the topic is
idle (every partition read to its end) the watermark follows the clock, less
``idle_lag_ms``, so windows close
(the lag delays every window's close; a record older than it when polled is
stamped at the watermark, i.e. shifted a little later, never dropped). An idle
reader moves the watermark once per read bundle, i.e. every ``poll_ms`` plus
the runner's poll interval: with 50 ms and 50 ms (was 100 ms and 200 ms of
lag) a window closes ~0.2 s sooner; the idle job used 21 % of a core instead of
19 % (docs/benchmarks.md, issue 7).
With ``max_records`` the reader reports the end of input (``MAX_TIMESTAMP``)
after that many records: the bounded mode used for batch runs and tests.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, deque
from typing import Any

from apache_beam import coders
from apache_beam.io.unbounded_source import CheckpointMark, UnboundedReader, UnboundedSource
from apache_beam.utils.timestamp import MAX_TIMESTAMP, MIN_TIMESTAMP, Timestamp
from kafka import TopicPartition
from kafka.errors import KafkaError

from connectors.kafka import KafkaRecord, KafkaSettings, KafkaUnavailable, consumer
from connectors.outage import DEFAULT_PATIENCE, describe, ride_out

log = logging.getLogger(__name__)


class KafkaCheckpointMark(CheckpointMark):
    """Next offset to read per partition, how many records were read so far, and the
    watermark the reader had reported (a resumed reader starts from it)."""

    def __init__(self, positions: dict[int, int], read: int = 0, watermark: Timestamp = MIN_TIMESTAMP) -> None:
        self.positions = dict(positions)
        self.read = read
        self.watermark = watermark

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, KafkaCheckpointMark)
                and (self.positions, self.read, self.watermark) == (other.positions, other.read, other.watermark))

    def __repr__(self) -> str:
        return f"KafkaCheckpointMark({self.positions}, read={self.read}, watermark={self.watermark})"


class _MarkCoder(coders.Coder):
    """JSON with sorted keys: deterministic bytes, readable in a debugger."""

    def encode(self, value: KafkaCheckpointMark) -> bytes:
        return json.dumps({"positions": sorted(value.positions.items()), "read": value.read,
                           "watermark": value.watermark.micros}).encode()

    def decode(self, encoded: bytes) -> KafkaCheckpointMark:
        data = json.loads(encoded)
        watermark = Timestamp(micros=data["watermark"]) if "watermark" in data else MIN_TIMESTAMP
        return KafkaCheckpointMark({int(p): int(o) for p, o in data["positions"]}, int(data["read"]), watermark)

    def is_deterministic(self) -> bool:
        return True


class KafkaSource(UnboundedSource):
    """Every partition of ``topic``, read by one reader (news volumes need no more)."""

    def __init__(self, settings: KafkaSettings, topic: str | None = None,
                 max_records: int | None = None, poll_ms: int = 50, idle_lag_ms: int = 50,
                 patience: float = DEFAULT_PATIENCE) -> None:
        self.settings = settings
        self.topic = topic or settings.articles_topic
        self.max_records = max_records
        self.poll_ms, self.idle_lag_ms = poll_ms, idle_lag_ms
        self.patience = patience  # a reader started while the broker is away waits this long for it

    def split(self, desired_num_splits: int, options: Any = None) -> list[KafkaSource]:
        return [self]

    def create_reader(self, options: Any, checkpoint_mark: CheckpointMark | None) -> KafkaReader:
        return KafkaReader(self, checkpoint_mark if isinstance(checkpoint_mark, KafkaCheckpointMark) else None)

    def get_checkpoint_mark_coder(self) -> coders.Coder:
        return _MarkCoder()

    def default_output_coder(self) -> coders.Coder:
        return coders.PickleCoder()


class KafkaReader(UnboundedReader):
    def __init__(self, source: KafkaSource, mark: KafkaCheckpointMark | None) -> None:
        self.source = source
        self.positions: dict[int, int] = dict(mark.positions) if mark else {}
        self.read = mark.read if mark else 0
        self.buffer: deque[KafkaRecord] = deque()
        self.current: KafkaRecord | None = None
        self.current_ts = MIN_TIMESTAMP
        # A resumed reader goes on from the watermark its predecessor reported: from
        # MIN_TIMESTAMP it would stamp a record at its Kafka time, and a record a
        # producer held through a broker outage is older than windows the runner has
        # already closed, so it was dropped as late (and its offset never committed).
        self.watermark = mark.watermark if mark else MIN_TIMESTAMP
        # Newest timestamp emitted per partition: the watermark is the slowest
        # partition's, so reading one partition's backlog ahead of another's
        # never pushes the other's records past the watermark.
        self.frontier: dict[int, Timestamp] = {}
        self.buffered: Counter[int] = Counter()  # records polled, not yet emitted, per partition
        self.client: Any = None
        self.outage_since: float | None = None  # monotonic time the broker stopped answering

    # -- UnboundedReader ----------------------------------------------------

    def start(self) -> bool:
        topic = self.source.topic
        partitions = ride_out(self._connect, f"read {topic}", self.source.patience)
        tps = [TopicPartition(topic, p) for p in partitions]
        self.client.assign(tps)
        for tp in tps:
            if tp.partition in self.positions:
                self.client.seek(tp, self.positions[tp.partition])
            # else: the group's committed offset, or the earliest (auto_offset_reset)
        log.info("reading %s partitions %s from %s", topic, partitions,
                 self.positions or "the committed offsets")
        return self.advance()

    def advance(self) -> bool:
        if self._done():
            return False
        try:
            if not self.buffer:
                self._poll()
            caught_up = not self.buffer and self._caught_up()
        except KafkaError as exc:
            # The broker is away: no record now, the watermark holds, and the
            # consumer reconnects by itself. One line when it starts, one when it ends.
            if self.outage_since is None:
                self.outage_since = time.monotonic()
                log.warning("%s: reading %s paused, broker unreachable: %s", self.source.settings.bootstrap_servers,
                            self.source.topic, describe(exc))
            return False
        if self.outage_since is not None:
            log.warning("%s: reading %s again after %.0f s", self.source.settings.bootstrap_servers,
                        self.source.topic, time.monotonic() - self.outage_since)
            self.outage_since = None
        if not self.buffer:
            if caught_up:
                idle = Timestamp(micros=(int(time.time() * 1000) - self.source.idle_lag_ms) * 1000)
                self.watermark = max(self.watermark, idle)
            return False
        record = self.buffer.popleft()
        self.buffered[record.partition] -= 1
        self.current = record
        stamp = Timestamp(micros=record.timestamp_ms * 1000)
        self.current_ts = max(stamp, self.watermark)
        self.frontier[record.partition] = max(self.frontier.get(record.partition, MIN_TIMESTAMP), stamp)
        self.watermark = max(self.watermark, self._partition_watermark())
        self.positions[record.partition] = record.offset + 1
        self.read += 1
        return True

    def get_current(self) -> KafkaRecord:
        if self.current is None:
            raise IndexError("no current record")
        return self.current

    def get_current_timestamp(self) -> Timestamp:
        return self.current_ts

    def get_watermark(self) -> Timestamp:
        return MAX_TIMESTAMP if self._done() else self.watermark

    def get_checkpoint_mark(self) -> KafkaCheckpointMark:
        # Records polled but not yet emitted are not covered: they are re-read.
        return KafkaCheckpointMark(self.positions, self.read, self.watermark)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    # -- helpers ------------------------------------------------------------

    def _connect(self) -> list[int]:
        """A consumer and the topic's partitions; KafkaUnavailable while no broker answers."""
        settings, topic = self.source.settings, self.source.topic
        if self.client is None:
            self.client = consumer(settings)
        partitions = sorted(self.client.partitions_for_topic(topic) or ())
        if not partitions:  # the job created the topic at start: no metadata means no broker
            raise KafkaUnavailable(f"{settings.bootstrap_servers}: no metadata for topic {topic!r}")
        return partitions

    def _poll(self) -> None:
        batch = self.client.poll(timeout_ms=self.source.poll_ms, max_records=self._room())
        for records in batch.values():
            self.buffered.update(r.partition for r in records)
            self.buffer.extend(
                KafkaRecord(r.topic, r.partition, r.offset, r.timestamp,
                            r.key.decode("utf-8") if r.key is not None else None,
                            r.value.decode("utf-8") if r.value is not None else "")
                for r in records)

    def _done(self) -> bool:
        return self.source.max_records is not None and self.read >= self.source.max_records

    def _caught_up(self) -> bool:
        """Every partition read to its end. An empty poll alone does not say so
        (a fetch may still be in flight): moving the watermark to the clock then
        would stamp the rest of a backlog later than its start and split one
        polling round into two sessions."""
        for tp in self.client.assignment():
            end = self.client.highwater(tp)
            if end is None or self.client.position(tp) < end:
                return False
        return True

    def _partition_watermark(self) -> Timestamp:
        """The minimum over partitions that still have records to emit (fetched
        or not) of the newest timestamp emitted from them; when none has, the
        newest timestamp emitted at all."""
        held = []
        for tp in self.client.assignment():
            end = self.client.highwater(tp)
            pending = (self.buffered[tp.partition] > 0 or end is None
                       or self.client.position(tp) < end)
            if pending:
                held.append(self.frontier.get(tp.partition, MIN_TIMESTAMP))
        if held:
            return min(held)
        return max(self.frontier.values(), default=MIN_TIMESTAMP)

    def _room(self) -> int:
        if self.source.max_records is None:
            return 500
        return max(1, min(500, self.source.max_records - self.read))
