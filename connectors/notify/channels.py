"""Channel plugins by name: ``type: email`` → EmailChannel, ``type: slack`` → SlackChannel.

A channel builds its message from an alert (a pure function in its module)
and sends it; ``send`` raises ``DeliveryError`` when the channel did not
accept it, and the notifier retries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from schemas import Alert


class DeliveryError(RuntimeError):
    """The channel did not take the message; ``retry_after`` is the channel's
    own hint (Slack's Retry-After), in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...

    def send_digest(self, alerts: Sequence[Alert], start: datetime, end: datetime) -> None: ...


CHANNEL_TYPES: dict[str, Callable[..., Any]] = {}


def register(kind: str) -> Callable[[type], type]:
    def add(cls: type) -> type:
        if kind in CHANNEL_TYPES:
            raise RuntimeError(f"channel type {kind!r} registered twice")
        CHANNEL_TYPES[kind] = cls
        return cls
    return add


def build_channels(config: Any, environ: Mapping[str, str] | None = None) -> dict[str, Channel]:
    """Channel objects for ``NotifyConfig.channels``, secrets read from the environment."""
    # Importing the modules registers their classes.
    from connectors.notify import email, slack  # noqa: F401
    return {name: CHANNEL_TYPES[cfg.type](name, cfg, map_url=config.map_url, environ=environ)
            for name, cfg in config.channels.items()}
