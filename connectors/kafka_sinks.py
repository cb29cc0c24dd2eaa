"""Beam steps that write to Kafka: the dead-letter topic and offset commits.

``PublishFailures`` sends each ``Failure`` to the dead-letter topic and outputs
an acknowledgement once Kafka has it. ``CommitOffsets`` commits a record's
offset only when every document derived from it has been acknowledged by its
writer (``OffsetLedger``): a data dependency, whatever the writers' delays, so
what it commits has been acknowledged by Elasticsearch and Kafka (at-least-once).
Both wait out a broker outage of up to ``patience`` seconds (``connectors.outage``).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from connectors.kafka import KafkaSettings, Publisher, commit_offsets, start_offsets
from connectors.outage import DEFAULT_PATIENCE, ride_out
from schemas import Failure

log = logging.getLogger(__name__)

# The facts CommitOffsets is fed (tuples, first item one of these).
READ, EXPECT, ACK = "read", "expect", "ack"

class PublishFailures(beam.PTransform):
    """Failures to the dead-letter topic; outputs ``(ACK, "dead-letter", (input,))`` per acknowledged record."""

    def __init__(self, settings: KafkaSettings, patience: float = DEFAULT_PATIENCE) -> None:
        super().__init__()
        self.settings, self.patience = settings, patience

    def expand(self, pcoll: beam.PCollection) -> beam.PCollection:
        return pcoll | beam.ParDo(_FailurePublisher(self.settings, self.patience))


class _FailurePublisher(beam.DoFn):
    def __init__(self, settings: KafkaSettings, patience: float) -> None:
        self.settings, self.patience = settings, patience
        self.buffer: list[tuple[Failure, Any, Any]] = []

    def setup(self) -> None:
        self.publisher: Publisher | None = None  # opened at the first failure: it connects

    def start_bundle(self) -> None:
        self.buffer = []

    def process(self, failure: Failure, timestamp: Any = beam.DoFn.TimestampParam,
                window: Any = beam.DoFn.WindowParam) -> None:
        log.warning("dead letter: %s", failure.line())
        self.buffer.append((failure, timestamp, window))

    def _send(self, failures: list[Failure]) -> None:
        if self.publisher is None:
            self.publisher = Publisher(self.settings, client_id="newswatch-dead-letter")
        for failure in failures:
            self.publisher.failure(failure)
        self.publisher.flush()

    def finish_bundle(self) -> Iterable[WindowedValue]:
        if self.buffer:
            failures = [f for f, _, _ in self.buffer]
            ride_out(lambda: self._send(failures), f"send {len(failures)} dead letter(s) to Kafka", self.patience)
        buffered, self.buffer = self.buffer, []
        for failure, timestamp, window in buffered:
            yield WindowedValue((ACK, "dead-letter", (failure.input,)), timestamp, [window])

    def teardown(self) -> None:
        if getattr(self, "publisher", None) is not None:
            self.publisher.close()


class OffsetLedger:
    """Which records every writer has acknowledged, and the offsets that allows committing.

    Pure bookkeeping, fed three kinds of facts in any order:

    - ``read``: a record (topic, partition, offset) and the names its results
      carry (its raw ``doc_id``, its ``origin``, the record's own name);
    - ``expect``: everything the analysis of one window produced, as
      (name, kind, id): the article, events and alerts whose ``doc_ids``
      contain the name, or the dead-letter entry naming it. A window's
      expectations arrive together, so a name with some has all of them;
    - ``ack``: ids a writer has written (``("dead-letter", id)`` also settles
      an expected document the writer rejected and sent to the dead letter).

    A record is done when its names have expectations and all are
    acknowledged. ``advance`` returns, per partition, the offset after the
    longest run of done records from the last commit, and forgets them.
    """

    def __init__(self, committed: dict[tuple[str, int], int] | None = None) -> None:
        self.committed: dict[tuple[str, int], int] = dict(committed or {})
        self.pending: dict[tuple[str, int], dict[int, tuple[str, ...]]] = {}
        self.expected: dict[str, set[tuple[str, str]]] = {}
        self.acked: set[tuple[str, str]] = set()

    def read(self, topic: str, partition: int, offset: int, names: tuple[str, ...]) -> None:
        self.pending.setdefault((topic, partition), {})[offset] = names

    def expect(self, entries: Iterable[tuple[str, str, str]]) -> None:
        for name, kind, doc_id in entries:
            self.expected.setdefault(name, set()).add((kind, doc_id))

    def ack(self, kind: str, ids: Iterable[str]) -> None:
        self.acked.update((kind, i) for i in ids)

    def done(self, names: tuple[str, ...]) -> bool:
        wanted = set().union(*(self.expected.get(n, ()) for n in names))
        return bool(wanted) and all(w in self.acked or ("dead-letter", w[1]) in self.acked for w in wanted)

    def advance(self) -> dict[tuple[str, int], int]:
        moved: dict[tuple[str, int], int] = {}
        for tp, records in self.pending.items():
            start = self.committed.get(tp, min(records, default=0))
            position = start
            # Offsets of one partition are consecutive (idempotent producer, no
            # transactions): a missing one is a read not seen here yet, so stop.
            while position in records and self.done(records[position]):
                position += 1
            if position > start:
                moved[tp] = self.committed[tp] = position
        for tp, position in moved.items():
            self._forget(tp, position)
        return moved

    def _forget(self, tp: tuple[str, int], position: int) -> None:
        records = self.pending[tp]
        gone = {n for o in [o for o in records if o < position] for n in records.pop(o)}
        live = {n for recs in self.pending.values() for names in recs.values() for n in names}
        dropped = {i for n in gone - live for _, i in self.expected.pop(n, ())}
        still = {i for wanted in self.expected.values() for _, i in wanted}
        self.acked = {a for a in self.acked if a[1] not in dropped or a[1] in still}


# One ledger per job run, shared by the worker threads of the process. Not
# Beam state: on Prism, a ReadModifyWrite state of one key lost the reads of a
# bundle (observed: the next bundle read an empty ledger). The ledger holds only
# records not yet committed, which a restarted job re-reads anyway, so keeping
# it in memory loses nothing; it needs the commit step in one process, which is
# what Prism (loopback workers) and the DirectRunner give.
_LEDGERS: dict[str, OffsetLedger] = {}
_LEDGERS_LOCK = threading.Lock()


class CommitOffsets(beam.DoFn):
    """Reads, each window's expectations and the writers' acknowledgements in;
    each time they complete records, their offsets are committed for the job's
    group. Outputs the commits made (``{"topic/partition": next offset}``)."""

    def __init__(self, settings: KafkaSettings, patience: float = DEFAULT_PATIENCE) -> None:
        self.settings, self.patience = settings, patience
        self.run_id = uuid.uuid4().hex  # fixed when the pipeline is built: one ledger per run

    def process(self, fact: tuple[Any, ...]) -> Iterable[dict[str, int]]:
        with _LEDGERS_LOCK:
            ledger = _LEDGERS.get(self.run_id)
            if ledger is None:
                # Where the reader started: a read that overtakes a lower one then
                # stops the commit at the gap instead of skipping it.
                start = ride_out(lambda: start_offsets(self.settings, self.settings.articles_topic),
                                 "read the committed offsets", self.patience)
                ledger = _LEDGERS[self.run_id] = OffsetLedger(
                    {(self.settings.articles_topic, p): o for p, o in start.items()})
            if fact[0] == READ:
                ledger.read(*fact[1:])
            elif fact[0] == EXPECT:
                ledger.expect(fact[1])
            else:
                ledger.ack(fact[1], fact[2])
            moved = ledger.advance()
            if moved:  # under the lock: commits of one run never go backwards
                ride_out(lambda: commit_offsets(self.settings, moved), "commit offsets", self.patience)
        if moved:
            commits = {f"{t}/{p}": o for (t, p), o in sorted(moved.items())}
            log.info("committed %s", commits)
            yield commits
