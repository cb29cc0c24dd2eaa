"""Kafka transport: settings, topic admin, the article publisher, offset commits.

Topics (names from ``KafkaSettings``):

- ``articles``: one ``RawDocument`` per new feed entry, JSON valid against
  ``schemas/raw_document.schema.json``; key = the article id the pipeline will
  give it (``pipelines.normalize``), so every copy of one URL lands on one
  partition.
- ``alerts``: one ``Alert`` per new alert (``schemas/alert.schema.json``), key =
  alert id; for the notifier.
- ``dead_letter``: one ``Failure`` (input, step, reason) per record that failed
  a step, from the service and from the streaming job.

Delivery guarantee: the producer is idempotent with ``acks=all`` and retries, so
a sent record is written once per send; the service marks an entry seen only
after ``flush()`` returned, so a crash re-sends it (at-least-once), and the
streaming job's deterministic Elasticsearch ids make a re-sent record harmless.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, TopicAlreadyExistsError
from pydantic import BaseModel, ConfigDict, Field

from schemas import Failure, RawDocument

log = logging.getLogger(__name__)


class KafkaSettings(BaseModel):
    """Where the broker is and what the topics are called (config ``kafka:``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str = Field(default="127.0.0.1:9092", description="host:port[,host:port…]")
    articles_topic: str = "newswatch.articles"
    alerts_topic: str = "newswatch.alerts"
    dead_letter_topic: str = "newswatch.dead-letter"
    group_id: str = Field(default="newswatch-stream", description="consumer group of the streaming job")
    partitions: int = Field(default=3, ge=1, description="partitions of topics created by newswatch")
    replication_factor: int = Field(default=1, ge=1)
    security_protocol: str = "PLAINTEXT"
    ssl_cafile: str | None = None
    sasl_mechanism: str | None = None
    sasl_plain_username: str | None = None
    sasl_plain_password: str | None = Field(default=None, repr=False)
    bootstrap_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long a client tries to reach a broker before it reports Kafka unavailable")

    @property
    def topics(self) -> tuple[str, str, str]:
        return self.articles_topic, self.alerts_topic, self.dead_letter_topic

    def client_config(self) -> dict:
        """Connection options shared by producer, consumer and admin client."""
        config: dict = {"bootstrap_servers": self.bootstrap_servers.split(","),
                        "security_protocol": self.security_protocol,
                        "bootstrap_timeout_ms": int(self.bootstrap_timeout_seconds * 1000)}
        optional = {"ssl_cafile": self.ssl_cafile, "sasl_mechanism": self.sasl_mechanism,
                    "sasl_plain_username": self.sasl_plain_username,
                    "sasl_plain_password": self.sasl_plain_password}
        config.update({k: v for k, v in optional.items() if v is not None})
        return config


class KafkaUnavailable(RuntimeError):
    """The broker cannot be reached; the message names it and the reason."""


def probe(settings: KafkaSettings, timeout: float = 2.0) -> None:
    """KafkaUnavailable unless some bootstrap server accepts a TCP connection.

    Checked before a kafka-python client is built: a client whose bootstrap
    fails leaves its IO thread and sockets behind (kafka-python 3.0), and the
    service and the job retry for as long as an outage lasts.
    """
    errors = []
    for server in settings.bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return
        except (OSError, ValueError) as exc:
            errors.append(f"{server}: {exc}")
    raise KafkaUnavailable(f"{settings.bootstrap_servers}: cannot reach Kafka: {'; '.join(errors)}")


def ensure_topics(settings: KafkaSettings, topics: Iterable[str] | None = None) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    wanted = list(topics or settings.topics)
    probe(settings)
    try:
        admin = KafkaAdminClient(client_id="newswatch-admin", **settings.client_config())
    except KafkaError as exc:
        raise KafkaUnavailable(f"{settings.bootstrap_servers}: cannot reach Kafka: {exc}") from exc
    try:
        missing = [t for t in wanted if t not in set(admin.list_topics())]
        if missing:
            spec = {t: {"num_partitions": settings.partitions,
                        "replication_factor": settings.replication_factor} for t in missing}
            try:
                admin.create_topics(spec, wait_for_metadata=True)
                log.info("created topics %s", missing)
            except TopicAlreadyExistsError:
                pass  # another process created them between list and create
    finally:
        admin.close()


def delete_topics(settings: KafkaSettings, topics: Iterable[str]) -> None:
    admin = KafkaAdminClient(client_id="newswatch-admin", **settings.client_config())
    try:
        existing = set(admin.list_topics())
        names = [t for t in topics if t in existing]
        if names:
            admin.delete_topics(names)
    finally:
        admin.close()


def make_producer(settings: KafkaSettings, client_id: str = "newswatch") -> KafkaProducer:
    """A producer that writes each record once per send and waits for every replica."""
    probe(settings)
    try:
        return KafkaProducer(
            client_id=client_id, acks="all", enable_idempotence=True,
            compression_type="gzip",  # stdlib codec: no extra native library to install
            retries=2**31 - 1, delivery_timeout_ms=120_000, linger_ms=20,
            max_in_flight_requests_per_connection=5,
            key_serializer=str.encode, value_serializer=str.encode,
            **settings.client_config())
    except KafkaError as exc:
        raise KafkaUnavailable(f"{settings.bootstrap_servers}: cannot reach Kafka: {exc}") from exc


class Publisher:
    """Sends records to the newswatch topics; ``flush()`` waits until the broker
    acknowledged every one of them (or raises)."""

    def __init__(self, settings: KafkaSettings, client_id: str = "newswatch") -> None:
        self.settings = settings
        self.producer = make_producer(settings, client_id)
        self._pending: list = []

    def article(self, key: str, raw: RawDocument) -> None:
        self._send(self.settings.articles_topic, key, raw.model_dump_json())

    def failure(self, failure: Failure) -> None:
        self._send(self.settings.dead_letter_topic, failure.input, failure.model_dump_json())

    def send(self, topic: str, key: str, value_json: str) -> None:
        self._send(topic, key, value_json)

    def _send(self, topic: str, key: str, value: str) -> None:
        self._pending.append(self.producer.send(topic, key=key, value=value))

    def flush(self, timeout: float = 60.0) -> int:
        """Wait for all sends; return how many were acknowledged."""
        # Taken first: after a failed flush the caller sends the round again,
        # and these futures must not fail the next flush too.
        pending, self._pending = self._pending, []
        self.producer.flush(timeout=timeout)
        for future in pending:
            future.get(timeout=timeout)  # raises the send's error, if any
        return len(pending)

    def close(self) -> None:
        self.producer.close(timeout=10)

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass(frozen=True)
class KafkaRecord:
    """One consumed record, with its coordinates for offset commits."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: str | None
    value: str

    @property
    def name(self) -> str:
        return f"{self.topic}/{self.partition}@{self.offset}"


def consumer(settings: KafkaSettings, **overrides: object) -> KafkaConsumer:
    """A consumer in the job's group with manual assignment and manual commits."""
    config: dict = {"group_id": settings.group_id, "enable_auto_commit": False,
                    "auto_offset_reset": "earliest", "client_id": "newswatch-stream"}
    config.update(overrides)
    probe(settings)
    try:
        return KafkaConsumer(**config, **settings.client_config())
    except KafkaError as exc:
        raise KafkaUnavailable(f"{settings.bootstrap_servers}: cannot reach Kafka: {exc}") from exc


def commit_offsets(settings: KafkaSettings, next_offsets: Mapping[tuple[str, int], int]) -> None:
    """Commit, for the job's group, the next offset to read of each partition.

    The job reads with manual assignment (no group membership), so a commit
    from any client of the group is accepted by the coordinator.
    """
    if not next_offsets:
        return
    from kafka.structs import OffsetAndMetadata

    client = consumer(settings, client_id="newswatch-commit")
    try:
        client.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1)
                       for (t, p), o in next_offsets.items()})
    finally:
        client.close()


