"""Riding out a server outage: what is waited for, what is not, and for how long."""

import pytest
from elastic_transport import ApiError, ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
from kafka.errors import KafkaConnectionError, KafkaTimeoutError, TopicAuthorizationFailedError

from connectors.elasticsearch import EsUnavailable
from connectors.kafka import KafkaUnavailable
from connectors.outage import ride_out, transient


def es_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "127.0.0.1", 9200))
    return ApiError(f"status {status}", meta, body={})


@pytest.mark.parametrize("exc", [
    KafkaUnavailable("no broker"), KafkaConnectionError("refused"), KafkaTimeoutError("flush"),
    EsUnavailable("cluster down"), ConnectionError("refused"), es_error(503), es_error(429)])
def test_an_unreachable_or_busy_server_is_waited_for(exc):
    assert transient(exc)


@pytest.mark.parametrize("exc", [
    TopicAuthorizationFailedError("denied"), es_error(400), es_error(401), ValueError("a bug"), KeyError("x")])
def test_a_request_the_server_refuses_for_good_is_not(exc):
    assert not transient(exc)


class Flaky:
    """Fails ``times`` times with ``exc``, then answers."""

    def __init__(self, times: int, exc: Exception) -> None:
        self.times, self.exc, self.calls = times, exc, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise self.exc
        return "written"


def test_a_call_is_retried_until_the_server_is_back(caplog):
    call = Flaky(2, KafkaConnectionError("111 ECONNREFUSED"))
    assert ride_out(call, "commit offsets", patience=30, sleep=lambda _: None) == "written"
    assert call.calls == 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "connectors.outage"]
    assert len(warnings) == 2 and all(w.startswith("commit offsets: KafkaConnectionError") for w in warnings)


def test_other_errors_are_raised_at_once():
    call = Flaky(1, ValueError("mapping rejected"))
    with pytest.raises(ValueError, match="mapping rejected"):
        ride_out(call, "write", patience=30, sleep=lambda _: None)
    assert call.calls == 1


def test_past_its_patience_the_outage_error_is_raised():
    call = Flaky(10**6, EsUnavailable("127.0.0.1:9200: cannot reach Elasticsearch"))
    with pytest.raises(EsUnavailable, match="cannot reach"):
        ride_out(call, "write", patience=0.2, sleep=lambda _: __import__("time").sleep(0.05))
    assert 2 <= call.calls < 100
