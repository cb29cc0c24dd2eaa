"""Elasticsearch settings and the start-up check, without a cluster (see tests/integration for one)."""

import socket

import pytest

from connectors.elasticsearch import EsSettings, EsUnavailable, check_cluster, client


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_an_unreachable_cluster_is_one_line_naming_it():
    settings = EsSettings(urls=(f"http://127.0.0.1:{closed_port()}",), max_retries=0)
    with pytest.raises(EsUnavailable, match=r"^http://127\.0\.0\.1:\d+: cannot reach Elasticsearch: ") as caught:
        check_cluster(client(settings), settings)
    assert "\n" not in str(caught.value)


def test_the_environment_overrides_the_config_and_secrets_stay_out_of_repr():
    settings = EsSettings(urls=("http://es.invalid:9200",)).with_env({
        "NEWSWATCH_ES_URLS": "https://a:9200,https://b:9200", "NEWSWATCH_ES_API_KEY": "s3cret",
        "NEWSWATCH_ES_PREFIX": "nw-test"})
    assert settings.urls == ("https://a:9200", "https://b:9200")
    assert settings.api_key == "s3cret" and settings.prefix == "nw-test"
    assert "s3cret" not in repr(settings)
