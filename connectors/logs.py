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
