"""A careful HTTP fetcher for the open web.

One ``Fetcher`` wraps one ``httpx.Client`` (passed in, or created and owned by
the fetcher; there is no module-level pool). ``fetch(url)`` returns a frozen
``FetchResult`` or raises ``FetchError(url, reason)`` with a one-line reason.

What it enforces, and why:

- connect and read timeouts, plus a total deadline per fetch, because a server
  can trickle one byte per second forever without tripping a read timeout;
- a byte cap while streaming, on the bytes received and on the bytes after
  gzip/deflate decoding (a 10 KB gzip bomb can inflate to gigabytes);
- redirects followed by hand, at most ``max_redirects``, so every hop has its
  scheme and address checked;
- http and https only, TLS verification always on;
- no private, loopback, link-local, multicast, reserved or unspecified
  addresses (SSRF: a feed must not make us fetch ``169.254.169.254``). The host
  is resolved and every address checked before any request is sent; with the
  client the fetcher creates itself, the connection is then made to a vetted
  address by a guarded network backend, which closes the DNS-rebinding window
  between the check and the connect.

Lifecycle: ``Fetcher`` is a context manager; ``close()`` closes the client only
if the fetcher created it. One fetcher is meant for one thread.
"""

from __future__ import annotations

import codecs
import contextvars
import functools
import ipaddress
import logging
import re
import socket
import ssl
import time
import typing
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType

import httpcore
import httpx

log = logging.getLogger(__name__)

USER_AGENT = "newswatch/0.1 (news monitoring; +https://github.com/newswatch/newswatch)"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class FetchError(Exception):
    """A fetch that failed; ``reason`` is one short line for a ``Failure``."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class Expect:
    """The media types a caller can use; others are refused before the body is read.

    A response without a Content-Type passes: the caller sniffs the body.
    """

    label: str
    media_types: frozenset[str]


HTML_PAGE = Expect("an HTML page", frozenset({"text/html", "application/xhtml+xml"}))


@dataclass(frozen=True)
class FetchSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    # Tests and intranet deployments opt in to non-public addresses, either all
    # of them or only some networks ("127.0.0.0/8", "10.1.0.0/16").
    allow_private: bool = False
    allowed_networks: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"FetchSettings.{name} must be positive")
        if self.max_bytes <= 0 or self.max_redirects < 0:
            raise ValueError("FetchSettings.max_bytes must be positive, max_redirects >= 0")
        nets = tuple(ipaddress.ip_network(n, strict=False) for n in self.allowed_networks)
        object.__setattr__(self, "networks", nets)


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    content_type: str | None  # media type only, lower case: "text/html"
    charset: str | None  # from the Content-Type header, if any
    etag: str | None
    last_modified: str | None
    body: bytes
    fetched_at: datetime

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def text(self) -> str:
        return decode_text(self.body, self.charset)


# --- charset -----------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.IGNORECASE)
# What browsers do (WHATWG Encoding): these labels mean windows-1252.
_AS_CP1252 = frozenset({"latin-1", "latin1", "iso-8859-1", "iso8859-1", "l1", "ascii",
                        "us-ascii", "iso_8859-1", "cp819", "windows-1252", "cp1252"})


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        log.debug("unknown charset label %s", label)
        return None


def decode_text(body: bytes, charset: str | None = None) -> str:
    """Decode a web document: BOM, then the header's charset, then a
    ``<meta charset>`` or XML declaration, then UTF-8, then windows-1252.

    The BOM wins over the header, as in browsers: it is in the bytes themselves.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    codec = _codec(charset)
    if codec is None:
        match = _META_CHARSET.search(body[:4096])
        if match:
            codec = _codec((match.group(1) or match.group(2)).decode("ascii"))
    if codec is not None:
        return body.decode(codec, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


# --- address guard -----------------------------------------------------------

_KINDS = (("is_unspecified", "an unspecified"), ("is_loopback", "a loopback"),
          ("is_link_local", "a link-local"), ("is_multicast", "a multicast"),
          ("is_private", "a private"), ("is_reserved", "a reserved"))


class AddressRefused(Exception):
    """Raised by the guard; the message is the reason."""


def address_problem(ip: IPAddress, settings: FetchSettings) -> str | None:
    """Why we must not connect to ``ip``, or None if we may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if any(ip in net for net in settings.networks) or settings.allow_private:
        return None
    # The categories first: ``is_global`` is True for multicast 224.0.0.1.
    for attr, kind in _KINDS:
        if getattr(ip, attr):
            return f"{ip} is {kind} address"
    return None if ip.is_global else f"{ip} is not a public address"


def vetted_addresses(host: str, port: int, settings: FetchSettings) -> list[str]:
    """Resolve ``host`` and return its addresses if every one of them is allowed.

    All must pass, not one: with a mixed answer, which address the connection
    uses is up to the resolver order, and an attacker controls that order.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"cannot resolve {host}: {exc}") from exc
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        problem = address_problem(ip, settings)
        if problem:
            raise AddressRefused(f"refused: {problem}")
        if str(sockaddr[0]) not in addresses:
            addresses.append(str(sockaddr[0]))
    if not addresses:
        raise AddressRefused(f"cannot resolve {host}: no addresses")
    return addresses


