"""A Slack incoming-webhook stand-in on 127.0.0.1, for the delivery tests and for the
benchmark's fetch-to-Slack latency (``bench/streaming.py``)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """A Slack incoming-webhook stand-in: records every POST body; answers
    ``status`` (200 "ok" when up)."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.times: list[float] = []  # time.time() each accepted body arrived (bench/streaming.py)
        self.paths: list[str] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                # Headers and body go out in two writes: without this the client waits
                # for a delayed ACK (40 ms) on each reply, which Slack's servers do not make.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.status
                if status == 200:
                    receiver.times.append(time.time())
                    receiver.bodies.append(json.loads(body))
                    receiver.paths.append(self.path)
                reply = b"ok" if status == 200 else b"service_unavailable"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str = "/services/T000/B000/XXXXSECRETXXXX") -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
