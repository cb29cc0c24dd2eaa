"""Per-test Kafka topics and Elasticsearch prefixes on the session's real
servers (``tests/fixtures/servers.py``), deleted after each test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from connectors.elasticsearch import EsSettings, client
from connectors.kafka import KafkaSettings, delete_topics, ensure_topics
from tests.fixtures.servers import Stack


@pytest.fixture
def kafka(stack: Stack) -> Iterator[KafkaSettings]:
    tag = uuid.uuid4().hex[:10]
    settings = KafkaSettings(bootstrap_servers=stack.kafka, articles_topic=f"it-{tag}.articles",
                             alerts_topic=f"it-{tag}.alerts", dead_letter_topic=f"it-{tag}.dead-letter",
                             group_id=f"it-{tag}")
    ensure_topics(settings)
    yield settings
    delete_topics(settings, settings.topics)


@pytest.fixture
def es_settings(stack: Stack) -> Iterator[EsSettings]:
    settings = EsSettings(urls=(stack.es_url,), prefix=f"it-{uuid.uuid4().hex[:10]}")
    yield settings
    es = client(settings)
    try:
        # Wildcard deletes are refused by default (action.destructive_requires_name): by name.
        indices = list(es.indices.get(index=f"{settings.prefix}-*", expand_wildcards="all"))
        if indices:
            es.indices.delete(index=",".join(indices))
        for kind in ("articles", "events", "alerts"):
            es.options(ignore_status=404).indices.delete_index_template(name=f"{settings.prefix}-{kind}")
    finally:
        es.close()


def stream_args(kafka: KafkaSettings, es: EsSettings, *extra: str) -> list[str]:
    """Flags of ``newswatch stream`` for this test's topics and indices."""
    return ["--bootstrap-servers", kafka.bootstrap_servers, "--articles-topic", kafka.articles_topic,
            "--alerts-topic", kafka.alerts_topic, "--dead-letter-topic", kafka.dead_letter_topic,
            "--group-id", kafka.group_id, "--es-url", es.urls[0], "--es-prefix", es.prefix,
            "--gap-seconds", "2", *extra]
