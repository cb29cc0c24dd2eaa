"""Streaming mode: alerts reach the notifier through Kafka.

The streaming job publishes each new alert to the alerts topic
(``KafkaSettings.alerts_topic``). ``pump`` moves them into the durable outbox
and commits the topic's offsets only after the outbox holds them: a crash in
between re-delivers the records (at-least-once), and the outbox ignores an
alert it already holds unchanged, so nothing is sent twice because of it.
A record that is not an alert is logged with its topic, partition and offset,
counted, and skipped: the job wrote it, so reading it again would not help.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from kafka.errors import KafkaError
from pydantic import ValidationError

from connectors.kafka import KafkaSettings, consumer
from connectors.notify.notifier import Notifier
from connectors.outage import ride_out
from pipelines.rules import Rule
from schemas import Alert

log = logging.getLogger(__name__)


@dataclass
class PumpCounts:
    read: int = 0
    queued: int = 0
    skipped: int = 0


def pump(settings: KafkaSettings, notifier: Notifier, rules: Sequence[Rule],
         stopping: threading.Event, poll_ms: int = 500) -> PumpCounts:
    """Move alerts from the alerts topic into the outbox until ``stopping`` is set."""
    counts = PumpCounts()
    # A notifier started while the broker is away waits for it (this thread is the only way in).
    reader = ride_out(lambda: consumer(settings, group_id=f"{settings.group_id}-notifier",
                                       client_id="newswatch-notify"),
                      f"read {settings.alerts_topic}", patience=float("inf"))
    reader.subscribe([settings.alerts_topic])
    try:
        while not stopping.is_set():
            batch = reader.poll(timeout_ms=poll_ms)
            alerts: list[Alert] = []
            for records in batch.values():
                for record in records:
                    counts.read += 1
                    try:
                        alerts.append(Alert.model_validate_json(record.value))
                    except ValidationError as exc:
                        counts.skipped += 1
                        log.warning("%s:%s:%s: not an alert, skipped: %s", record.topic, record.partition,
                                    record.offset, str(exc).splitlines()[0])
            if alerts:
                counts.queued += len(notifier.enqueue(alerts, rules))
            if batch:
                try:
                    reader.commit()
                except KafkaError as exc:
                    # The outbox has them: read again after a restart, they are ignored as repeats.
                    log.warning("%s: commit failed, %d alert(s) may be read again: %s", settings.alerts_topic,
                                sum(len(r) for r in batch.values()), exc)
    finally:
        reader.close()
    return counts