# The deadline of the fetch running in this thread, read by the guarded streams
# so that a trickling server is cut off even while headers are being read.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "newswatch_fetch_deadline", default=None)


def _time_left(timeout: float | None) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("total deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _time_left(timeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses that pass the guard, resolved here, at connect time."""

    def __init__(self, settings: FetchSettings) -> None:
        self._settings = settings
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: typing.Iterable[typing.Any] | None = None,
                    ) -> httpcore.NetworkStream:
        addresses = vetted_addresses(host, port, self._settings)
        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(address, port, _time_left(timeout),
                                                 local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: typing.Iterable[typing.Any] | None = None,
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, settings: FetchSettings) -> None:
        super().__init__(verify=True, trust_env=False)
        # httpx does not take a network backend; swap the pool it built for one
        # that uses ours. httpx is pinned <0.29 in pyproject, and
        # test_http.py::test_dns_rebinding_is_caught_at_connect proves this holds.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=True, trust_env=False),
            max_connections=20, max_keepalive_connections=10, keepalive_expiry=5.0,
            network_backend=_GuardedBackend(settings))


# --- body --------------------------------------------------------------------

class _Inflater:
    """Content-Encoding decoder that never produces more than ``limit`` bytes."""

    def __init__(self, encoding: str) -> None:
        self._raw_deflate = False
        if encoding in ("gzip", "x-gzip"):
            self._d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        else:  # deflate: zlib-wrapped by the spec, raw by some servers
            self._d = zlib.decompressobj(zlib.MAX_WBITS)
        self._encoding = encoding
        self._started = False

    def feed(self, data: bytes, limit: int) -> bytes | None:
        """Decoded bytes, or None once the output would exceed ``limit``."""
        try:
            out = self._d.decompress(data, limit + 1)
        except zlib.error:
            if self._encoding != "deflate" or self._started:
                raise
            self._d = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._d.decompress(data, limit + 1)
        self._started = True
        return None if len(out) > limit else out


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"


