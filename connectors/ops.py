"""The service's one small HTTP port: health, readiness, metrics, WebSub callbacks.

    GET  /healthz       200 while the service loop is alive (it beat within
                        ``stall_after`` seconds), else 503
    GET  /readyz        200 once the first round is done and the store answers,
                        503 while starting, draining or when the store fails
    GET  /metrics       Prometheus text format
    GET  /websub/<id>   a hub's verification of intent
    POST /websub/<id>   a hub's content distribution

Bound to 127.0.0.1 by default: put a reverse proxy (TLS) in front of it for
hubs to reach the callback. Request bodies need a Content-Length and are capped;
each connection has a socket timeout, so a slow client ties up one thread for
at most that long.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from connectors.metrics import Metrics
from connectors.websub import CALLBACK_PREFIX, WebSub

log = logging.getLogger(__name__)

Check = Callable[[], str | None]  # None: fine; else what is wrong


class OpsServer:
    def __init__(self, metrics: Metrics, live: Check, ready: Check, websub: WebSub | None = None,
                 host: str = "127.0.0.1", port: int = 9464, max_body: int = 5 * 1024 * 1024,
                 socket_timeout: float = 10.0) -> None:
        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = socket_timeout
            server_version = "newswatch"

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/healthz":
                    self._status(live())
                elif path == "/readyz":
                    self._status(ready())
                elif path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(metrics.registry))
                elif path.startswith(CALLBACK_PREFIX) and websub is not None:
                    status, body = websub.verify(path, query)
                    self._send(status, "text/plain; charset=utf-8", body)
                else:
                    self._send(404, "text/plain; charset=utf-8", b"not found\n")

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                if not (path.startswith(CALLBACK_PREFIX) and websub is not None):
                    self._send(404, "text/plain; charset=utf-8", b"not found\n")
                    return
                length = self.headers.get("Content-Length", "")
                if not length.isdigit():
                    self._send(411, "text/plain; charset=utf-8", b"Content-Length required\n")
                    return
                if int(length) > max_body:
                    self.close_connection = True  # the body is not read
                    self._send(413, "text/plain; charset=utf-8", b"body too large\n")
                    return
                body = self.rfile.read(int(length))
                headers = {k.lower(): v for k, v in self.headers.items()}
                self._send(websub.deliver(path, headers, body), "text/plain; charset=utf-8", b"")

            def _status(self, problem: str | None) -> None:
                body = {"status": "ok"} if problem is None else {"status": "fail", "reason": problem}
                self._send(200 if problem is None else 503, "application/json",
                           json.dumps(body).encode() + b"\n")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                log.debug("ops: %s " + format, self.address_string(), *args)

        server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
        self._httpd = server_class((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.2,),
                                        name="newswatch-ops", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"

    def start(self) -> OpsServer:
        self._thread.start()
        log.info("ops endpoint on %s", self.url)
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpsServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class _IPv6Server(ThreadingHTTPServer):
    """The ops port on an IPv6 address (``ops.host: "::1"``)."""

    address_family = socket.AF_INET6
