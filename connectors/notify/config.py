"""Notification settings: the ``notify:`` section of the service config.

Secrets (the SMTP password, the Slack webhook URL, which is itself a
credential) come from the config file or, preferably, from environment
variables; they are held as ``SecretStr`` so no repr or log line shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

DigestPeriod = Literal["hourly", "daily"]
DIGEST_SECONDS: dict[str, int] = {"hourly": 3600, "daily": 86400}
OSM_MAP_URL = "https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=10/{lat}/{lon}"


class _Channel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    digest: DigestPeriod | None = Field(
        default=None, description="Send one summary per hour or day instead of one message per alert")
    timeout_seconds: float = Field(default=30.0, gt=0)


class EmailChannelConfig(_Channel):
    type: Literal["email"]
    host: str
    port: int | None = Field(default=None, description="Default: 465 for ssl, 587 for starttls, 25 for none")
    security: Literal["ssl", "starttls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    password_env: str = "NEWSWATCH_SMTP_PASSWORD"
    sender: str
    recipients: tuple[str, ...] = Field(min_length=1)
    ca_file: Path | None = Field(default=None, description="Trust this CA too (a private relay's certificate)")

    def smtp_port(self) -> int:
        return self.port or {"ssl": 465, "starttls": 587, "none": 25}[self.security]

    def secret(self, environ: Mapping[str, str] | None = None) -> str | None:
        environ = os.environ if environ is None else environ
        if self.password is not None:
            return self.password.get_secret_value()
        return environ.get(self.password_env) or None


class SlackChannelConfig(_Channel):
    type: Literal["slack"]
    webhook_url: SecretStr | None = None
    webhook_url_env: str = "NEWSWATCH_SLACK_WEBHOOK_URL"

    def secret(self, environ: Mapping[str, str] | None = None) -> str | None:
        environ = os.environ if environ is None else environ
        if self.webhook_url is not None:
            return self.webhook_url.get_secret_value()
        return environ.get(self.webhook_url_env) or None


ChannelConfig = Annotated[EmailChannelConfig | SlackChannelConfig, Field(discriminator="type")]


class NotifyConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    outbox: Path | None = Field(default=None, description="Outbox SQLite file (default: outbox.db beside the store)")
    poll_seconds: float = Field(default=1.0, gt=0)
    retry_base_seconds: float = Field(default=5.0, gt=0)
    retry_max_seconds: float = Field(default=900.0, gt=0)
    max_attempts: int = Field(default=200, ge=1, description="Then the delivery is marked failed")
    map_url: str = OSM_MAP_URL
    deliver_in_service: bool = Field(default=True, description="`newswatch run` sends too (a thread)")
