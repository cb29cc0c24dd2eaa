"""Riding out an outage of Kafka or Elasticsearch: retry while the server is away.

A call that fails because its server is unreachable, overloaded or restarting
is retried with exponential back-off (0.5 s doubling to 10 s, with jitter) for
up to ``patience`` seconds, with one warning line per retry; any other error
(a mapping rejected, a bug) is raised at once. Why the streaming job needs
this: Prism and the DirectRunner fail the whole job when a bundle raises. A
failed job loses nothing (its offsets are committed only after the writes,
and a restart re-reads), but it needs someone to restart it; a broker restart
or an Elasticsearch rolling upgrade should not. Past ``patience`` the error is
raised, and the job stops with it.

Every retried call must be idempotent: the writers use deterministic ids and
the notifier's outbox ignores an alert it already holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from elastic_transport import ApiError as EsApiError
from elastic_transport import ConnectionError as EsConnectionError
from elastic_transport import ConnectionTimeout as EsConnectionTimeout
from kafka.errors import KafkaError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from connectors.elasticsearch import RETRYABLE_STATUS, EsUnavailable
from connectors.kafka import KafkaUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PATIENCE = 600.0  # seconds: a broker or node restart, a short network cut


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` says the server is away or busy (worth waiting for) rather than that the request is wrong."""
    if isinstance(exc, (KafkaUnavailable, EsUnavailable, EsConnectionError, EsConnectionTimeout)):
        return True
    if isinstance(exc, KafkaError):
        # Timeouts, lost connections, leader and coordinator moves are marked
        # retriable (a failed bootstrap is KafkaUnavailable, above); authorisation
        # and record errors are not.
        return bool(exc.retriable)
    if isinstance(exc, EsApiError):
        return exc.meta.status in RETRYABLE_STATUS
    return False


def describe(exc: BaseException) -> str:
    """``Type: first line of the message``: one log line, whatever the library put in the message."""
    text = str(exc)
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def ride_out(call: Callable[[], T], what: str, patience: float = DEFAULT_PATIENCE,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, retried while it fails with a transient error, for up to ``patience`` seconds."""

    def warn(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s: %s; retrying in %.1f s (attempt %d, giving up after %.0f s)", what,
                    describe(exc) if exc else "?", wait, state.attempt_number, patience)

    retrying = Retrying(retry=retry_if_exception(transient), wait=wait_exponential_jitter(multiplier=0.5, max=10.0),
                        stop=stop_after_delay(patience), before_sleep=warn, reraise=True, sleep=sleep)
    return retrying(call)
