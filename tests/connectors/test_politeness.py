"""Per-host limits and robots.txt, against a real local HTTP server."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from connectors.http import Fetcher
from connectors.politeness import HostLimiter, RobotsCache
from tests.connectors.conftest import LOCAL
from tests.fixtures.http_server import respond

TEXT = {"Content-Type": "text/plain"}


def counting_route(state, hold=0.2):
    """A page that records how many requests it is serving at once."""
    def route(handler):
        with state["lock"]:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(hold)
        with state["lock"]:
            state["now"] -= 1
        respond(handler, 200, {"Content-Type": "text/html"}, b"<p>ok</p>")
    return route


def fetch_all(server, limiter, urls):
    def one(url):
        with limiter.slot(url), Fetcher(LOCAL) as f:
            return f.fetch(url).status
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, urls))


def test_at_most_per_host_requests_run_at_once_on_one_host(server):
    state = {"lock": threading.Lock(), "now": 0, "peak": 0}
    server.routes["/p"] = counting_route(state)
    statuses = fetch_all(server, HostLimiter(per_host=2, delay=0), [server.url("/p")] * 8)
    assert statuses == [200] * 8
    assert state["peak"] == 2


def starts(limiter, url, n):
    times = []

    def stamp(_):
        with limiter.slot(url):
            times.append(time.monotonic())
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(stamp, range(n)))
    times.sort()
    return [b - a for a, b in zip(times, times[1:])]


def test_request_starts_to_one_host_are_spaced_by_the_delay():
    gaps = starts(HostLimiter(per_host=4, delay=0.15), "http://example.org/x", 4)
    assert all(gap >= 0.14 for gap in gaps), gaps


def test_hosts_do_not_wait_for_each_other():
    limiter = HostLimiter(per_host=1, delay=5.0)
    with limiter.slot("http://a.example/1"):
        pass
    started = time.monotonic()
    with limiter.slot("http://b.example/1"):
        pass
    assert time.monotonic() - started < 0.5


def test_a_stop_cuts_the_wait_short():
    stop = threading.Event()
    limiter = HostLimiter(per_host=1, delay=30.0, stop=stop)
    with limiter.slot("http://a.example/1"):
        pass
    stop.set()
    started = time.monotonic()
    with limiter.slot("http://a.example/2"):
        pass
    assert time.monotonic() - started < 1


def robots(server, body, status=200):
    server.routes["/robots.txt"] = (status, TEXT, body.encode())
    fetcher = Fetcher(LOCAL)
    return RobotsCache(lambda: fetcher, ttl=60, error_ttl=60), fetcher


def test_pages_disallowed_by_robots_txt_are_refused_and_others_allowed(server):
    cache, fetcher = robots(server, "User-agent: *\nDisallow: /private/\n\n"
                                    "User-agent: newswatch\nDisallow: /no-bots/\n")
    with fetcher:
        assert cache.check(server.url("/no-bots/a.html")) == "disallowed by robots.txt"
        assert cache.check(server.url("/news/a.html")) is None
        assert cache.check(server.url("/private/a.html")) is None  # our own group wins


def test_robots_txt_is_fetched_once_per_host_while_cached(server):
    cache, fetcher = robots(server, "User-agent: *\nDisallow: /x\n")
    with fetcher:
        for i in range(5):
            cache.check(server.url(f"/news/{i}.html"))
    assert sum(r.path == "/robots.txt" for r in server.requests) == 1


def test_a_missing_robots_txt_allows_everything(server):
    cache, fetcher = robots(server, "gone", status=404)
    with fetcher:
        assert cache.check(server.url("/anything")) is None


def test_a_failing_robots_txt_disallows_everything_for_a_while(server):
    cache, fetcher = robots(server, "oops", status=503)
    with fetcher:
        assert cache.check(server.url("/news/a.html")) == "robots.txt unreachable: HTTP 503"


def test_crawl_delay_spaces_requests_to_that_host(server):
    server.routes["/robots.txt"] = (200, TEXT, b"User-agent: *\nCrawl-delay: 1\n")
    limiter = HostLimiter(per_host=2, delay=0.0)
    with Fetcher(LOCAL) as fetcher:
        RobotsCache(lambda: fetcher, limiter=limiter).check(server.url("/a"))
    assert all(gap >= 0.95 for gap in starts(limiter, server.url("/a"), 2))
    assert all(gap < 0.5 for gap in starts(limiter, "http://other.example/a", 2))
