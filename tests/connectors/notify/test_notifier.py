import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from connectors.notify.config import NotifyConfig
from connectors.notify.email import message_id
from connectors.notify.notifier import Notifier, backoff
from connectors.notify.outbox import Outbox, Route
from pipelines import embedded
from pipelines.rules import default_rules, load_rules
from tests.connectors.notify.alerts import town_alert
from tests.connectors.notify.conftest import PASSWORD, USER, SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[3]


class Clock:
    def __init__(self, now: float = 1_500_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def notify_config(smtp_port: int, ca_file: Path, webhook_url: str | None = None, **more) -> dict:
    channels = {"email": {"type": "email", "host": "127.0.0.1", "port": smtp_port, "username": USER,
                          "sender": "newswatch@example.org", "recipients": ["analyst@example.org"],
                          "ca_file": str(ca_file), "timeout_seconds": 5}}
    if webhook_url:
        channels["slack"] = {"type": "slack", "webhook_url": webhook_url}
    return {"channels": channels, "retry_base_seconds": 10, "retry_max_seconds": 600, **more}


def notifier(tmp_path, cfg: dict, rules=None, clock=None) -> Notifier:
    rules = rules if rules is not None else default_rules()
    return Notifier.from_config(NotifyConfig.model_validate(cfg), Outbox(tmp_path / "outbox.db"), rules,
                                environ={"NEWSWATCH_SMTP_PASSWORD": PASSWORD}, clock=clock or Clock())


def test_the_seeds_give_one_town_captured_email_and_one_slack_message_citing_both_sources(
        tmp_path, seed_documents, smtp_server, webhook, tls_files):
    rules = default_rules()
    result = embedded.run(seed_documents, [], rules, tmp_path / "out", None)
    n = notifier(tmp_path, notify_config(smtp_server.port, tls_files[0], webhook.url()), rules)
    n.enqueue(result.alerts, rules)
    assert n.drain() == 2
    [mail] = smtp_server.mailbox.messages
    [slack] = webhook.bodies
    assert "town-captured" in mail["Subject"] and "As Sukhnah" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    assert "Middle East Eye" in text and "Rudaw" in text
    assert "town-captured" in slack["text"]
    assert "Middle East Eye" in str(slack["blocks"]) and "Rudaw" in str(slack["blocks"])
    assert n.drain() == 0  # nothing is sent twice


def test_a_channel_down_then_back_loses_nothing_and_sends_each_alert_once(tmp_path, tls_files, webhook):
    port, clock = free_port(), Clock()
    n = notifier(tmp_path, notify_config(port, tls_files[0], webhook.url()), clock=clock)
    webhook.status = 503
    n.enqueue([town_alert(i) for i in range(3)], default_rules())
    for _ in range(4):  # minutes of outage: SMTP refuses connections, Slack answers 503
        assert n.drain() == 0
        clock.now += 60
    pending = [d for d in n.outbox.status() if d["status"] == "pending"]
    assert len(pending) == 6
    # A channel found down is not hammered: the rest of its queue waits for the next pass.
    assert {d["channel"]: d["attempts"] for d in pending if d["attempts"]} == {"email": 4, "slack": 4}
    webhook.status = 200
    with SmtpServer(tls_files, "starttls", port=port) as server:
        clock.now += 600
        assert n.drain() == 6
        assert n.drain() == 0
        assert sorted(m["Subject"][-60:] for m in server.mailbox.messages) == sorted(
            {m["Subject"][-60:] for m in server.mailbox.messages})
        assert len(server.mailbox.messages) == 3
    assert len(webhook.bodies) == 3
    assert n.outbox.counts() == {"pending": 0, "sent": 6, "failed": 0}


def test_retries_back_off_exponentially_up_to_a_cap():
    assert [backoff(a, 5, 60) for a in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_an_alert_is_queued_once_and_again_only_when_its_event_changes_materially(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db")
    routes = {"town-captured": [Route("email")]}
    alert = town_alert()
    assert [a.revision for a in outbox.enqueue([alert], routes, 1.0)] == [1]
    assert outbox.enqueue([alert], routes, 2.0) == []  # seen again: nothing
    more = alert.model_copy(update={"event": alert.event.model_copy(update={"independent_sources": 3})})
    [update] = outbox.enqueue([more], routes, 3.0)
    assert update.revision == 2 and update.reasons[-1] == "update: 3 independent sources (was 2)"
    revised = more.model_copy(update={"event": more.event.model_copy(update={"fatalities": 12})})
    assert [a.revision for a in outbox.enqueue([revised], routes, 4.0)] == [3]
    assert [d["revision"] for d in outbox.status()] == [1, 2, 3]


def test_a_throttled_rule_waits_its_turn_and_is_not_dropped(tmp_path, webhook, tls_files):
    rules = load_rules("rules:\n  - id: town-captured\n    description: x\n    when: {populated_place: true}\n"
                       "    throttle: {max: 1, per: 1h}\n", "t.yaml")
    clock = Clock()
    cfg = {"channels": {"slack": {"type": "slack", "webhook_url": webhook.url()}}}
    n = notifier(tmp_path, cfg, rules, clock)
    n.enqueue([town_alert(1), town_alert(2)], rules)
    assert n.drain() == 1
    clock.now += 1800
    assert n.drain() == 0
    clock.now += 1801
    assert n.drain() == 1 and len(webhook.bodies) == 2


def _until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_running_notifier_sends_what_is_queued_without_waiting_for_its_poll(tmp_path, webhook):
    # An hour between polls: only the wake-up from enqueue can send it, and only the stop
    # can end the wait.
    cfg = {"channels": {"slack": {"type": "slack", "webhook_url": webhook.url()}}, "poll_seconds": 3600}
    n, stopping = notifier(tmp_path, cfg), threading.Event()
    sender = threading.Thread(target=n.run, args=(stopping,), daemon=True)
    sender.start()
    n.enqueue([town_alert(1)], default_rules())
    assert _until(lambda: len(webhook.bodies) == 1)
    assert n.enqueue([town_alert(1)], default_rules()) == []  # a repeat queues nothing, sends nothing
    n.enqueue([town_alert(2)], default_rules())
    assert _until(lambda: len(webhook.bodies) == 2)
    assert n.outbox.counts() == {"pending": 0, "sent": 2, "failed": 0}
    stopping.set()
    sender.join(timeout=10)
    assert not sender.is_alive()


def test_a_digest_channel_sends_one_summary_per_window(tmp_path, webhook):
    clock = Clock(3600 * 400_000 + 60)
    cfg = {"channels": {"slack": {"type": "slack", "webhook_url": webhook.url(), "digest": "hourly"}}}
    n = notifier(tmp_path, cfg, clock=clock)
    n.enqueue([town_alert(1), town_alert(2)], default_rules())
    assert n.drain() == 0
    clock.now += 3600
    assert n.drain() == 1 and n.drain() == 0
    [digest] = webhook.bodies
    assert digest["text"].startswith("newswatch digest: 2 alert(s)")
    assert "Town 1" in str(digest["blocks"]) and "Town 2" in str(digest["blocks"])


def test_the_webhook_url_never_reaches_the_logs(tmp_path, webhook, caplog):
    caplog.set_level(logging.DEBUG)
    cfg = {"channels": {"slack": {"type": "slack", "webhook_url": webhook.url()}}}
    n = notifier(tmp_path, cfg)
    n.enqueue([town_alert(1)], default_rules())
    webhook.status = 503
    n.drain()
    webhook.status = 200
    n.clock.now += 3600
    n.drain()
    assert len(webhook.bodies) == 1
    assert caplog.records and all("XXXXSECRETXXXX" not in r.getMessage() for r in caplog.records)


def _start_notifier(config: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "connectors.cli", "notify", "--config", str(config)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(predicate, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_after_a_kill_and_restart_nothing_recorded_as_sent_goes_out_again(tmp_path, tls_files):
    with SmtpServer(tls_files, "starttls") as server:
        server.mailbox.delay = 0.3  # each message takes a while, so the kill lands mid-queue
        cfg = {"store": str(tmp_path / "store.db"),
               "notify": notify_config(server.port, tls_files[0], poll_seconds=0.1,
                                       outbox=str(tmp_path / "outbox.db"))}
        config = tmp_path / "newswatch.yaml"
        config.write_text(yaml.safe_dump(cfg))
        Outbox(tmp_path / "outbox.db").enqueue(
            [town_alert(i) for i in range(6)],
            {"town-captured": [Route("email")]},
            time.time())
        env = {**os.environ, "NEWSWATCH_SMTP_PASSWORD": PASSWORD}
        first = _start_notifier(config, env)
        try:
            _wait_for(lambda: len(server.mailbox.messages) >= 2)
        finally:
            first.send_signal(signal.SIGKILL)
            first.communicate(timeout=10)
        assert len(server.mailbox.messages) < 6
        recorded = {message_id(f"{d['alert_id']}.{d['revision']}.email")
                    for d in Outbox(tmp_path / "outbox.db").status() if d["status"] == "sent"}
        second = _start_notifier(config, env)
        try:
            _wait_for(lambda: len(server.mailbox.messages) >= 6)
            time.sleep(1.0)  # anything sent twice would arrive now
        finally:
            second.send_signal(signal.SIGTERM)
            _, err = second.communicate(timeout=10)
        ids = server.mailbox.ids()
        assert len(set(ids)) == 6, err.decode()
        # Nothing the outbox recorded as sent goes out again. SMTP has no
        # idempotent send: a kill after the server accepted a message and before
        # the outbox recorded it leaves that one message's outcome unknown, and
        # it is sent again under the same Message-ID, which mail clients fold.
        repeated = {i for i in ids if ids.count(i) > 1}
        assert not repeated & recorded
        assert len(ids) - len(set(ids)) <= 1
        assert second.returncode == 0
        assert PASSWORD.encode() not in err
