"""Fixtures for connector tests: a real local HTTP server and a fetcher allowed to reach it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.http import Fetcher, FetchSettings
from tests.fixtures.http_server import LocalServer

# Loopback is refused by default; tests open it, and nothing else.
LOCAL = FetchSettings(allowed_networks=("127.0.0.0/8",), connect_timeout=2.0,
                      read_timeout=2.0, total_timeout=5.0)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        yield srv


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(LOCAL) as f:
        yield f
