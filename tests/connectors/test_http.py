"""connectors.http against a real server on 127.0.0.1."""

from __future__ import annotations

import gzip
import ipaddress
import select
import socket
import time
from http.server import BaseHTTPRequestHandler

import pytest

from connectors.http import HTML_PAGE, FetchError, Fetcher, FetchSettings, address_problem, \
    decode_text
from tests.connectors.conftest import LOCAL
from tests.fixtures.http_server import respond

HTML = {"Content-Type": "text/html; charset=utf-8"}


def reason(fetcher: Fetcher, url: str, **kw: object) -> str:
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url, **kw)  # type: ignore[arg-type]
    assert info.value.url == url
    assert "\n" not in info.value.reason
    return info.value.reason


def test_fetch_returns_body_validators_and_sends_our_user_agent(server, fetcher):
    server.routes["/page"] = (200, {**HTML, "ETag": '"v1"', "Last-Modified": "Sat, 12 Aug 2017 07:30:00 GMT"},
                              "<p>Grüße</p>".encode())
    result = fetcher.fetch(server.url("/page"))
    assert (result.status, result.content_type, result.charset) == (200, "text/html", "utf-8")
    assert (result.etag, result.last_modified) == ('"v1"', "Sat, 12 Aug 2017 07:30:00 GMT")
    assert result.text == "<p>Grüße</p>" and not result.not_modified
    assert result.fetched_at.tzinfo is not None
    assert "newswatch" in server.requests[0].headers["User-Agent"]
    assert server.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_conditional_get_answered_304_is_flagged_not_modified(server, fetcher):
    def conditional(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            respond(h, 304, {"ETag": '"v1"'}, b"")
        else:
            respond(h, 200, {**HTML, "ETag": '"v1"'}, b"<p>x</p>")

    server.routes["/feed"] = conditional
    first = fetcher.fetch(server.url("/feed"))
    again = fetcher.fetch(server.url("/feed"), if_none_match=first.etag,
                          if_modified_since="Sat, 12 Aug 2017 07:30:00 GMT")
    assert not first.not_modified and first.body == b"<p>x</p>"
    assert again.not_modified and again.body == b"" and again.etag == '"v1"'
    assert server.requests[1].headers["If-Modified-Since"] == "Sat, 12 Aug 2017 07:30:00 GMT"


def test_http_error_status(server, fetcher):
    assert reason(fetcher, server.url("/missing")) == "HTTP 404"


def test_redirects_are_followed_hop_by_hop(server, fetcher):
    server.routes["/old"] = (301, {"Location": "/moved"}, b"")
    server.routes["/moved"] = (302, {"Location": server.url("/page")}, b"")
    server.routes["/page"] = (200, HTML, b"<p>here</p>")
    result = fetcher.fetch(server.url("/old"))
    assert result.url == server.url("/old") and result.final_url == server.url("/page")
    assert [r.path for r in server.requests] == ["/old", "/moved", "/page"]


def test_redirect_loop(server, fetcher):
    server.routes["/a"] = (302, {"Location": "/b"}, b"")
    server.routes["/b"] = (302, {"Location": "/a"}, b"")
    assert reason(fetcher, server.url("/a")) == "redirect loop"
    assert len(server.requests) == 2


def test_too_many_redirects(server, fetcher):
    for n in range(10):
        server.routes[f"/r{n}"] = (302, {"Location": f"/r{n + 1}"}, b"")
    assert reason(fetcher, server.url("/r0")) == "too many redirects (5)"
    assert len(server.requests) == 6  # the first request and five hops


@pytest.mark.parametrize(("location", "expected"), [
    ("http://10.0.0.1/admin", "refused: 10.0.0.1 is a private address"),
    ("http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local address"),
    ("file:///etc/passwd", "unsupported scheme: file"),
])
def test_every_redirect_hop_is_checked(server, fetcher, location, expected):
    server.routes["/go"] = (302, {"Location": location}, b"")
    assert reason(fetcher, server.url("/go")) == expected


def test_declared_size_over_the_cap_is_refused(server):
    server.routes["/big"] = (200, HTML, b"x" * 100_000)
    with Fetcher(FetchSettings(allowed_networks=("127.0.0.0/8",), max_bytes=64 * 1024)) as f:
        assert reason(f, server.url("/big")) == "response larger than 64 KB"


def test_streamed_size_over_the_cap_is_aborted(server):
    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Connection", "close")  # no Content-Length: read until close
        h.end_headers()
        h.close_connection = True
        for _ in range(200):
            h.wfile.write(b"x" * 16384)

    server.routes["/stream"] = endless
    with Fetcher(FetchSettings(allowed_networks=("127.0.0.0/8",), max_bytes=64 * 1024)) as f:
        assert reason(f, server.url("/stream")) == "response larger than 64 KB"


def test_gzip_bomb_is_stopped_at_the_decompressed_cap(server):
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100 * 1024
    server.routes["/bomb"] = (200, {**HTML, "Content-Encoding": "gzip"}, bomb)
    with Fetcher(FetchSettings(allowed_networks=("127.0.0.0/8",), max_bytes=1024 * 1024)) as f:
        assert reason(f, server.url("/bomb")) == "response larger than 1 MB"


def test_gzip_and_deflate_bodies_are_decoded(server, fetcher):
    import zlib
    server.routes["/gz"] = (200, {**HTML, "Content-Encoding": "gzip"}, gzip.compress(b"<p>gz</p>"))
    server.routes["/zl"] = (200, {**HTML, "Content-Encoding": "deflate"}, zlib.compress(b"<p>zl</p>"))
    assert fetcher.fetch(server.url("/gz")).body == b"<p>gz</p>"
    assert fetcher.fetch(server.url("/zl")).body == b"<p>zl</p>"


def _trickle(h: BaseHTTPRequestHandler, head: bytes, body: bytes) -> None:
    for data in (head, body):
        for i in range(len(data)):
            h.wfile.write(data[i:i + 1])
            h.wfile.flush()
            time.sleep(0.05)


@pytest.mark.parametrize("phase", ["body", "headers"])
def test_trickling_server_hits_the_total_deadline(server, phase):
    body = b"<p>" + b"x" * 200 + b"</p>"
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + b"p" * 100
            + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    server.routes["/slow"] = lambda h: (_trickle(h, head, body) if phase == "headers"
                                        else (h.wfile.write(head), _trickle(h, b"", body)))
    settings = FetchSettings(allowed_networks=("127.0.0.0/8",), read_timeout=0.5, total_timeout=1.0)
    with Fetcher(settings) as f:
        started = time.monotonic()
        assert reason(f, server.url("/slow")) == "timed out after 1s"
        assert time.monotonic() - started < 1.5  # each byte came within the read timeout


def test_unexpected_content_type_is_refused_before_the_body(server, fetcher):
    server.routes["/img"] = (200, {"Content-Type": "image/png"}, b"\x89PNG" + b"\0" * 100)
    assert reason(fetcher, server.url("/img"), expect=HTML_PAGE) == "not an HTML page: image/png"


def test_latin1_page_without_charset_is_decoded_as_windows_1252(server, fetcher):
    page = "<p>Café “Le Sukhna” – 15 €</p>".encode("cp1252")
    server.routes["/none"] = (200, {"Content-Type": "text/html"}, page)
    server.routes["/wrong"] = (200, {"Content-Type": "text/html; charset=ISO-8859-1"}, page)
    assert fetcher.fetch(server.url("/none")).text == "<p>Café “Le Sukhna” – 15 €</p>"
    assert fetcher.fetch(server.url("/wrong")).text == "<p>Café “Le Sukhna” – 15 €</p>"


def test_charset_sniffing_order():
    assert decode_text('<meta charset="windows-1251"><p>Хомс</p>'.encode("cp1251")).endswith("Хомс</p>")
    assert decode_text("\ufeffHoms".encode("utf-8"), "cp1252") == "Homs"  # BOM beats header
    assert decode_text("Homs é".encode("utf-8")) == "Homs é"
    assert decode_text(b"caf\xe9", "no-such-charset") == "café"


def test_unsupported_scheme_is_refused(fetcher):
    assert reason(fetcher, "ftp://127.0.0.1/feed.xml") == "unsupported scheme: ftp"


class ConnectSpy:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[object] = []
        real_connect = socket.socket.connect

        def connect(sock: socket.socket, address: object) -> None:
            self.calls.append(address)
            real_connect(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.mark.parametrize(("host", "expected"), [
    ("10.0.0.1", "refused: 10.0.0.1 is a private address"),
    ("169.254.169.254", "refused: 169.254.169.254 is a link-local address"),
    ("0.0.0.0", "refused: 0.0.0.0 is an unspecified address"),
    ("[::1]", "refused: ::1 is a loopback address"),
    ("224.0.0.1", "refused: 224.0.0.1 is a multicast address"),
])
def test_non_public_addresses_are_refused_before_any_connection(monkeypatch, host, expected):
    spy = ConnectSpy(monkeypatch)
    with Fetcher() as f:
        assert reason(f, f"http://{host}/latest/meta-data/") == expected
    assert spy.calls == []


def test_loopback_is_refused_by_default_and_the_server_sees_nothing():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        with Fetcher() as f:
            assert reason(f, url) == "refused: 127.0.0.1 is a loopback address"
        assert select.select([listener], [], [], 0.2)[0] == []  # no connection to accept
    finally:
        listener.close()


def test_a_name_resolving_to_any_private_address_is_refused(monkeypatch):
    spy = ConnectSpy(monkeypatch)
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80)),
               (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 80))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: answers)
    with Fetcher() as f:
        assert reason(f, "http://intranet.example/") == "refused: 10.1.2.3 is a private address"
    assert spy.calls == []


