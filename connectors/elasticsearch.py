"""Elasticsearch: connection from settings and environment, a cluster check with
a clear error, index bootstrap (templates, write aliases, retention) and an
idempotent bulk writer with a Beam sink around it.

Names, templates, document ids and bodies come from ``schemas.es_templates``
(the contract in ``schemas/elasticsearch/README.md``); this module only talks
HTTP.

Delivery guarantee of the writer: every record is written under a
deterministic ``_id`` (article id, cluster id, alert id), in the index where a
document with that id already lives (so a rollover never splits one id over
two indices), else through the write alias. Writing the same record twice
therefore changes nothing; an event seen again merges its sources into the
stored one (read-merge-write, since the cluster has no scripting); an alert is
created once (``op_type=create``; 409 means it is already there). A bulk item
rejected by the mapping becomes a ``Failure``; anything else retryable is
retried with back-off, and what still fails raises, so the runner retries the
bundle and the job's offsets are not committed.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import elasticsearch
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch
from pydantic import BaseModel, ConfigDict, Field

from pipelines.cluster import merge_into
from schemas import Alert, Article, Event, Failure
from schemas import es_templates
from schemas.es_templates import Capabilities, Kind

log = logging.getLogger(__name__)

WRITE_STEP = "write-elasticsearch"
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})  # busy or restarting: worth a retry
_ENV = {"urls": "NEWSWATCH_ES_URLS", "api_key": "NEWSWATCH_ES_API_KEY",
        "username": "NEWSWATCH_ES_USERNAME", "password": "NEWSWATCH_ES_PASSWORD",
        "ca_certs": "NEWSWATCH_ES_CA_CERTS", "prefix": "NEWSWATCH_ES_PREFIX"}


class EsSettings(BaseModel):
    """Connection and naming (config ``elasticsearch:``; ``NEWSWATCH_ES_*`` override)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    urls: tuple[str, ...] = ("http://127.0.0.1:9200",)
    api_key: str | None = Field(default=None, repr=False)
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    ca_certs: str | None = Field(default=None, description="PEM file of the CA that signed the cluster's certificate")
    prefix: str = Field(default=es_templates.DEFAULT_PREFIX, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    request_timeout: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0)

    def with_env(self, environ: Mapping[str, str] | None = None) -> EsSettings:
        environ = os.environ if environ is None else environ
        update: dict[str, Any] = {}
        for field, var in _ENV.items():
            value = environ.get(var)
            if value:
                update[field] = tuple(value.split(",")) if field == "urls" else value
        return self.model_validate({**self.model_dump(), **update}) if update else self


class EsUnavailable(RuntimeError):
    """The cluster cannot be used; the message names it and the reason."""


def client(settings: EsSettings) -> Elasticsearch:
    auth: dict[str, Any] = {}
    if settings.api_key:
        auth["api_key"] = settings.api_key
    elif settings.username:
        auth["basic_auth"] = (settings.username, settings.password or "")
    if settings.ca_certs:
        auth["ca_certs"] = settings.ca_certs
    return Elasticsearch(list(settings.urls), request_timeout=settings.request_timeout,
                         max_retries=settings.max_retries, retry_on_timeout=True,
                         retry_on_status=tuple(sorted(RETRYABLE_STATUS)), **auth)


def check_cluster(es: Elasticsearch, settings: EsSettings) -> tuple[str, Capabilities]:
    """The server version and capabilities; EsUnavailable when unreachable or of another major.

    ``cluster.health`` rather than ``ping``/``info``: the root endpoint is
    missing from some distributions (``deploy/local``'s answers 405).
    """
    where = ",".join(settings.urls)
    client_major = int(elasticsearch.__versionstr__.split(".")[0])
    try:
        es.options(request_timeout=10).cluster.health()
        nodes = es.nodes.info(metric="plugins")
    except (TransportConnectionError, ConnectionTimeout) as exc:
        raise EsUnavailable(f"{where}: cannot reach Elasticsearch: {exc.message}") from exc
    except ApiError as exc:
        if "media_type_header_exception" in str(exc) or "Accept version" in str(exc):
            raise EsUnavailable(
                f"{where}: the server refuses the {elasticsearch.__versionstr__} client "
                f"(major {client_major}); install the client of the server's major") from exc
        raise EsUnavailable(f"{where}: Elasticsearch answered {exc.meta.status}: {exc.message}") from exc
    versions = {n.get("version", "?") for n in nodes.get("nodes", {}).values()}
    server = min(versions) if versions else "?"
    if server.split(".")[0] != str(client_major):
        raise EsUnavailable(f"{where}: server {server} but client {elasticsearch.__versionstr__}: "
                            f"client and server majors must match (pip install 'elasticsearch>={server.split('.')[0]},"
                            f"<{int(server.split('.')[0]) + 1}')")
    return server, es_templates.capabilities(nodes)


def bootstrap(es: Elasticsearch, settings: EsSettings, caps: Capabilities) -> None:
    """Templates, ILM policies when available, first indices behind write aliases. Idempotent."""
    for kind in es_templates.KINDS:
        n = es_templates.names(kind, settings.prefix)
        if caps.ilm:
            es.ilm.put_lifecycle(name=n.alias, body=es_templates.ilm_policy(kind))
        es.indices.put_index_template(name=n.template,
                                      body=es_templates.index_template(kind, caps, settings.prefix))
        if not es.indices.exists_alias(name=n.alias):
            index, body = es_templates.bootstrap_index(kind, settings.prefix)
            try:
                es.indices.create(index=index, body=body)
            except ApiError as exc:
                if "resource_already_exists_exception" not in str(exc):
                    raise
    if not caps.ilm:
        apply_retention(es, settings)


