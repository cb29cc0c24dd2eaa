"""Streaming mode: the notifier takes the job's alerts from Kafka, sends each once."""

import threading
import time

import pytest

from connectors.kafka import Publisher, committed_offsets
from connectors.notify.alert_topic import pump
from connectors.notify.config import NotifyConfig
from connectors.notify.notifier import Notifier
from connectors.notify.outbox import Outbox
from pipelines.rules import default_rules
from tests.connectors.notify.alerts import town_alert
from tests.connectors.notify.conftest import WebhookReceiver

pytestmark = pytest.mark.integration


def wait_for(condition, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_alerts_on_the_topic_reach_slack_once_and_are_committed_after_the_outbox_has_them(kafka, tmp_path):
    rules = default_rules()
    alerts = [town_alert(1), town_alert(2)]
    with Publisher(kafka) as publisher:
        for alert in alerts:
            publisher.send(kafka.alerts_topic, alert.alert_id, alert.model_dump_json())
        publisher.send(kafka.alerts_topic, "junk", '{"not": "an alert"}')
        # A re-delivered record (a job restarted before its commit) is the same alert again.
        publisher.send(kafka.alerts_topic, alerts[0].alert_id, alerts[0].model_dump_json())
        publisher.flush()
    with WebhookReceiver() as slack:
        config = NotifyConfig.model_validate({"channels": {"slack": {"type": "slack"}}, "poll_seconds": 0.1})
        notifier = Notifier.from_config(config, Outbox(tmp_path / "outbox.db"), rules,
                                        environ={"NEWSWATCH_SLACK_WEBHOOK_URL": slack.url()})
        stopping = threading.Event()
        result = {}
        reader = threading.Thread(target=lambda: result.update(counts=pump(kafka, notifier, rules, stopping)))
        sender = threading.Thread(target=notifier.run, args=(stopping,))
        reader.start()
        sender.start()
        notifier_group = kafka.model_copy(update={"group_id": f"{kafka.group_id}-notifier"})

        def committed() -> int:
            return sum(o or 0 for o in committed_offsets(notifier_group, kafka.alerts_topic).values())

        try:
            wait_for(lambda: len(slack.bodies) >= 2 and committed() == 4)
            time.sleep(1.0)  # a second send of the re-delivered alert would arrive now
        finally:
            stopping.set()
            reader.join(10)
            sender.join(10)
    assert len(slack.bodies) == 2
    assert sorted("Town 1" in str(b) for b in slack.bodies) == [False, True]
    assert sorted("Town 2" in str(b) for b in slack.bodies) == [False, True]
    assert (result["counts"].read, result["counts"].skipped) == (4, 1)
