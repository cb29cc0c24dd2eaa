"""Beam sink for Elasticsearch (``connectors.elasticsearch``): a bulk writer DoFn.

Lifecycle: the client is created in ``setup``; records are buffered in
``process`` and written in bulk at ``batch_size`` records and in
``finish_bundle``; ``teardown`` closes the client. While Elasticsearch (or,
for alerts, Kafka) is unreachable, a batch is retried with back-off for up to
``patience`` seconds (``connectors.outage``); past that, or on any other
error, the bundle raises. Writes are idempotent (deterministic ids), so a
retried batch or bundle writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from connectors.elasticsearch import ElasticsearchWriter, EsSettings, client
from connectors.kafka_sinks import ACK
from connectors.outage import DEFAULT_PATIENCE, ride_out
from schemas import Alert, es_templates
from schemas.es_templates import Kind


class WriteToElasticsearch(beam.PTransform):
    """Beam sink: records of one kind to Elasticsearch, in bulk requests of
    ``batch_size`` and at the end of every bundle.

    Outputs one acknowledgement ``("ack", kind, ids)`` per written batch and
    window, once ``bulk`` returned with no retryable error left, listing the
    ``_id``s Elasticsearch has (the job commits a record's offset only when the
    documents derived from it are acknowledged), and ``failures``: records the
    mapping rejected. With
    ``kafka`` settings, alerts new to the cluster are first sent to the alerts
    topic (for the notifier) and acknowledged by Kafka.
    """

    def __init__(self, settings: EsSettings, kind: Kind, batch_size: int = 500,
                 kafka: Any = None, patience: float = DEFAULT_PATIENCE) -> None:
        super().__init__()
        self.settings, self.kind, self.batch_size, self.kafka = settings, kind, batch_size, kafka
        self.patience = patience

    def expand(self, pcoll: beam.PCollection) -> Any:
        return pcoll | beam.ParDo(_BulkWriter(self.settings, self.kind, self.batch_size, self.kafka,
                                              self.patience)).with_outputs("failures", main="written")


class _BulkWriter(beam.DoFn):
    def __init__(self, settings: EsSettings, kind: Kind, batch_size: int, kafka: Any, patience: float) -> None:
        self.settings, self.kind, self.batch_size, self.kafka = settings, kind, batch_size, kafka
        self.patience = patience
        self.buffer: list[tuple[Any, Any, Any]] = []

    def setup(self) -> None:
        # No connection is made here: a worker may set up while a server is away.
        self.es = client(self.settings)
        self.writer = ElasticsearchWriter(self.es, self.settings)
        self.publisher = None  # for alerts, opened at the first alert (connects to Kafka)

    def start_bundle(self) -> None:
        self.buffer = []

    def process(self, record: Any, timestamp: Any = beam.DoFn.TimestampParam,
                window: Any = beam.DoFn.WindowParam) -> Iterable[Any]:
        self.buffer.append((record, timestamp, window))
        if len(self.buffer) >= self.batch_size:
            yield from self._flush()

    def finish_bundle(self) -> Iterable[Any]:
        yield from self._flush()

    def teardown(self) -> None:
        if getattr(self, "publisher", None) is not None:
            self.publisher.close()
        if getattr(self, "es", None) is not None:
            self.es.close()

    def _publish(self, alerts: list[Alert]) -> None:
        if self.kafka is None or self.kind != "alerts":
            return
        if self.publisher is None:
            from connectors.kafka import Publisher
            self.publisher = Publisher(self.kafka, client_id="newswatch-alerts")
        for alert in alerts:
            self.publisher.send(self.kafka.alerts_topic, alert.alert_id, alert.model_dump_json())
        self.publisher.flush()

    def _flush(self) -> Iterable[Any]:
        if not self.buffer:
            return
        buffered, self.buffer = self.buffer, []
        records = [r for r, _, _ in buffered]
        written, failures, _ = ride_out(lambda: self.writer.write(self.kind, records, before_create=self._publish),
                                        f"write {len(records)} {self.kind} to Elasticsearch", self.patience)
        ok = set(written)
        where = {es_templates.document_id(r): (ts, w) for r, ts, w in buffered}
        per_window: dict[Any, tuple[Any, set[str]]] = {}
        for record, ts, window in buffered:
            doc_id = es_templates.document_id(record)
            if doc_id in ok:
                latest, ids = per_window.get(window, (ts, set()))
                per_window[window] = (max(latest, ts), ids | {doc_id})
        for window, (ts, ids) in per_window.items():
            yield WindowedValue((ACK, self.kind, tuple(sorted(ids))), ts, [window])
        for failure in failures:
            ts, window = where.get(failure.input, (buffered[0][1], buffered[0][2]))
            yield beam.pvalue.TaggedOutput("failures", WindowedValue(failure, ts, [window or GlobalWindow()]))
