"""A corpus of broken and hostile feeds and pages on a real local HTTP server.

The service polls all of it in one round: each bad item is reported with its
own one-line reason (log line and ``newswatch_fetch_errors_total{kind}``), the
good article among them is stored, and the next round runs as usual.
"""

import gzip
import html
import io
import logging
import time

import pytest
from prometheus_client import generate_latest

from connectors.service import FeedConfig, Service, ServiceConfig
from connectors.service_settings import FetchConfig, OpsConfig, PolitenessConfig
from tests.connectors.pages import article_page, seeds

pytestmark = pytest.mark.faults

RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
          b"<rss version='2.0'><channel><title>&lol3;</title></channel></rss>")
CP1252_PAGE = ("<html><head><meta charset='windows-1252'><title>Caf\xe9 attack in Idlib</title></head>"
               "<body><article><h1>Caf\xe9 attack in Idlib</h1>"
               + "<p>Witnesses said the caf\xe9 was hit at noon \u2019 and that rescuers worked "
                 "through the night to reach people under the rubble of the building.</p>" * 4
               + "</article></body></html>").encode("cp1252")


def trickle(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    for _ in range(100):
        handler.wfile.write(b"<")
        handler.wfile.flush()
        time.sleep(0.2)


def redirect_to(path):
    return (302, {"Location": path, "Content-Type": "text/plain"}, b"")


def feed_of(server, links):
    items = "".join(f"<item><guid>urn:hostile:{name}</guid><title>{name}</title>"
                    f"<link>{html.escape(url)}</link><description>x</description></item>"
                    for name, url in links.items())
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Hostile</title>{items}"
            "</channel></rss>").encode()


@pytest.fixture
def corpus(server):
    seed = seeds()[0]
    good = article_page(seed, site="Middle East Eye", published="2017-08-10T12:00:00+00:00")
    server.routes.update({
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
        "/feeds/malformed.xml": (200, RSS, b"<?xml version='1.0'?><rss version='2.0'><channel>"
                                           b"<title>a &amp b</title><<<>>></channel></rss>"),
        "/feeds/laughs.xml": (200, RSS, LAUGHS),
        "/feeds/loop-a.xml": redirect_to("/feeds/loop-b.xml"),
        "/feeds/loop-b.xml": redirect_to("/feeds/loop-a.xml"),
        "/feeds/trickle.xml": trickle,
        "/feeds/bomb.xml": (200, {**RSS, "Content-Encoding": "gzip"},
                            gzip.compress(b"<rss>" + b" " * 20_000_000, compresslevel=9)),
        "/feeds/not-a-feed.xml": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n"),
        "/pages/good.html": (200, HTML, good.encode()),
        "/pages/cp1252.html": (200, {"Content-Type": "text/html"}, CP1252_PAGE),
        "/pages/big.html": (200, HTML, b"<html><body>" + b"<p>filler</p>" * 200_000),
        "/pages/image.png": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n"),
        "/pages/trickle.html": trickle,
        "/pages/loop.html": redirect_to("/pages/loop.html"),
        "/private/secret.html": (200, HTML, good.encode()),
        "/pages/empty.html": (200, HTML, b"<html><body><nav>Home</nav></body></html>"),
    })
    port = server.port
    server.routes["/feeds/links.xml"] = (200, RSS, feed_of(server, {
        "good": server.url("/pages/good.html"),
        "cp1252": server.url("/pages/cp1252.html"),
        "big": server.url("/pages/big.html"),
        "image": server.url("/pages/image.png"),
        "trickle": server.url("/pages/trickle.html"),
        "loop": server.url("/pages/loop.html"),
        "robots": server.url("/private/secret.html"),
        "empty": server.url("/pages/empty.html"),
        "gone": server.url("/pages/gone.html"),
        "private": "http://10.20.30.40/news.html",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "loopback6": f"http://[::1]:{port}/pages/good.html",
        "file": "file:///etc/passwd",
    }))
    return server


def test_every_hostile_item_is_reported_and_the_service_keeps_going(corpus, tmp_path, caplog):
    names = ["malformed", "laughs", "loop-a", "trickle", "bomb", "not-a-feed", "links"]
    config = ServiceConfig(
        feeds=tuple(FeedConfig(url=corpus.url(f"/feeds/{n}.xml")) for n in names),
        interval_seconds=0.1, store=tmp_path / "nw.db", out_dir=tmp_path / "out",
        allowed_networks=("127.0.0.0/8",), ops=OpsConfig(enabled=False),
        politeness=PolitenessConfig(host_delay_seconds=0, per_host=8),  # one host serves it all
        fetch=FetchConfig(read_timeout_seconds=1, total_timeout_seconds=1.5, max_bytes=1024 * 1024))
    svc = Service(config, out=io.StringIO())
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    svc.run(once=True)
    assert time.monotonic() - started < 60

    feeds, pages = corpus.url("/feeds/"), corpus.url("/pages/")
    expected = {
        f"{feeds}malformed.xml: parse: malformed feed",
        f"{feeds}laughs.xml: parse: refused: document declares XML entities",
        f"{feeds}loop-a.xml: fetch: redirect loop",
        f"{feeds}trickle.xml: fetch: timed out after 1.5s",
        f"{feeds}bomb.xml: fetch: response larger than 1 MB",
        f"{feeds}not-a-feed.xml: fetch: not a feed or HTML page: image/png",
        f"{pages}big.html: fetch: response larger than 1 MB",
        f"{pages}image.png: fetch: not an HTML page: image/png",
        f"{pages}trickle.html: fetch: timed out after 1.5s",
        f"{pages}loop.html: fetch: redirect loop",
        f"{pages}empty.html: extract: no article text found",
        f"{pages}gone.html: fetch: HTTP 404",
        f"{corpus.url('/private/secret.html')}: fetch: disallowed by robots.txt",
        "http://10.20.30.40/news.html: fetch: refused: 10.20.30.40 is a private address",
        "http://169.254.169.254/latest/meta-data/: fetch: refused: 169.254.169.254 is a "
        "link-local address",
        f"http://[::1]:{corpus.port}/pages/good.html: fetch: refused: ::1 is a loopback address",
        "file://",  # feedparser drops a slash: file://etc/passwd
    }
    logged = [r.getMessage() for r in caplog.records]
    missing = [line for line in expected if not any(m.startswith(line) for m in logged)]
    assert any(m.endswith(": fetch: unsupported scheme: file") for m in logged)
    assert not missing, "\n".join(logged)

    # The good pages among them were stored, the one without a charset header decoded right.
    assert svc.store.counts()["articles"] == 2
    [cafe] = svc.store.search("rescuers")
    assert "the café was hit at noon ’ and" in cafe.article.text

    metrics = generate_latest(svc.ops.metrics.registry).decode()
    for kind in ("timeout", "too_large", "redirect", "content_type", "address_refused", "robots",
                 "http_4xx", "bad_url", "parse", "extract"):
        assert f'newswatch_fetch_errors_total{{kind="{kind}"' in metrics, kind

    # Every broken feed is remembered as failing once, with its reason; the next round runs.
    state = svc.store.feed_state(f"{feeds}laughs.xml")
    assert (state.consecutive_failures, state.last_error) == (
        1, "refused: document declares XML entities")
    time.sleep(0.3)
    svc.run(once=True)
    assert svc.store.feed_state(f"{feeds}laughs.xml").consecutive_failures == 2
