"""WebSub: the test plays the hub, over real HTTP, against the service's callback port."""

import hashlib
import hmac
import io
import socket
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from connectors.http import Fetcher
from connectors.service import ConfigError, FeedConfig, Service, ServiceConfig
from connectors.service_settings import OpsConfig, WebSubConfig
from connectors.websub import discover, signature_ok, topic_id, topic_secret
from tests.connectors.conftest import LOCAL
from tests.fixtures.http_server import respond

SECRET = "master-secret-for-tests"
RSS = {"Content-Type": "application/rss+xml"}
STORY = ("Syrian government forces captured the town of Al-Sukhnah from Islamic State fighters "
         "on Saturday, the army said, after days of heavy fighting in the eastern Homs desert. ")


def feed(hub, self_url, items=""):
    return (f'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Wire</title>'
            f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{self_url}"/>'
            f"{items}</channel></rss>").encode()


def item(guid, text):
    return (f"<item><guid>{guid}</guid><title>Town captured</title>"
            f"<content:encoded><![CDATA[<p>{text}</p>]]></content:encoded></item>")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """A hub on the local server: accepts subscriptions (202), then verifies intent."""

    def __init__(self, server):
        self.server = server
        self.subscriptions = []
        self.verified = []
        server.routes["/hub"] = self.subscribe

    def subscribe(self, handler):
        form = {k: v[0] for k, v in parse_qs(self.server.requests[-1].body.decode()).items()}
        self.subscriptions.append(form)
        respond(handler, 202, {"Content-Type": "text/plain"}, b"")
        threading.Thread(target=self.verify, args=(form,)).start()

    def verify(self, form, challenge="c-7f3a"):
        answer = httpx.get(form["hub.callback"], params={
            "hub.mode": "subscribe", "hub.topic": form["hub.topic"], "hub.challenge": challenge,
            "hub.lease_seconds": "3600"})
        self.verified.append((answer.status_code, answer.text))

    def push(self, form, body, secret=None):
        digest = hmac.new((secret or form["hub.secret"]).encode(), body, hashlib.sha256).hexdigest()
        return httpx.post(form["hub.callback"], content=body, headers={
            "Content-Type": "application/rss+xml", "X-Hub-Signature": f"sha256={digest}"})


@pytest.fixture
def websub_service(server, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSWATCH_WEBSUB_SECRET", SECRET)
    port = free_port()
    hub = Hub(server)
    server.routes["/feed.xml"] = (200, RSS, feed(server.url("/hub"), server.url("/feed.xml")))
    config = ServiceConfig(
        feeds=(FeedConfig(url=server.url("/feed.xml")),), interval_seconds=0.1,
        store=tmp_path / "nw.db", out_dir=tmp_path / "out", allowed_networks=("127.0.0.0/8",),
        ops=OpsConfig(port=port), websub=WebSubConfig(public_url=f"http://127.0.0.1:{port}"))
    svc = Service(config, out=io.StringIO())
    with Fetcher(LOCAL) as fetcher, svc.ops.running():
        yield svc, hub, fetcher


def wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_feed_naming_a_hub_is_subscribed_and_the_hub_verification_is_answered(websub_service,
                                                                               server):
    svc, hub, fetcher = websub_service
    topic = server.url("/feed.xml")
    svc.round(fetcher)
    assert wait_for(lambda: hub.verified)
    form = hub.subscriptions[0]
    assert form["hub.mode"] == "subscribe" and form["hub.topic"] == topic
    assert form["hub.callback"].endswith(f"/websub/{topic_id(topic)}")
    assert form["hub.secret"] == topic_secret(SECRET, topic)
    assert hub.verified == [(200, "c-7f3a")]  # the challenge echoed
    hub_url, state, lease_expires, _ = svc.store.websub_state(topic)
    assert (hub_url, state) == (server.url("/hub"), "active")
    expires = datetime.fromisoformat(lease_expires)
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)


def test_a_verification_for_a_topic_we_did_not_ask_for_is_refused(websub_service, server):
    svc, hub, fetcher = websub_service
    svc.round(fetcher)
    assert wait_for(lambda: hub.verified)
    form = dict(hub.subscriptions[0], **{"hub.topic": "http://evil.example/feed"})
    hub.verify(form)
    assert hub.verified[-1][0] == 404


