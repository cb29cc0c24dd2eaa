"""Log set-up for the always-on service: one JSON object per line on stderr.

The library modules only call ``logging.getLogger(__name__)``; the application
(``newswatch run``) calls ``configure_logging`` once. Fields: ``time`` (UTC, ISO
8601), ``level``, ``logger``, ``message``, plus any ``extra={...}`` given.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Literal, TextIO

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["json", "text"]


def configure_logging(fmt: LogFormat = "json", level: int = logging.INFO,
                      stream: TextIO | None = None) -> logging.Handler:
    """Replace the root logger's handlers with one writing ``fmt`` to ``stream``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(
            "{asctime}{levelname}{name}{message}", style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]  # UTC, as the offset says
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


# Client libraries that log every request (httpx at INFO) or every reconnect
# attempt with a traceback (kafka-python at ERROR, elastic_transport at
# WARNING). newswatch logs one line of its own when a server goes away and
# when it is back (connectors/outage.py, connectors/kafka_source.py), so by
# default only their worst is let through; ``-v`` shows everything.
CHATTY = {"kafka": logging.CRITICAL, "elastic_transport": logging.ERROR, "httpx": logging.WARNING,
          "apache_beam": logging.WARNING}


def quiet_clients(verbose: bool = False) -> None:
    for name, level in CHATTY.items():
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else level)