def test_dns_rebinding_is_caught_at_connect(monkeypatch, server):
    """The name passes the check, then resolves elsewhere when connecting."""
    server.routes["/"] = (200, HTML, b"<p>x</p>")
    answers = iter([[(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port))],
                    [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", server.port))]])
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: next(answers))
    with Fetcher(LOCAL) as f:
        assert reason(f, f"http://rebind.example:{server.port}/") == \
            "refused: 10.0.0.1 is a private address"
    assert server.requests == []


def test_allowlist_and_mapped_addresses():
    settings = FetchSettings(allowed_networks=("10.1.0.0/16",))
    assert address_problem(ipaddress.ip_address("10.1.2.3"), settings) is None
    assert address_problem(ipaddress.ip_address("10.2.0.1"), settings) == "10.2.0.1 is a private address"
    assert address_problem(ipaddress.ip_address("::ffff:10.2.0.1"), settings) == \
        "10.2.0.1 is a private address"
    assert address_problem(ipaddress.ip_address("100.64.0.1"), settings) == \
        "100.64.0.1 is not a public address"
    assert address_problem(ipaddress.ip_address("93.184.215.14"), settings) is None
    assert address_problem(ipaddress.ip_address("10.2.0.1"), FetchSettings(allow_private=True)) is None


def test_a_client_passed_in_is_used_and_not_closed(server):
    import httpx
    server.routes["/page"] = (200, HTML, b"<p>x</p>")
    with httpx.Client() as client:
        with Fetcher(LOCAL, client=client) as f:
            assert f.fetch(server.url("/page")).body == b"<p>x</p>"
        assert not client.is_closed
        with Fetcher(FetchSettings(), client=client) as f:  # the pre-flight check still applies
            assert reason(f, server.url("/page")) == "refused: 127.0.0.1 is a loopback address"


def test_server_that_sends_nothing_hits_the_read_timeout(server):
    server.routes["/hang"] = lambda h: time.sleep(1.5)
    settings = FetchSettings(allowed_networks=("127.0.0.0/8",), read_timeout=0.3, total_timeout=5)
    with Fetcher(settings) as f:
        assert reason(f, server.url("/hang")) == "timed out after 0.3s"


def test_connection_refused_is_a_fetch_error():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with Fetcher(LOCAL) as f:
        assert reason(f, f"http://127.0.0.1:{port}/").startswith("ConnectError")