def test_a_signed_push_is_processed_in_the_next_round_without_polling(websub_service, server):
    svc, hub, fetcher = websub_service
    svc.round(fetcher)
    assert wait_for(lambda: hub.verified)
    polls_before = sum(r.path == "/feed.xml" for r in server.requests)
    body = feed(server.url("/hub"), server.url("/feed.xml"), item("urn:push:1", STORY * 3))
    assert hub.push(hub.subscriptions[0], body).status_code == 202
    assert svc.ops.wake.is_set()  # the loop wakes at once
    schedule = svc.store.schedule(server.url("/feed.xml"))  # no poll due: it comes by push
    svc.store.put_schedule(replace(schedule, next_poll=datetime.now(UTC) + timedelta(hours=1)))
    svc.round(fetcher)
    entry_id = hashlib.sha256(b"urn:push:1").hexdigest()[:16]
    assert svc.store.is_seen(entry_id)
    assert svc.store.counts()["articles"] == 1
    assert sum(r.path == "/feed.xml" for r in server.requests) == polls_before


def test_a_push_with_a_bad_signature_is_refused_and_ignored(websub_service, server):
    svc, hub, fetcher = websub_service
    svc.round(fetcher)
    assert wait_for(lambda: hub.verified)
    body = feed(server.url("/hub"), server.url("/feed.xml"), item("urn:push:2", STORY * 3))
    assert hub.push(hub.subscriptions[0], body, secret="guessed").status_code == 403
    assert svc.ops.websub.drain() == []


def test_a_lease_close_to_its_end_is_renewed(websub_service, server):
    svc, hub, fetcher = websub_service
    svc.round(fetcher)
    assert wait_for(lambda: hub.verified)
    topic = server.url("/feed.xml")
    granted = (datetime.now(UTC) - timedelta(hours=9)).isoformat()
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()  # 1 h of a 10 h lease left
    svc.store.put_websub_state(topic, server.url("/hub"), "active", soon, granted)
    svc.ops.websub.maintain([topic], fetcher)
    assert len(hub.subscriptions) == 2
    assert wait_for(lambda: len(hub.verified) == 2)


def test_websub_without_its_secret_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSWATCH_WEBSUB_SECRET", raising=False)
    config = ServiceConfig(store=tmp_path / "nw.db",
                           websub=WebSubConfig(public_url="https://nw.example.org"))
    with pytest.raises(ConfigError, match=r"\$NEWSWATCH_WEBSUB_SECRET is empty"):
        Service(config)


def test_discovery_and_signatures():
    assert discover(feed("https://hub.example/", "https://x.example/f")) == (
        "https://hub.example/", "https://x.example/f")
    assert discover(b"<rss><channel><title>t</title></channel></rss>") == (None, None)
    mac = hmac.new(b"k", b"body", hashlib.sha1).hexdigest()
    assert signature_ok("k", b"body", f"sha1={mac}")
    assert not signature_ok("k", b"body!", f"sha1={mac}")
    assert not signature_ok("k", b"body", f"md5={mac}")
    assert not signature_ok("k", b"body", None)


def test_a_push_survives_a_crash_before_its_round_and_is_forgotten_once_seen(websub_service, server):
    svc, hub, fetcher = websub_service
    svc.round(fetcher)
    assert wait_for(lambda: hub.verified)
    body = feed(server.url("/hub"), server.url("/feed.xml"), item("urn:push:3", STORY * 3))
    assert hub.push(hub.subscriptions[0], body).status_code == 202

    # The process dies before its next round: a new service on the same store finds the push.
    config = svc.config.model_copy(update={"ops": OpsConfig(enabled=False)})
    restarted = Service(config, out=io.StringIO())
    schedule = restarted.store.schedule(server.url("/feed.xml"))  # no poll due: only the push brings it
    restarted.store.put_schedule(replace(schedule, next_poll=datetime.now(UTC) + timedelta(hours=1)))
    (pushed,) = restarted.ops.websub.drain()
    assert [e.id for e in pushed.entries] == ["urn:push:3"]
    restarted.round(fetcher)

    entry_id = hashlib.sha256(b"urn:push:3").hexdigest()[:16]
    assert restarted.store.is_seen(entry_id)
    assert restarted.store.counts()["articles"] == 1
    assert restarted.ops.websub.drain() == [], "a pushed entry is dropped from the inbox once seen"