def apply_retention(es: Elasticsearch, settings: EsSettings, now: datetime | None = None) -> list[str]:
    """Roll over the write aliases that meet their conditions, delete expired indices; return those deleted."""
    now = now or datetime.now(UTC)
    deleted: list[str] = []
    for kind in es_templates.KINDS:
        alias = es_templates.names(kind, settings.prefix).alias
        es.indices.rollover(alias=alias, conditions=es_templates.rollover_conditions(kind))
        expired = es_templates.expired_indices(kind, es.indices.get(index=alias), now, settings.prefix)
        for index in expired:
            es.indices.delete(index=index)
            log.info("deleted expired index %s", index)
        deleted.extend(expired)
    return deleted


def connect(settings: EsSettings) -> tuple[Elasticsearch, Capabilities]:
    """A checked client with the indices in place: what a writer needs at start-up."""
    es = client(settings)
    _, caps = check_cluster(es, settings)
    bootstrap(es, settings, caps)
    return es, caps


class ElasticsearchWriter:
    """Idempotent bulk writes of articles, events and alerts (no Beam here)."""

    def __init__(self, es: Elasticsearch, settings: EsSettings, attempts: int = 5,
                 backoff: float = 0.5) -> None:
        self.es, self.settings = es, settings
        self.attempts, self.backoff = attempts, backoff

    def write(self, kind: Kind, records: Sequence[Article | Event | Alert],
              before_create: Callable[[list[Alert]], None] | None = None
              ) -> tuple[list[str], list[Failure], list[Alert]]:
        """Write ``records`` of one kind; return (ids written, failures, alerts new to the cluster).

        ``before_create`` receives the alerts about to be created, before they
        are: the job publishes them to Kafka there, so a crash in between
        re-publishes (at-least-once) rather than loses them.
        """
        if not records:
            return [], [], []
        alias = es_templates.names(kind, self.settings.prefix).alias
        docs: dict[str, dict[str, Any]] = {}
        latest: dict[str, Article | Event | Alert] = {}
        for record in records:
            _, doc_id, _ = es_templates.document(record)
            if kind == "events" and doc_id in latest:
                record = merge_into(latest[doc_id], record)  # type: ignore[arg-type]
            latest[doc_id] = record
        found = self._locate(alias, list(latest))
        new_alerts: list[Alert] = []
        for doc_id, record in latest.items():
            if kind == "alerts" and doc_id in found:
                continue  # created once, never overwritten
            if kind == "events" and doc_id in found:
                stored = Event.model_validate(_model_fields(Event, found[doc_id][1]))
                record = merge_into(stored, record)  # type: ignore[arg-type]
            if kind == "alerts":
                new_alerts.append(record)  # type: ignore[arg-type]
            docs[doc_id] = es_templates.document(record)[2]
        if new_alerts and before_create is not None:
            before_create(new_alerts)
        actions: list[dict[str, Any]] = []
        for doc_id, body in docs.items():
            index = found[doc_id][0] if doc_id in found else alias
            op = "create" if kind == "alerts" else "index"
            actions += [{op: {"_index": index, "_id": doc_id}}, body]
        failures = self._bulk(actions)
        failed = {f.input for f in failures}
        return [i for i in latest if i not in failed], failures, [a for a in new_alerts if a.alert_id not in failed]

    def _locate(self, alias: str, ids: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """Where each existing id lives (index, source), across every index of the alias."""
        answer = self.es.search(index=alias, query={"ids": {"values": ids}}, size=len(ids),
                                sort=["_doc"], seq_no_primary_term=False)
        return {hit["_id"]: (hit["_index"], hit["_source"]) for hit in answer["hits"]["hits"]}

    def _bulk(self, actions: list[dict[str, Any]]) -> list[Failure]:
        failures: list[Failure] = []
        if not actions:
            return failures
        pending = actions
        for attempt in range(self.attempts):
            answer = self.es.bulk(operations=pending, refresh=False)
            retry: list[dict[str, Any]] = []
            for i, item in enumerate(answer["items"]):
                (op, result), = item.items()
                status = result.get("status", 500)
                if status < 300 or (op == "create" and status == 409):
                    continue
                if status in RETRYABLE_STATUS:
                    retry += pending[2 * i:2 * i + 2]
                    continue
                error = result.get("error", {})
                reason = f"{status} {error.get('type', 'error')}: {error.get('reason', '')}".strip()
                failures.append(Failure(input=result.get("_id", "?"), step=WRITE_STEP, reason=reason))
            if not retry:
                return failures
            log.warning("bulk: %d item(s) rejected for now, retrying (attempt %d)", len(retry) // 2, attempt + 1)
            time.sleep(self.backoff * 2**attempt)
            pending = retry
        raise EsUnavailable(f"{','.join(self.settings.urls)}: {len(pending) // 2} document(s) still rejected "
                            f"after {self.attempts} attempts")


def _model_fields(model: type[BaseModel], source: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document minus the fields the writer derived (``location_point``)."""
    return {k: v for k, v in source.items() if k in model.model_fields}


def refresh(es: Elasticsearch, settings: EsSettings, kinds: Iterable[Kind] = es_templates.KINDS) -> None:
    es.indices.refresh(index=",".join(es_templates.names(k, settings.prefix).alias for k in kinds))

