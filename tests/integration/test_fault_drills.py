"""Fault drills: the deployment keeps every article and every alert through
the faults an operator meets, and repeats none.

Each drill runs the service (Kafka mode), the streaming job on Prism and the
notifier as real processes against the drill's own Kafka and Elasticsearch
(``drill_stack``), while a local site publishes 40 articles, 2 a second, 8 of
them town captures. Mid-stream, one fault; then every article must be in the
index exactly once and every alert must have reached the Slack receiver
exactly once. The figures are printed (``-s`` shows them) and asserted.

Needs Java (Kafka, Elasticsearch) and Go (Prism); in CI a missing one fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.connectors.notify.webhook import WebhookReceiver
from tests.fixtures.http_server import LocalServer
from tests.integration.drill import Drill
from tests.integration.drill_site import GrowingSite, drill_articles

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ARTICLES, CAPTURE_EVERY = 40, 5
FAULT_AT = 6.0  # seconds into the stream: a third of the articles are out


def broker_outage(drill: Drill) -> None:
    drill.server("down", "kafka")
    time.sleep(10)  # the service polls and the job reads against a dead broker
    drill.server("up", "kafka")


def elasticsearch_outage(drill: Drill) -> None:
    drill.server("down", "elasticsearch")
    time.sleep(10)  # bulk writes fail; nothing may be committed
    drill.server("up", "elasticsearch")


def kill_service(drill: Drill) -> None:
    drill.service.kill9()
    time.sleep(2)
    drill.service.start()


def kill_job(drill: Drill) -> None:
    drill.job.kill9()
    time.sleep(2)
    drill.job.start()


DRILLS: dict[str, Callable[[Drill], None]] = {
    "broker-stop-restart": broker_outage,
    "elasticsearch-stop-restart": elasticsearch_outage,
    "service-kill-9": kill_service,
    "job-kill-9": kill_job,
}


@pytest.fixture
def slack() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def site() -> Iterator[GrowingSite]:
    with LocalServer() as server:
        yield GrowingSite(server, drill_articles(ARTICLES, capture_every=CAPTURE_EVERY))


@pytest.mark.parametrize("name", list(DRILLS))
def test_every_article_is_indexed_once_and_every_alert_delivered_once(
        name, drill_stack, prism, site, slack, tmp_path):
    drill = Drill(name, drill_stack, prism, site, slack, tmp_path)
    try:
        drill.start()
        with drill.feeding(per_step=2, every=1.0):
            time.sleep(FAULT_AT)
            DRILLS[name](drill)
        figures = drill.finish()
        print(figures.line())
        still_running = [p.name for p in drill.processes if not p.alive()]
    finally:
        drill.cleanup()

    assert figures.sent == ARTICLES
    assert still_running == [], f"exited during the drill: {still_running}\n{drill.logs()}"
    assert (figures.lost, figures.duplicated, figures.dead_letters) == (0, 0, 0), f"{figures.line()}\n{drill.logs()}"
    assert figures.alerts_expected == ARTICLES // CAPTURE_EVERY
    assert (figures.alerts_delivered, figures.alerts_duplicated) == (figures.alerts_expected, 0), \
        f"{figures.line()}\n{drill.logs()}"