def committed_offsets(settings: KafkaSettings, topic: str) -> dict[int, int | None]:
    """The group's committed next offset per partition of ``topic`` (None: never committed)."""
    client = consumer(settings, client_id="newswatch-offsets")
    try:
        partitions = sorted(client.partitions_for_topic(topic) or ())
        return {p: client.committed(TopicPartition(topic, p)) for p in partitions}
    finally:
        client.close()


def start_offsets(settings: KafkaSettings, topic: str) -> dict[int, int]:
    """Where the job's reader starts per partition: the committed offset, else the earliest."""
    committed = committed_offsets(settings, topic)
    never = [TopicPartition(topic, p) for p, o in committed.items() if o is None]
    if not never:
        return {p: o for p, o in committed.items() if o is not None}
    client = consumer(settings, client_id="newswatch-offsets")
    try:
        earliest = {tp.partition: o for tp, o in client.beginning_offsets(never).items()}
    finally:
        client.close()
    return {p: o if o is not None else earliest[p] for p, o in committed.items()}


def read_all(settings: KafkaSettings, topic: str, timeout_ms: int = 5000) -> list[KafkaRecord]:
    """Every record now in ``topic``, from the beginning, without a group (tools, tests)."""
    client = consumer(settings, group_id=None, client_id="newswatch-reader")
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(client.partitions_for_topic(topic) or ())]
        client.assign(partitions)
        client.seek_to_beginning(*partitions)
        end = client.end_offsets(partitions)
        out: list[KafkaRecord] = []
        while any(client.position(tp) < end[tp] for tp in partitions):
            batch = client.poll(timeout_ms=timeout_ms)
            if not batch:
                break
            for records in batch.values():
                out.extend(KafkaRecord(r.topic, r.partition, r.offset, r.timestamp,
                                       r.key.decode() if r.key else None, r.value.decode())
                           for r in records)
        return out
    finally:
        client.close()


def publish_round(publisher: Publisher, raw: Iterable[RawDocument], failures: Iterable[Failure]) -> tuple[int, int]:
    """Publish a polling round: each document keyed by its article id, each
    failure (and each document Normalize rejects) to the dead-letter topic.
    Returns (articles, dead letters) once Kafka acknowledged all of them."""
    from pipelines.normalize import normalize

    articles = dead = 0
    for failure in failures:
        publisher.failure(failure)
        dead += 1
    for doc in raw:
        try:
            key = normalize(doc).id
        except ValueError as exc:  # NormalizeError and pydantic's ValidationError
            publisher.failure(Failure(input=doc.origin or doc.doc_id, step="Normalize", reason=str(exc)))
            dead += 1
            continue
        publisher.article(key, doc)
        articles += 1
    publisher.flush()
    return articles, dead