def _media_type(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    media, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'") or None
    return media.strip().lower() or None, charset


class Fetcher:
    """Fetches one URL at a time under ``FetchSettings``; see the module docstring."""

    def __init__(self, settings: FetchSettings | None = None,
                 client: httpx.Client | None = None) -> None:
        self.settings = settings or FetchSettings()
        self._owns_client = client is None
        if client is None:
            s = self.settings
            client = httpx.Client(
                transport=_GuardedTransport(s),
                follow_redirects=False,
                trust_env=False,  # an env proxy would bypass the address guard
                timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
            )
        self._client = client

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def fetch(self, url: str, *, if_none_match: str | None = None,
              if_modified_since: str | None = None, expect: Expect | None = None,
              ) -> FetchResult:
        """GET ``url``; raise ``FetchError`` for anything but a usable response.

        A 304 answer to a conditional GET returns a result with
        ``not_modified`` set and an empty body.
        """
        s = self.settings
        deadline = time.monotonic() + s.total_timeout
        token = _deadline.set(deadline)
        try:
            return self._fetch(url, deadline, if_none_match, if_modified_since, expect)
        except httpx.TimeoutException as exc:
            if time.monotonic() >= deadline - 0.05:
                raise FetchError(url, f"timed out after {s.total_timeout:g}s") from exc
            limit = s.connect_timeout if isinstance(exc, httpx.ConnectTimeout) else s.read_timeout
            raise FetchError(url, f"timed out after {limit:g}s") from exc
        except httpx.HTTPError as exc:
            raise FetchError(url, _one_line(f"{type(exc).__name__}: {exc}")) from exc
        except AddressRefused as exc:
            raise FetchError(url, str(exc)) from exc
        except ssl.SSLError as exc:
            raise FetchError(url, _one_line(f"TLS error: {exc}")) from exc
        finally:
            _deadline.reset(token)

    def post_form(self, url: str, form: dict[str, str]) -> int:
        """POST a form and return the status code (a WebSub subscription request).

        The same scheme and address checks and total deadline as ``fetch``;
        redirects are not followed and the response body is not read.
        """
        s = self.settings
        token = _deadline.set(time.monotonic() + s.total_timeout)
        try:
            target = self._check_url(url, url)
            with self._client.stream("POST", target, data=form,
                                     headers={"User-Agent": s.user_agent}) as response:
                return response.status_code
        except httpx.TimeoutException as exc:
            raise FetchError(url, f"timed out after {s.total_timeout:g}s") from exc
        except httpx.HTTPError as exc:
            raise FetchError(url, _one_line(f"{type(exc).__name__}: {exc}")) from exc
        except AddressRefused as exc:
            raise FetchError(url, str(exc)) from exc
        finally:
            _deadline.reset(token)

    def _fetch(self, url: str, deadline: float, if_none_match: str | None,
               if_modified_since: str | None, expect: Expect | None) -> FetchResult:
        s = self.settings
        accept = "*/*" if expect is None else ", ".join(sorted(expect.media_types)) + ", */*;q=0.1"
        # Only encodings _Inflater can bound; httpx would add br/zstd if installed.
        headers = {"User-Agent": s.user_agent, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
        if if_none_match:
            headers["If-None-Match"] = if_none_match
        if if_modified_since:
            headers["If-Modified-Since"] = if_modified_since
        current = url
        seen = {url}
        for hop in range(s.max_redirects + 1):
            target = self._check_url(url, current)
            left = deadline - time.monotonic()
            if left <= 0:
                raise FetchError(url, f"timed out after {s.total_timeout:g}s")
            timeout = httpx.Timeout(min(s.read_timeout, left), connect=min(s.connect_timeout, left))
            request = self._client.build_request("GET", target, headers=headers, timeout=timeout)
            log.debug("GET %s (hop %s)", target, hop)
            response = self._client.send(request, stream=True)
            try:
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(url, f"HTTP {response.status_code} without Location")
                    current = str(target.join(location))
                    if current in seen:
                        raise FetchError(url, "redirect loop")
                    seen.add(current)
                    continue
                return self._read(url, target, response, deadline, expect)
            finally:
                response.close()
        raise FetchError(url, f"too many redirects ({s.max_redirects})")

    def _check_url(self, url: str, current: str) -> httpx.URL:
        try:
            target = httpx.URL(current)
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"invalid URL: {exc}") from exc
        if target.scheme not in ("http", "https"):
            raise FetchError(url, f"unsupported scheme: {target.scheme or '(none)'}")
        if not target.host:
            raise FetchError(url, "invalid URL: no host")
        port = target.port or (443 if target.scheme == "https" else 80)
        # Before any request: with a client passed in this is the only check.
        vetted_addresses(target.host, port, self.settings)
        return target

    def _read(self, url: str, target: httpx.URL, response: httpx.Response, deadline: float,
              expect: Expect | None) -> FetchResult:
        s = self.settings
        status = response.status_code
        media, charset = _media_type(response.headers.get("content-type"))
        result = functools.partial(
            FetchResult, url=url, final_url=str(target), status=status, content_type=media,
            charset=charset, etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"), fetched_at=datetime.now(UTC))
        if status == 304:
            return result(body=b"")
        if not 200 <= status < 300:
            raise FetchError(url, f"HTTP {status}")
        if expect is not None and media is not None and media not in expect.media_types:
            raise FetchError(url, f"not {expect.label}: {media}")
        too_large = FetchError(url, f"response larger than {_size(s.max_bytes)}")
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > s.max_bytes:
            raise too_large
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
            raise FetchError(url, f"unsupported content encoding: {encoding}")
        inflater = _Inflater(encoding) if encoding not in ("identity", "") else None
        chunks: list[bytes] = []
        received = size = 0
        for raw in response.iter_raw():
            # Checked per chunk for clients we did not build; ours also cut
            # off a stalled read inside the stream (_DeadlineStream).
            if time.monotonic() > deadline:
                raise FetchError(url, f"timed out after {s.total_timeout:g}s")
            received += len(raw)
            if received > s.max_bytes:
                raise too_large
            if inflater is None:
                chunk: bytes | None = raw
            else:
                try:
                    chunk = inflater.feed(raw, s.max_bytes - size)
                except zlib.error as exc:
                    raise FetchError(url, f"bad {encoding} data: {exc}") from exc
            if chunk is None:
                raise too_large
            size += len(chunk)
            if size > s.max_bytes:
                raise too_large
            chunks.append(chunk)
        return result(body=b"".join(chunks))


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
